"""The reproduction tables' shared pieces: mean ± std cells, accuracy-under-shift tables and
plots, and writing ``table.md`` / ``results.json`` / a figure to an output directory."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Sequence

import numpy as np


def mean_std(values: Sequence[float]) -> str:
  """``"m ± s"`` with one decimal (population std over seeds)."""
  return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


def shift_columns(row: dict[str, Any], shifts: Sequence[int]) -> str:
  """The ``| shift s |`` cells of a row whose ``shift_acc`` maps shift -> per-seed values."""
  return " | ".join(mean_std(row["shift_acc"][s]) for s in shifts)


def plot_shift_curves(rows: list[dict[str, Any]], shifts: Sequence[int], path: pathlib.Path,
                      *, xlabel: str, title: str) -> None:
  """Mean accuracy against shift, one line per row (``row["label"]``)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  colors = plt.get_cmap("tab20").colors  # more rows than the default 10-colour cycle
  for i, r in enumerate(rows):
    means = [np.mean(r["shift_acc"][s]) for s in shifts]
    stds = [np.std(r["shift_acc"][s]) for s in shifts]
    ax.errorbar(list(shifts), means, yerr=stds, marker="os^D"[i % 4], capsize=2,
                color=colors[(2 * i) % 20 + (i >= 10)], label=r["label"])
  ax.set_xlabel(xlabel)
  ax.set_ylabel("test accuracy (%)")
  ax.set_xticks(list(shifts))
  ax.set_title(title)
  ax.legend(fontsize=7, loc="lower left")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def write_report(outdir: pathlib.Path, table: str, payload: dict[str, Any]) -> None:
  """Writes ``table.md`` and ``results.json`` (``payload``) to ``outdir`` (created)."""
  outdir.mkdir(parents=True, exist_ok=True)
  (outdir / "table.md").write_text(table)
  (outdir / "results.json").write_text(json.dumps(payload, indent=1))
