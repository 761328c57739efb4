"""The mutants of a Python module: classic small faults, each a complete mutated source.

Operators (the ``op`` in a mutant's id):

``cmp``      a comparison flipped (``==``/``!=``, ``<``/``>=``, ``in``/``not in``, ...) or
             moved across its boundary (``<``/``<=``, ``>``/``>=``)
``negate``   the condition of an ``if``/``while``/conditional expression/comprehension negated
``not``      a ``not`` dropped
``andor``    ``and`` and ``or`` swapped
``num``      an integer constant ``n`` becomes ``n + 1``
``bool``     ``True``/``False`` swapped
``str``      a string (or bytes) constant wrapped in ``XX``: a message or a value changed
``arith``    ``+`` and ``-`` swapped
``call``     ``max``/``min`` and ``any``/``all`` swapped
``del``      a statement inside a function replaced by ``pass`` (a ``raise`` included)
``return``   ``return X`` becomes ``return None``
``loop``     ``break`` and ``continue`` swapped
``regex``    a regular expression weakened: an alternative, an anchor, a ``\\b``, a lookahead, a
             character of a class dropped, a quantifier changed (``+``/``*``, ``?`` dropped,
             lazy made greedy, ``{m}`` made ``{m-1,m}``)
``flag``     one flag of a regular expression dropped

A mutant's id is ``file:scope:op:n`` (the n-th mutant of that operator in that function or
module-level name), so it survives edits elsewhere in the file; its description says what
changed and is checked against the list of equivalent mutants, so a stale entry is noticed.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

Path_ = list[tuple[str, int | None]]
Apply = Callable[[ast.AST], ast.AST | None]  # mutate the node in place, or return a new one


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # path relative to the repository
    line: int
    op: str
    description: str
    source: str  # the whole mutated module


NEGATE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
          ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
          ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
SWAP_CALLS = {"max": "min", "min": "max", "any": "all", "all": "any"}
RE_FUNCTIONS = {"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall"}
SKIP_STATEMENTS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                   ast.ImportFrom, ast.Pass, ast.Return, ast.Global, ast.Nonlocal)


def short(node: ast.AST, width: int = 70) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _is_docstring(body: list[ast.stmt], index: int) -> bool:
    node = body[index]
    return (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _regex_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
            and node.func.attr in RE_FUNCTIONS and bool(node.args)
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str | bytes))


def regex_variants(pattern: str) -> Iterator[tuple[str, str]]:
    """``(label, weakened pattern)`` for each regex mutation of ``pattern``."""
    frames: list[dict[str, object]] = [{"open": None, "start": 0, "bars": [], "look": False}]

    def at(i: int) -> str:  # where, for the description: the pattern around position i
        return " ".join(pattern[max(0, i - 14):i + 14].split())

    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if pattern[i + 1:i + 2] == "b":
                yield f"drop \\b in {at(i)!r}", pattern[:i] + pattern[i + 2:]
            i += 2
        elif c == "[":
            j = i + 1 + (pattern[i + 1:i + 2] == "^")
            items: list[tuple[int, int]] = []
            first = True
            while j < len(pattern) and (pattern[j] != "]" or first):
                first = False
                size = 2 if pattern[j] == "\\" else 1
                if pattern[j + size:j + size + 1] == "-" and pattern[j + size + 1] != "]":
                    size += 1 + (2 if pattern[j + size + 1] == "\\" else 1)
                items.append((j, j + size))
                j += size
            if len(items) > 1:
                for start, end in items:
                    yield (f"drop {pattern[start:end]!r} from {pattern[i:j + 1]}",
                           pattern[:start] + pattern[end:])
            i = j + 1
        elif c == "(":
            prefix = re.match(r"\(\?(?::|=|!|<=|<!|P<\w+>)?", pattern[i:])
            start = i + (len(prefix.group()) if prefix else 1)
            look = bool(prefix) and prefix.group() in ("(?=", "(?!", "(?<=", "(?<!")
            frames.append({"open": i, "start": start, "bars": [], "look": look})
            i = start
        elif c == "|":
            frames[-1]["bars"].append(i)  # type: ignore[attr-defined]
            i += 1
        elif c == ")":
            frame = frames.pop()
            yield from _alternatives(pattern, frame, i)
            if frame["look"]:
                yield (f"drop {pattern[frame['open']:i + 1]}",  # type: ignore[misc]
                       pattern[:frame["open"]] + pattern[i + 1:])  # type: ignore[misc]
            i += 1
        elif c in "^$":
            yield f"drop {c} in {at(i)!r}", pattern[:i] + pattern[i + 1:]
            i += 1
        elif c in "*+?":
            swap = {"+": "*", "*": "+", "?": ""}[c]
            yield f"{c} -> {swap or 'once'} in {at(i)!r}", pattern[:i] + swap + pattern[i + 1:]
            if pattern[i + 1:i + 2] == "?":
                yield f"lazy {c}? -> greedy in {at(i)!r}", pattern[:i + 1] + pattern[i + 2:]
                i += 1
            i += 1
        elif c == "{" and (m := re.match(r"\{(\d+)(,?)(\d*)\}", pattern[i:])):
            low = int(m.group(1))
            if low > 0:
                upper = m.group(3) if m.group(2) else m.group(1)
                new = f"{{{low - 1},{upper}}}"
                yield (f"{m.group()} -> {new} in {at(i)!r}",
                       pattern[:i] + new + pattern[i + m.end():])
            i += m.end()
        else:
            i += 1
    yield from _alternatives(pattern, frames[0], len(pattern))


def _alternatives(pattern: str, frame: dict[str, object], end: int) -> Iterator[tuple[str, str]]:
    bars: list[int] = frame["bars"]  # type: ignore[assignment]
    starts = [frame["start"], *(b + 1 for b in bars)]
    ends = [*bars, end]
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        assert isinstance(s, int)
        cut = (s, e + 1) if k < len(bars) else (bars[-1], e) if bars else None
        if cut is None:
            continue
        label = " ".join(pattern[s:e].split())
        yield f"drop alternative {label!r}", pattern[:cut[0]] + pattern[cut[1]:]


def _flag_leaves(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flag_leaves(node.left) + _flag_leaves(node.right)
    return [node]


def _sites(tree: ast.Module) -> Iterator[tuple[str, ast.AST, Path_, str, str, Apply]]:
    """Every mutation site: ``(scope, node, path, op, description, apply)``."""

    def walk(node: ast.AST, path: Path_, scope: str, skip_str: bool, in_class: bool = False
             ) -> Iterator[tuple[str, ast.AST, Path_, str, str, Apply]]:
        yield from _node_sites(node, path, scope, skip_str, in_class)
        for field, value in ast.iter_fields(node):
            if field in ("decorator_list", "annotation", "returns", "type_comment"):
                continue
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if not isinstance(child, ast.AST):
                    continue
                if isinstance(node, ast.Module) and isinstance(child, (ast.Import,
                                                                       ast.ImportFrom)):
                    continue
                if field == "body" and _is_docstring(children, index):  # type: ignore[arg-type]
                    continue
                inner = scope
                if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                    inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
                elif isinstance(node, ast.Module) and isinstance(child, (ast.Assign,
                                                                         ast.AnnAssign)):
                    target = child.targets[0] if isinstance(child, ast.Assign) else child.target
                    inner = ast.unparse(target)
                child_path = [*path, (field, index if isinstance(value, list) else None)]
                no_str = skip_str or (_regex_call(node) and field == "args" and index == 0) or (
                    isinstance(node, ast.Subscript) and ast.unparse(node.value) == "Literal")
                yield from walk(child, child_path, inner, no_str, isinstance(node, ast.ClassDef))

    yield from walk(tree, [], "<module>", False)


def _node_sites(node: ast.AST, path: Path_, scope: str, skip_str: bool, in_class: bool
                ) -> Iterator[tuple[str, ast.AST, Path_, str, str, Apply]]:
    def site(op: str, description: str, apply: Apply
             ) -> tuple[str, ast.AST, Path_, str, str, Apply]:
        return scope, node, path, op, description, apply

    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            for table in (NEGATE, BOUNDARY):
                if type(op) in table:
                    new_op = table[type(op)]

                    def flip(n: ast.AST, k: int = k, new: type = new_op) -> None:
                        n.ops[k] = new()  # type: ignore[attr-defined]
                    mutated = copy.deepcopy(node)
                    flip(mutated)
                    yield site("cmp", f"{short(node)} -> {short(mutated)}", flip)
    if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
        test = node.test
        new_test: ast.expr = (test.operand if isinstance(test, ast.UnaryOp)
                              and isinstance(test.op, ast.Not) else ast.UnaryOp(ast.Not(), test))

        def negate(n: ast.AST, new_test: ast.expr = new_test) -> None:
            n.test = copy.deepcopy(new_test)  # type: ignore[attr-defined]
        yield site("negate", f"{short(test)} -> {short(new_test)}", negate)
    if isinstance(node, ast.comprehension):
        for k, cond in enumerate(node.ifs):
            def negate_if(n: ast.AST, k: int = k) -> None:
                n.ifs[k] = ast.UnaryOp(ast.Not(), n.ifs[k])  # type: ignore[attr-defined]
            yield site("negate", f"if {short(cond)} -> if not ({short(cond)})", negate_if)
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
            and not _is_test(path)):
        yield site("not", f"{short(node)} -> {short(node.operand)}", lambda n: n.operand)  # type: ignore[attr-defined]
    if isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        mutated = copy.deepcopy(node)
        mutated.op = other()
        yield site("andor", f"{short(node)} -> {short(mutated)}",
                   lambda n, other=other: setattr(n, "op", other()))  # type: ignore[misc]
    if isinstance(node, ast.Constant) and not skip_str:
        value = node.value
        if isinstance(value, bool):
            yield site("bool", f"{value} -> {not value}",
                       lambda n: setattr(n, "value", not n.value))  # type: ignore[attr-defined]
        elif isinstance(value, int):
            yield site("num", f"{value} -> {value + 1}",
                       lambda n: setattr(n, "value", n.value + 1))  # type: ignore[attr-defined]
        elif isinstance(value, str | bytes):
            wrap = "XX" if isinstance(value, str) else b"XX"
            yield site("str", f"{value!r:.60} -> {wrap + value + wrap!r:.64}",  # type: ignore[operator]
                       lambda n, w=wrap: setattr(n, "value", w + n.value + w))  # type: ignore[attr-defined,misc]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        other_op = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
        mutated = copy.deepcopy(node)
        mutated.op = other_op()
        yield site("arith", f"{short(node)} -> {short(mutated)}",
                   lambda n, o=other_op: setattr(n, "op", o()))  # type: ignore[misc]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in SWAP_CALLS):
        new_name = SWAP_CALLS[node.func.id]
        yield site("call", f"{node.func.id}(...) -> {new_name}(...)",
                   lambda n, name=new_name: setattr(n.func, "id", name))  # type: ignore[attr-defined,misc]
    if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        yield site("return", f"return {short(node.value)} -> return None",
                   lambda n: setattr(n, "value", ast.Constant(None)))
    if isinstance(node, (ast.Break, ast.Continue)):
        yield site("loop", "break <-> continue",
                   lambda n: ast.Continue() if isinstance(n, ast.Break) else ast.Break())
    if (isinstance(node, ast.stmt) and not isinstance(node, SKIP_STATEMENTS) and not in_class
            and not _module_level(path)):
        yield site("del", f"delete: {short(node, 60)}", lambda n: ast.Pass())
    if _regex_call(node):
        const = node.args[0]  # type: ignore[attr-defined]
        raw = const.value
        text = raw if isinstance(raw, str) else raw.decode("latin-1")
        flags_node = node.args[1] if len(node.args) > 1 and node.func.attr != "sub" else None  # type: ignore[attr-defined]
        for label, new in regex_variants(text):
            if not _compiles(new):
                continue
            value = new if isinstance(raw, str) else new.encode("latin-1")
            yield site("regex", label,
                       lambda n, v=value: setattr(n.args[0], "value", v))  # type: ignore[attr-defined,misc]
        if flags_node is not None:
            leaves = _flag_leaves(flags_node)
            for k, leaf in enumerate(leaves):
                rest = [copy.deepcopy(x) for j, x in enumerate(leaves) if j != k]

                def drop_flag(n: ast.AST, rest: list[ast.expr] = rest) -> None:
                    if not rest:
                        del n.args[1]  # type: ignore[attr-defined]
                        return
                    expr = rest[0]
                    for more in rest[1:]:
                        expr = ast.BinOp(expr, ast.BitOr(), more)
                    n.args[1] = expr  # type: ignore[attr-defined]
                yield site("flag", f"drop {short(leaf)}", drop_flag)


def _compiles(pattern: str) -> bool:
    for flags in (0, re.VERBOSE):
        try:
            re.compile(pattern, flags)
            return True
        except re.error:
            pass
    return False


def _is_test(path: Path_) -> bool:
    return bool(path) and path[-1][0] in ("test", "ifs")


def _module_level(path: Path_) -> bool:
    return len(path) == 1


def _locate(tree: ast.AST, path: Path_) -> tuple[ast.AST, str, int | None, ast.AST]:
    parent: ast.AST = tree
    node: ast.AST = tree
    for field, index in path:
        parent = node
        value = getattr(node, field)
        node = value[index] if index is not None else value
    field, index = path[-1]
    return parent, field, index, node


def mutants(path: Path, relative: str) -> list[Mutant]:
    """Every mutant of the module at ``path`` (``relative`` names it in ids and reports)."""
    source = path.read_text()
    tree = ast.parse(source)
    seen = {ast.unparse(tree)}
    counts: dict[tuple[str, str], int] = {}
    found = []
    for scope, node, node_path, op, description, apply in list(_sites(tree)):
        counts[(scope, op)] = counts.get((scope, op), 0) + 1
        mutated_tree = copy.deepcopy(tree)
        parent, field, index, target = _locate(mutated_tree, node_path)
        replacement = apply(target)
        if replacement is not None:
            if index is None:
                setattr(parent, field, replacement)
            else:
                getattr(parent, field)[index] = replacement
        ast.fix_missing_locations(mutated_tree)
        new_source = ast.unparse(mutated_tree)
        if new_source in seen:
            continue  # the same program as the original or as an earlier mutant
        seen.add(new_source)
        compile(new_source, relative, "exec")
        found.append(Mutant(f"{Path(relative).name}:{scope}:{op}:{counts[(scope, op)]}",
                            relative, getattr(node, "lineno", 0), op, description, new_source))
    return found
