"""A complete storedb application: migrate as the owner at start-up, serve as the app role.

Two DSNs, two roles (see README, "Two DSNs"):

* ``STOREDB_MIGRATE_URL``: the schema's owner. Used once, at start-up, to
  bring the schema up to date (one query when it already is).
* ``DATABASE_URL``: a login role in ``storedb_app`` (``storedb app-role web``).
  Every request runs as it, so row level security keeps stores apart even if
  a query forgets its ``where store_id = ...``.

Only the standard library (wsgiref) and psycopg_pool: run it with
``python examples/two_dsn_app.py`` and try::

    curl -X POST localhost:8000/stores -d '{"subdomain": "acme", "name": "Acme"}'
    curl -X POST localhost:8000/stores/acme/products -d '{"title": "Mug"}'
    curl localhost:8000/stores/acme/products
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import make_server

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

import storedb

Handler = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STORE = re.compile(r"^/stores/([a-z0-9-]+)/products$")


def start_up(migrate_url: str, app_url: str) -> ConnectionPool:
    """Migrate as the owner, then open the pool the requests use (as the app role)."""
    storedb.migrate(migrate_url)  # raises, and the process stops, if it cannot
    return ConnectionPool(app_url, min_size=1, max_size=4, open=True,
                          kwargs={"row_factory": dict_row})


def make_app(pool: ConnectionPool) -> Handler:
    """The WSGI application: stores and their products, one store per request."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def reply(status: str, body: object) -> list[bytes]:
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(body, default=str).encode()]

        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            data = json.loads(environ["wsgi.input"].read(size) or b"{}") if size else {}
            if method == "POST" and path == "/stores":
                store = storedb.create_tenant(pool, subdomain=data["subdomain"],
                                              name=data["name"])
                return reply("201 Created", {"id": store.id, "subdomain": store.subdomain})
            match = _STORE.match(path)
            if match is None:
                return reply("404 Not Found", {"error": "no such route"})
            store = storedb.get_tenant(pool, subdomain=match.group(1))
            if store is None:
                return reply("404 Not Found", {"error": "no such store"})
            with storedb.tenant_scope(pool, store.id) as conn:
                if method == "POST":  # store_id defaults to the scope's store
                    row = conn.execute("insert into products (title) values (%s) "
                                       "returning id, title, status::text", (data["title"],)
                                       ).fetchone()
                    return reply("201 Created", row)
                rows = conn.execute("select id, title, status::text from products "
                                    "order by created_at").fetchall()  # RLS: this store only
                return reply("200 OK", rows)
        except (KeyError, ValueError) as exc:
            return reply("400 Bad Request", {"error": f"bad request: {exc}"})
        except storedb.SubdomainTaken as exc:
            return reply("409 Conflict", {"error": str(exc)})
        except storedb.Error as exc:  # IsolationError, InvalidSubdomain, ...
            return reply("422 Unprocessable Entity", {"error": str(exc)})

    return app


def main() -> None:
    pool = start_up(os.environ["STOREDB_MIGRATE_URL"], os.environ["DATABASE_URL"])
    port = int(os.environ.get("PORT", "8000"))
    with pool, make_server("", port, make_app(pool)) as server:
        print(f"serving on http://localhost:{port}")
        server.serve_forever()


if __name__ == "__main__":
    main()
