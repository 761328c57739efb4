--
-- PostgreSQL database dump
--

-- Dumped from database version 15.6
-- Dumped by pg_dump version 15.6

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: inventory; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA inventory;


--
-- Name: stock_level(integer); Type: FUNCTION; Schema: inventory; Owner: -
--

CREATE FUNCTION inventory.stock_level(p_item integer) RETURNS integer
    LANGUAGE sql STABLE
    AS $_$
  select coalesce(sum(delta), 0)::integer from inventory.movements where item_id = $1;
$_$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: items; Type: TABLE; Schema: inventory; Owner: -
--

CREATE TABLE inventory.items (
    id integer NOT NULL,
    code text NOT NULL,
    title text NOT NULL,
    CONSTRAINT items_code_check CHECK ((code ~ '^[A-Z0-9-]+$'::text))
);


--
-- Name: items_id_seq; Type: SEQUENCE; Schema: inventory; Owner: -
--

CREATE SEQUENCE inventory.items_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: items_id_seq; Type: SEQUENCE OWNED BY; Schema: inventory; Owner: -
--

ALTER SEQUENCE inventory.items_id_seq OWNED BY inventory.items.id;


--
-- Name: movements; Type: TABLE; Schema: inventory; Owner: -
--

CREATE TABLE inventory.movements (
    id bigint NOT NULL,
    item_id integer NOT NULL,
    delta integer NOT NULL,
    reason text DEFAULT 'adjustment'::text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: movements_id_seq; Type: SEQUENCE; Schema: inventory; Owner: -
--

ALTER TABLE inventory.movements ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME inventory.movements_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: items id; Type: DEFAULT; Schema: inventory; Owner: -
--

ALTER TABLE ONLY inventory.items ALTER COLUMN id SET DEFAULT nextval('inventory.items_id_seq'::regclass);


--
-- Name: items items_code_key; Type: CONSTRAINT; Schema: inventory; Owner: -
--

ALTER TABLE ONLY inventory.items
    ADD CONSTRAINT items_code_key UNIQUE (code);


--
-- Name: items items_pkey; Type: CONSTRAINT; Schema: inventory; Owner: -
--

ALTER TABLE ONLY inventory.items
    ADD CONSTRAINT items_pkey PRIMARY KEY (id);


--
-- Name: movements movements_pkey; Type: CONSTRAINT; Schema: inventory; Owner: -
--

ALTER TABLE ONLY inventory.movements
    ADD CONSTRAINT movements_pkey PRIMARY KEY (id);


--
-- Name: movements_item_id_idx; Type: INDEX; Schema: inventory; Owner: -
--

CREATE INDEX movements_item_id_idx ON inventory.movements USING btree (item_id);


--
-- Name: movements movements_item_id_fkey; Type: FK CONSTRAINT; Schema: inventory; Owner: -
--

ALTER TABLE ONLY inventory.movements
    ADD CONSTRAINT movements_item_id_fkey FOREIGN KEY (item_id) REFERENCES inventory.items(id);


--
-- PostgreSQL database dump complete
--

