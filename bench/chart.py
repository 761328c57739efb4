"""bench/chart.png: growth (ms per file vs file count) and every ratio against its target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _ratios(r: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(label, value, target, lower is better)."""
    out = []
    for label, a in (r.get("apply") or {}).items():
        out.append((f"apply lib/psql\n{label.split(' (')[0]}", a["library_vs_psql"], 1.05, True))
    s = r.get("stampede")
    if s:
        out.append(("stampede 16/1", s["ratio"], 1.5, True))
    d = r.get("tenant_dao")
    if d:
        out.append(("create_tenant\nvs pgbench", d["ratio"], 0.8, False))
    for name, q in ((r.get("queries") or {}).get("per_query") or {}).items():
        out.append((f"RLS/explicit p50\n{name}", q["ratio_p50"], 1.1, True))
    return out


def draw(r: dict[str, Any], path: Path) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5))
    g = (r.get("growth") or {}).get("sizes") or {}
    if g:
        ns = sorted(int(n) for n in g)
        ax1.plot(ns, [g[str(n)]["migrate_ms_per_file"] for n in ns], "o-",
                 label="migrate from empty (avg)")
        ax1.plot(ns[1:], [g[str(n)]["migrate_marginal_ms_per_file"] for n in ns[1:]], "o--",
                 label="migrate (marginal)")
        ax1.plot(ns, [g[str(n)]["status_ms_per_file"] for n in ns], "s-", label="status (avg)")
        ax1.plot(ns[1:], [g[str(n)]["status_marginal_ms_per_file"] for n in ns[1:]], "s--",
                 label="status (marginal)")
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set_xlabel("files")
        ax1.set_ylabel("ms per file")
        ax1.set_title("Growth: cost per file (should stay flat)")
        ax1.legend(fontsize=8)
        ax1.grid(True, which="both", alpha=0.3)
    ratios = _ratios(r)
    if ratios:
        labels = [x[0] for x in ratios]
        values = [x[1] for x in ratios]
        colors = ["tab:green" if (v <= t if low else v >= t) else "tab:red"
                  for _, v, t, low in ratios]
        ax2.barh(range(len(ratios)), values, color=colors)
        for k, (_, _, t, _) in enumerate(ratios):
            ax2.plot([t, t], [k - 0.4, k + 0.4], "k-", lw=2)
        ax2.set_yticks(range(len(ratios)), labels, fontsize=7)
        ax2.invert_yaxis()
        ax2.set_xlabel("ratio (black tick = target; green met, red missed)")
        ax2.set_title("Ratios against same-run baselines")
        ax2.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
