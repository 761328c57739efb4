"""``storedb lint``: catch dangerous migrations before they ship.

Three layers, one result::

    _rules     the rule table: id, severity, what, why, safe rewrite
    _static    locking and rewrite rules, read from pglast's parse tree
    _tenancy   what keeps stores apart (RLS, keys, indexes, definer functions, grants)
    _model     the schema the earlier files leave, and the current file's state
    _suppress  -- storedb:lint-ignore RULE reason, and lint-baseline.txt
    _measure   --measure: run each pending file, roll it back, report real locks
    _run       lint(): choose the files and put it together

The module itself is callable (``storedb.lint(...)`` is :func:`lint` even
after ``import storedb.lint`` put this package where the function was).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._result import Finding, LintResult, Lock, Measurement
from ._rules import RULES, Rule
from ._run import lint

__all__ = ["RULES", "Finding", "LintResult", "Lock", "Measurement", "Rule", "lint"]


class _CallableModule(types.ModuleType):
    """``import storedb.lint`` sets ``storedb.lint`` to this package: keep it callable."""

    def __call__(self, *args: Any, **kwargs: Any) -> LintResult:
        return lint(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
