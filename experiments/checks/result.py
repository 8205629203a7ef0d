"""The record a theory check returns, and how it is written to disk."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from typing import Any


@dataclasses.dataclass(frozen=True)
class CheckResult:
  """Outcome of one theory check.

  Attributes:
    name: short identifier, e.g. ``"ntk_width_convergence"``.
    claim: the theorem being tested and its reference (paper, section).
    prediction: what the theorem predicts, as a human-readable statement with numbers
      (e.g. ``"error ~ width^-0.5"``).
    measured: the measured quantity in the same terms (e.g. ``"slope -0.48 [-0.55, -0.41]"``).
    tolerance: the pass criterion, stated (e.g. ``"|slope + 0.5| <= 0.15"``).
    passed: whether the measurement meets the prediction within the tolerance.
    figure: path of the PNG the check rendered, relative to the report directory.
    values: the raw numbers behind the check (JSON-serialisable), for the JSON file.
  """

  name: str
  claim: str
  prediction: str
  measured: str
  tolerance: str
  passed: bool
  figure: str | None = None
  values: dict[str, Any] = dataclasses.field(default_factory=dict)

  def to_json(self) -> dict[str, Any]:
    return _jsonable(dataclasses.asdict(self))


def _jsonable(value: Any) -> Any:
  """Converts numpy/jax scalars and arrays (and non-finite floats) to plain JSON values."""
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if hasattr(value, "tolist"):
    return _jsonable(value.tolist())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  return value


def write_result(result: CheckResult, outdir: pathlib.Path) -> pathlib.Path:
  """Writes ``<outdir>/<name>.json`` and returns its path."""
  outdir.mkdir(parents=True, exist_ok=True)
  path = outdir / f"{result.name}.json"
  path.write_text(json.dumps(result.to_json(), indent=2) + "\n")
  return path


def save_figure(fig, outdir: pathlib.Path, name: str) -> str:
  """Saves a matplotlib figure as ``<outdir>/<name>.png``, closes it, returns the file name."""
  import matplotlib.pyplot as plt  # the caller chose the Agg backend when it made ``fig``

  outdir.mkdir(parents=True, exist_ok=True)
  fig.tight_layout()
  fig.savefig(outdir / f"{name}.png", dpi=90)
  plt.close(fig)
  return f"{name}.png"
