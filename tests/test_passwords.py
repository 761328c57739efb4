"""No password in any output, whatever form the DSN takes.

A property test generates passwords full of the characters that break naive
redaction (``@ : / # ? % ' " \\ =`` and spaces) and runs failing connects,
usage errors and fleets in-process through click's CliRunner, for every DSN
form: a URL with the password raw or percent-encoded, key=value with quotes
and escapes, PGPASSWORD.  A few subprocess cases cover the real server's
refusals (passfile, service file) and the library's exceptions and reprs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storedb
from storedb._secrets import passwords_in, redact, url_problem
from storedb.cli import main
from tests.helpers import PASSWORD_USER, run_cli

CLOSED = "127.0.0.1"  # port 1 of localhost refuses at once: every connect fails fast
PASSWORDS = st.text(alphabet=st.sampled_from(list("aZ9@:/#?%'\"\\= &;,$")), min_size=3,
                    max_size=16).map(lambda s: f"Zq9{s}")  # Zq9: not a word of any message


def dsn_forms(password: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Every way of handing a password to storedb: name -> (dsn, environment)."""
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "url-raw": (f"postgresql://u:{password}@{CLOSED}:1/db", {}),
        "url-encoded": (f"postgresql://u:{quote(password, safe='')}@{CLOSED}:1/db", {}),
        "key-value": (f"host={CLOSED} port=1 user=u password='{escaped}' dbname=db", {}),
        "pgpassword": (f"host={CLOSED} port=1 user=u dbname=db", {"PGPASSWORD": password}),
    }


def invoke(args: list[str], env: dict[str, str]) -> str:
    logging.getLogger("storedb").handlers.clear()  # log to this run's stderr
    result = CliRunner().invoke(main, args, env={"DATABASE_URL": None, **env})
    assert result.exit_code in (1, 2), (args, result.output, result.exception)
    return result.stdout + result.stderr


def leaks(password: str, out: str) -> bool:
    return any(form in out for form in (password, quote(password, safe=""),
                                        json.dumps(password)[1:-1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=PASSWORDS)
def test_no_password_in_any_output(password: str, tmp_path_factory) -> None:
    sql = tmp_path_factory.mktemp("sql")
    (sql / "schema").mkdir(exist_ok=True)
    for name, (dsn, env) in dsn_forms(password).items():
        runs = {
            "connect": ["status", "--dir", str(sql), "--dsn", dsn],
            "connect-json": ["status", "--json", "--dir", str(sql), "--dsn", dsn],
            "positional": ["migrate", dsn],
            "positional-json": ["migrate", "--json", dsn],
            "fleet": ["migrate", "--dir", str(sql), "--dsn", dsn, "--dsn", dsn],
            "fleet-json": ["migrate", "--json", "--dir", str(sql), "--dsn", dsn, "--dsn", dsn],
        }
        for run, args in runs.items():
            out = invoke(args, env)
            assert not leaks(password, out), (name, run, out)


def test_unencoded_at_gets_a_hint_not_a_misleading_one() -> None:
    out = invoke(["status", "--dsn", f"postgresql://u:Wr@ngSecret@{CLOSED}:1/db"], {})
    assert "unencoded '@'" in out and "%40" in out
    assert "is the server running" not in out
    assert "Wr@ngSecret" not in out and "ngSecret" not in out
    payload = json.loads(CliRunner().invoke(
        main, ["status", "--json", "--dsn", f"postgresql://u:Wr@ngSecret@{CLOSED}:1/db"]).stdout)
    assert "unencoded '@'" in payload["error"]["message"]
    assert "ngSecret" not in json.dumps(payload)


def test_positional_dsn_is_hidden_and_explained() -> None:
    out = invoke(["migrate", "postgresql://u:Top-Secret-1@db.example/x"], {})
    assert "Top-Secret-1" not in out
    assert "unexpected extra argument" in out and "--dsn" in out


def test_url_problems_and_readings() -> None:
    assert url_problem("postgresql://u:a%40b@h/db") is None
    assert url_problem("postgresql://u@h/db?options=-cx%3Dy") is None
    assert url_problem("postgresql://u:pw@/db?host=/tmp&port=5") is None
    assert "'@'" in (url_problem("postgresql://u:a@b@h/db") or "")
    assert "'/'" in (url_problem("postgresql://u:a/b@h/db") or "")
    assert {"a@b", "b"} <= passwords_in("postgresql://u:a@b@h/db") | {"b"}
    assert "it's \\ x" in passwords_in("host=h password='it\\'s \\\\ x'")
    assert redact("postgresql://u:a@b@h/db") == "postgresql://u:***@h/db"


def test_library_exceptions_logs_and_reprs_hide_it(caplog) -> None:
    secret = "Lib/Secret@99#?"
    dsn = f"host={CLOSED} port=1 user=u password='{secret}'"
    with pytest.raises(storedb.Error) as info:
        storedb.status(dsn)
    assert secret not in str(info.value) and secret not in repr(info.value)
    from storedb.runner import migrate_many

    with caplog.at_level(logging.INFO, logger="storedb"):
        logging.getLogger("storedb").info("connecting to %s", dsn)
        result = migrate_many([dsn, f"postgresql://u:{quote(secret, safe='')}@{CLOSED}:1/x"])
    assert not result.ok
    assert secret not in repr(result) and secret not in json.dumps(result.to_json())
    assert secret not in caplog.text and "password=***" in caplog.text


@pytest.mark.parametrize("form", ["passfile", "service", "pgpassword", "url"])
def test_real_refusals_through_the_cli(form: str, pg_server, tmp_path: Path) -> None:
    """The server refuses a wrong password given every way libpq takes one."""
    secret = "Wrong:Pass@word/42"
    host, port = pg_server.host, pg_server.port
    env: dict[str, str] = {}
    dsn = f"host={host} port={port} user={PASSWORD_USER} dbname=postgres"
    if form == "passfile":
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"*:*:*:{PASSWORD_USER}:{secret.replace(':', chr(92) + ':')}\n")
        passfile.chmod(0o600)
        env["PGPASSFILE"] = str(passfile)
    elif form == "service":
        services = tmp_path / "services.conf"
        services.write_text(f"[shop]\nhost={host}\nport={port}\nuser={PASSWORD_USER}\n"
                            f"dbname=postgres\npassword={secret}\n")
        env["PGSERVICEFILE"] = str(services)
        dsn = "service=shop"
    elif form == "pgpassword":
        env["PGPASSWORD"] = secret
    else:
        dsn = (f"postgresql://{PASSWORD_USER}:{quote(secret, safe='')}@/postgres"
               f"?host={host}&port={port}")
    for extra in ([], ["--json"]):
        result = run_cli("status", *extra, "--dsn", dsn, env=env, cwd=tmp_path)
        assert result.code == 1, result.out + result.err
        assert "password authentication failed" in result.out + result.err
        assert secret not in result.out + result.err
        assert quote(secret, safe="") not in result.out + result.err
    assert os.environ.get("PGPASSWORD") != secret
