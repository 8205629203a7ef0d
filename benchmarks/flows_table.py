"""The flows benchmark's data file, bits/dim and table: no flags, so tests can import it beside
the other benchmarks (whose absl flags would clash with ``benchmarks.flows``')."""

from __future__ import annotations

import pathlib
import statistics

VALIDATION_FRACTION = 0.1  # as flowjax's fit_to_data; both keep the best-validation params


def write_data(path: pathlib.Path) -> None:
  """The dequantized, logit-transformed digits train/test points and the test Jacobians."""
  import jax
  import numpy as np

  from jaxnets.data import densities
  logit = densities.LogitTransform()
  train = densities.dequantized_digits("train", jax.random.key(0))
  test = densities.dequantized_digits("test", jax.random.key(1))
  y = np.asarray(logit.forward(train))
  order = np.random.default_rng(0).permutation(len(y))
  n_val = int(round(VALIDATION_FRACTION * len(y)))
  np.savez(path, train=y[order[n_val:]], validation=y[order[:n_val]],
           test=np.asarray(logit.forward(test)), test_log_det=np.asarray(logit.log_det(test)))


def bits_per_dim(record: dict, test_log_det, dim: int = 64) -> float:
  """Test bits/dim of a worker's record, with the logit Jacobian of the test points."""
  import numpy as np

  from jaxnets.data import densities
  log_px = np.asarray(record["test_log_density"]) + np.asarray(test_log_det)
  return densities.bits_per_dim(log_px, dim=dim)


def table(rows: dict, steps: int) -> str:
  """Markdown: per flow, both frameworks' median bits/dim, seconds and ms/step."""
  lines = ["| flow | framework | params | test bits/dim (median) | train s (median) | ms / step |"
           " ours / flowjax time |", "|---|---|---|---|---|---|---|"]
  for flow, by_fw in rows.items():
    base = statistics.median(by_fw["flowjax"]["seconds"]) if "flowjax" in by_fw else None
    for fw, r in by_fw.items():
      sec = statistics.median(r["seconds"])
      ratio = f"{sec / base:.2f}" if base and fw == "jaxnets" else ""
      lines.append(f"| {flow} | {fw} | {r['params']:,} | {statistics.median(r['bpd']):.3f} "
                   f"({', '.join(f'{b:.3f}' for b in r['bpd'])}) | {sec:.1f} | "
                   f"{1000 * sec / steps:.2f} | {ratio} |")
  return "\n".join(lines)


