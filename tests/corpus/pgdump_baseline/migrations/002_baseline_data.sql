--
-- PostgreSQL database dump (pg_dump --data-only --inserts)
--

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET session_replication_role = replica;

--
-- Data for Name: items; Type: TABLE DATA; Schema: inventory; Owner: -
--

INSERT INTO inventory.items VALUES (1, 'BOLT-M8', 'Bolt M8 × 40 mm');
INSERT INTO inventory.items VALUES (2, 'NUT-M8', 'Nut M8; zinc-plated');
INSERT INTO inventory.items VALUES (3, 'WASHER-8', 'Washer ''A'' 8.4 mm -- DIN 125');


--
-- Data for Name: movements; Type: TABLE DATA; Schema: inventory; Owner: -
--

INSERT INTO inventory.movements OVERRIDING SYSTEM VALUE VALUES (1, 1, 500, 'initial stock', '2024-01-02 09:00:00+00');
INSERT INTO inventory.movements OVERRIDING SYSTEM VALUE VALUES (2, 2, 450, 'initial stock', '2024-01-02 09:00:00+00');
INSERT INTO inventory.movements OVERRIDING SYSTEM VALUE VALUES (3, 1, -20, E'order #1001\tpicked', '2024-01-05 14:30:00+00');


--
-- Name: items_id_seq; Type: SEQUENCE SET; Schema: inventory; Owner: -
--

SELECT pg_catalog.setval('inventory.items_id_seq', 3, true);


--
-- Name: movements_id_seq; Type: SEQUENCE SET; Schema: inventory; Owner: -
--

SELECT pg_catalog.setval('inventory.movements_id_seq', 3, true);


--
-- PostgreSQL database dump complete
--

