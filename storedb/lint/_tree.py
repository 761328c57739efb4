"""PostgreSQL's parse tree, read from pglast's JSON output.

pglast builds a Python object per node and validates every attribute, which
is most of the cost of a lint (0.56 s for 200 files); its JSON output of the
same tree costs a quarter of that.  :class:`Node` gives that JSON the same
attribute access the rules would use on pglast's objects: ``node.relation.
relname``, ``cmd.def_``; an absent field (libpg_query omits false, zero and
empty ones) reads as None, and enum fields are their names
(``"AT_AddColumn"``).  Locations are byte offsets in the UTF-8 text.
"""

from __future__ import annotations

import json
from typing import Any


class Node:
    """One node: ``tag`` is its type name (``IndexStmt``), '' for a plain struct."""

    __slots__ = ("__dict__", "_data", "tag")

    def __init__(self, tag: str, data: dict[str, Any]) -> None:
        self.tag = tag
        self._data = data

    def __getattr__(self, name: str) -> Any:
        """Called once per field: the wrapped value is then kept on the instance."""
        if name.startswith("__"):
            raise AttributeError(name)
        value = wrap(self._data.get(name[:-1] if name.endswith("_") else name))
        self.__dict__[name] = value
        return value

    def raw(self) -> dict[str, Any]:
        return self._data

    def __repr__(self) -> str:
        return f"<{self.tag or 'struct'} {self._data!r}>"


def wrap(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key[:1].isupper() and isinstance(inner, dict):
                return Node(key, inner)
        return Node("", value)
    if isinstance(value, list):
        return tuple(wrap(v) for v in value)
    return value


def is_(value: Any, kind: str) -> bool:
    return isinstance(value, Node) and value.tag == kind


def statements(text: str) -> list[Node]:
    """Every statement's tree, in order (the same statements the runner's split finds)."""
    from pglast.parser import parse_sql_json

    data = json.loads(parse_sql_json(text))
    return [wrap(s["stmt"]) for s in data.get("stmts", ())]


def calls(value: Any) -> list[str]:
    """Names of every function called anywhere under a node (raw JSON walk)."""
    found: list[str] = []
    stack = [{value.tag: value.raw()} if isinstance(value, Node) else value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            call = item.get("FuncCall")
            if isinstance(call, dict):
                names = call.get("funcname") or []
                if names:
                    found.append(str(names[-1].get("String", {}).get("sval", "")))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
