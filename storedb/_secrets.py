"""Keeping passwords out of every output: messages, JSON, fleet lines, logs.

Two layers, because a pattern alone cannot know where a password ends (libpq
accepts ``postgresql://u:Wr@ngSecret@host/db`` and reads it its own way):

* :func:`redact` hides whatever *looks* like a password in a DSN: the user
  info of a URL up to its last ``@``, ``password=...`` (quoted or not);
* every password storedb has seen — in a DSN it was given (:func:`remember`),
  in ``PGPASSWORD`` — is also hidden verbatim wherever it appears, in the
  spellings an output may give it (percent-encoded, JSON- or repr-escaped,
  conninfo-quoted).  Passwords shorter than :data:`MIN_SECRET` characters are
  left to the patterns: hiding every "ab" in a message would garble it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from urllib.parse import quote, unquote

#: Shorter passwords are hidden only where a DSN pattern finds them.
MIN_SECRET = 4

_lock = threading.Lock()
_secrets: set[str] = set()

# A URL's user info runs to the LAST '@' of the token: '\S*' backtracks to it.
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?(?:\+\w+)?://[^:/@\s]*:)(\S*)(@)")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)
_URL = re.compile(r"^\s*postgres(?:ql)?(?:\+\w+)?://", re.IGNORECASE)  # +driver: SQLAlchemy


def _spellings(secret: str) -> set[str]:
    """The forms a password may take in an output."""
    return {secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1],
            repr(secret)[1:-1], secret.replace("\\", "\\\\").replace("'", "\\'")}


def passwords_in(dsn: str) -> set[str]:
    """Every reading of the password(s) a DSN may carry, parsed or not."""
    found: set[str] = set()
    if _URL.match(dsn):
        rest = dsn.split("://", 1)[1]
        userinfo = rest[:rest.rfind("@")] if "@" in rest else ""
        if ":" in userinfo:
            raw = userinfo.split(":", 1)[1]
            found |= {raw, unquote(raw)}
            first = rest[:rest.find("@")]  # how libpq reads an unencoded '@'
            if ":" in first:
                found.add(unquote(first.split(":", 1)[1]))
    for match in _KV_PASSWORD.finditer(dsn):
        value = match.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:].removesuffix("'"))
        found.add(value)
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(dsn).get("password")
        if password:
            found.add(str(password))
    except Exception:  # malformed: the raw readings above are all there is
        pass
    return {p for p in found if p}


def remember(dsn: str) -> None:
    """Hide the password(s) of ``dsn`` from every later :func:`redact`."""
    secrets = {s for p in passwords_in(dsn) if len(p) >= MIN_SECRET for s in _spellings(p)}
    if secrets:
        with _lock:
            _secrets.update(secrets)


def redact(text: str) -> str:
    """Hide any password inside a DSN or a message that quotes one."""
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    text = _KV_PASSWORD.sub(r"\1***", text)
    with _lock:
        known = set(_secrets)
    env = os.environ.get("PGPASSWORD")
    if env and len(env) >= MIN_SECRET:
        known |= _spellings(env)
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def url_problem(dsn: str) -> str | None:
    """Why libpq would misread a URL's credentials, or None.

    libpq ends the user info at the first ``@`` or ``/``: an unencoded ``@`` in
    the password makes the rest of it part of the host name, an unencoded
    ``/`` makes the whole ``user:password`` the host and port.
    """
    if not _URL.match(dsn):
        return None
    rest = dsn.split("://", 1)[1]
    authority = re.split(r"[/?]", rest, maxsplit=1)[0]
    encode = ("percent-encode it in the URL (@ as %40, / as %2F, % as %25, # as %23, ? as "
              "%3F, : as %3A), or give key=value pairs ('host=... user=...') with the "
              "password in PGPASSWORD or a passfile")
    if authority.count("@") > 1:
        return f"the URL's password contains an unencoded '@': {encode}"
    if "@" not in authority and "@" in rest.split("?", 1)[0] and ":" in authority:
        return f"the URL's password seems to contain an unencoded '/': {encode}"
    return None


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record of storedb through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class RedactingStream:
    """A text stream that redacts what is written to it (the CLI's stdout and stderr)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text))  # type: ignore[attr-defined]
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)
