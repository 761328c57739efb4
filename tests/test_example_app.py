"""examples/two_dsn_app.py works as the README says: migrate as the owner, serve as the app role."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from tests.helpers import ROOT


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _load() -> Any:
    path = ROOT / "examples" / "two_dsn_app.py"
    spec = importlib.util.spec_from_file_location("two_dsn_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(owner_dsn: str, app_dsn: str) -> Iterator[str]:
    example = _load()
    pool = example.start_up(owner_dsn, app_dsn)
    server = make_server("127.0.0.1", 0, example.make_app(pool), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        pool.close()


def call(url: str, body: object = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_two_stores_stay_apart_through_the_example_app(served: str) -> None:
    assert call(f"{served}/stores", {"subdomain": "acme", "name": "Acme"})[0] == 201
    assert call(f"{served}/stores", {"subdomain": "bravo", "name": "Bravo"})[0] == 201
    assert call(f"{served}/stores", {"subdomain": "acme", "name": "Again"})[0] == 409
    status, product = call(f"{served}/stores/acme/products", {"title": "Mug"})
    assert status == 201 and product["title"] == "Mug" and product["status"] == "draft"
    assert call(f"{served}/stores/acme/products") == (200, [product])
    assert call(f"{served}/stores/bravo/products") == (200, [])  # RLS: not acme's
    assert call(f"{served}/stores/nope/products")[0] == 404


def test_the_example_refuses_to_serve_as_a_superuser(owner_dsn: str, migrated_db: Any) -> None:
    from tests.helpers import dsn_of

    example = _load()
    pool = example.start_up(owner_dsn, dsn_of(migrated_db))  # the superuser, by mistake
    try:
        app = example.make_app(pool)
        statuses: list[str] = []
        body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/stores/acme/products"},
                   lambda status, headers: statuses.append(status))
        assert statuses == ["422 Unprocessable Entity"]
        assert "superuser" in json.loads(b"".join(body))["error"]
    finally:
        pool.close()
