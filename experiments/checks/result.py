"""The record a theory check returns: named comparisons from which its verdict is derived.

A check's tolerance is data. Each :class:`Comparison` holds a measured value, what it is
compared with, the kind of comparison and the source of its tolerance (a fit's confidence
interval, a spread over seeds, a theorem's constant). :class:`CheckResult` derives both
``passed`` and the printed tolerance text from its comparisons, so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from typing import Any, Sequence

# kind -> (text template, predicate). ``v`` is the value, ``t`` the target, ``b`` the bound,
# ``lo``/``hi`` an interval's ends.
_KINDS = {
    "within": ("|{name} - {t:.4g}| <= {b:.4g}", lambda v, t, b, lo, hi: abs(v - t) <= b),
    "relative": ("|{name} - {t:.4g}| <= {b:.4g} x |{t:.4g}|",
                 lambda v, t, b, lo, hi: abs(v - t) <= b * abs(t)),
    "at_most": ("{name} <= {t:.4g}", lambda v, t, b, lo, hi: v <= t),
    "at_least": ("{name} >= {t:.4g}", lambda v, t, b, lo, hi: v >= t),
    "below": ("{name} < {t:.4g}", lambda v, t, b, lo, hi: v < t),
    "above": ("{name} > {t:.4g}", lambda v, t, b, lo, hi: v > t),
    "inside": ("{name} in [{lo:.4g}, {hi:.4g}]", lambda v, t, b, lo, hi: lo <= v <= hi),
    "contains": ("[{lo:.4g}, {hi:.4g}] contains {name} = {v:.4g}",
                 lambda v, t, b, lo, hi: lo <= v <= hi),
    "holds": ("{name}", lambda v, t, b, lo, hi: bool(v)),
}


@dataclasses.dataclass(frozen=True)
class Comparison:
  """One named comparison of a measured value with a prediction.

  Attributes:
    name: what is compared, e.g. ``"slope d=2"``.
    value: the measured value (for ``kind="holds"``, a bool: the condition measured).
    kind: ``within`` (``|value - target| <= bound``), ``relative`` (``|value - target| <=
      bound |target|``), ``at_most``/``at_least``/``below``/``above`` (against ``target``),
      ``inside`` (``low <= value <= high``), ``contains`` (a measured interval ``[low, high]``
      contains the predicted ``value``), ``holds`` (``value`` is true).
    source: where the tolerance (bound, interval or threshold) comes from.
  """

  name: str
  value: float | bool
  kind: str
  source: str
  target: float | None = None
  bound: float | None = None
  low: float | None = None
  high: float | None = None

  def __post_init__(self):
    if self.kind not in _KINDS:
      raise ValueError(f"comparison {self.name!r}: unknown kind {self.kind!r}; "
                       f"known: {', '.join(_KINDS)}")
    needs = {"within": ("target", "bound"), "relative": ("target", "bound"),
             "inside": ("low", "high"), "contains": ("low", "high"), "holds": ()}
    for field in needs.get(self.kind, ("target",)):
      if getattr(self, field) is None:
        raise ValueError(f"comparison {self.name!r} of kind {self.kind!r} needs {field}")
    if not self.source:
      raise ValueError(f"comparison {self.name!r} states no source for its tolerance")

  def _numbers(self) -> list[float]:
    return [float(x) for x in (self.value, self.target, self.bound, self.low, self.high)
            if x is not None]

  @property
  def evaluated(self) -> bool:
    """Whether every number the comparison uses is finite (NaN compares false silently)."""
    return all(math.isfinite(x) for x in self._numbers())

  @property
  def passed(self) -> bool:
    if not self.evaluated:
      return False
    v = bool(self.value) if self.kind == "holds" else float(self.value)
    f = lambda x: None if x is None else float(x)
    return bool(_KINDS[self.kind][1](v, f(self.target), f(self.bound), f(self.low),
                                     f(self.high)))

  def criterion(self) -> str:
    """The pass criterion as text, e.g. ``"|slope d=2 - -0.6667| <= 0.08 (95% CI of the fit)"``."""
    template = _KINDS[self.kind][0]
    text = template.format(name=self.name, v=float(self.value), t=_num(self.target),
                           b=_num(self.bound), lo=_num(self.low), hi=_num(self.high))
    return f"{text} ({self.source})"

  def text(self) -> str:
    """The criterion with the measured value and verdict."""
    shown = self.value if self.kind == "holds" else f"{float(self.value):.4g}"
    verdict = "ok" if self.passed else ("NOT EVALUATED" if not self.evaluated else "FAILS")
    return f"{self.criterion()}: {shown} {verdict}"


def _num(x) -> float:
  return float("nan") if x is None else float(x)


# Short constructors: the checks read like their criteria.
def within(name, value, target, bound, source) -> Comparison:
  return Comparison(name, float(value), "within", source, target=float(target), bound=float(bound))


def relative(name, value, target, bound, source) -> Comparison:
  return Comparison(name, float(value), "relative", source, target=float(target),
                    bound=float(bound))


def at_most(name, value, limit, source) -> Comparison:
  return Comparison(name, float(value), "at_most", source, target=float(limit))


def at_least(name, value, limit, source) -> Comparison:
  return Comparison(name, float(value), "at_least", source, target=float(limit))


def below(name, value, limit, source) -> Comparison:
  return Comparison(name, float(value), "below", source, target=float(limit))


def above(name, value, limit, source) -> Comparison:
  return Comparison(name, float(value), "above", source, target=float(limit))


def inside(name, value, low, high, source) -> Comparison:
  return Comparison(name, float(value), "inside", source, low=float(low), high=float(high))


def contains(name, predicted, interval, source) -> Comparison:
  """A measured interval (e.g. a fit's 95% CI) contains the predicted value."""
  lo, hi = interval
  return Comparison(name, float(predicted), "contains", source, low=float(lo), high=float(hi))


def holds(name, condition, source) -> Comparison:
  return Comparison(name, bool(condition), "holds", source)


@dataclasses.dataclass(frozen=True)
class CheckResult:
  """Outcome of one theory check.

  Attributes:
    name: short identifier, e.g. ``"ntk_width_convergence"``.
    claim: the theorem being tested and its reference (paper, section).
    prediction: what the theorem predicts, as a human-readable statement with numbers.
    measured: the measured quantity in the same terms.
    comparisons: the named comparisons; ``passed`` and ``tolerance`` derive from them.
    figure: path of the PNG the check rendered, relative to the report directory.
    values: the raw numbers behind the check (JSON-serialisable), for the JSON file.
  """

  name: str
  claim: str
  prediction: str
  measured: str
  comparisons: Sequence[Comparison]
  figure: str | None = None
  values: dict[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if not self.comparisons:
      raise ValueError(f"check {self.name!r} has no comparisons: it could not fail")
    object.__setattr__(self, "comparisons", tuple(self.comparisons))

  @property
  def passed(self) -> bool:
    return all(c.passed for c in self.comparisons)

  @property
  def tolerance(self) -> str:
    return "; ".join(c.criterion() for c in self.comparisons)

  @property
  def failed(self) -> list[Comparison]:
    return [c for c in self.comparisons if not c.passed]

  def to_json(self) -> dict[str, Any]:
    out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
           if f.name != "comparisons"}
    out["passed"] = self.passed
    out["tolerance"] = self.tolerance
    out["comparisons"] = [dict(dataclasses.asdict(c), passed=c.passed, evaluated=c.evaluated,
                               text=c.text()) for c in self.comparisons]
    return _jsonable(out)


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
