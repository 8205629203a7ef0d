r"""Model-wise deep double descent of MLPs on MNIST-1D with label noise.

    python -m experiments.double_descent --outdir=reports/double_descent

Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever (2020, "Deep double descent", ICLR) show that
with label noise the test error of networks trained to convergence first falls with size, rises
to a peak near the size that can just fit the (noisy) training set, and falls again; the MNIST-1D
paper (Greydanus & Kobak 2020, sec. 4) reproduces this with MLPs. One-hidden-layer MLPs of
growing width are trained with Adam for ``--sweep_steps`` full-batch steps on 4000 training
examples, a fraction ``--label_noise`` of whose labels are replaced by random ones; the test set
is clean. Writes ``double_descent.md``, ``.json`` and ``.png``. The default sweep (13 widths x 2
seeds x 8000 steps) takes about 9 minutes on 2 CPU cores; it is not one of the < 2 min checks.
"""

from __future__ import annotations

import json
import pathlib
import time

from absl import flags
import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from jaxnets import cli  # noqa: E402
from jaxnets.errors import JaxnetsError  # noqa: E402
from jaxnets.models import get_model  # noqa: E402

_WIDTHS = flags.DEFINE_list("sweep_widths", ["2", "4", "8", "12", "16", "24", "32", "48", "64",
                                             "96", "128", "256", "512"], "Hidden widths.")
_STEPS = flags.DEFINE_integer("sweep_steps", 8000, "Full-batch Adam steps per network.")
_NOISE = flags.DEFINE_float("label_noise", 0.15, "Fraction of training labels randomized.")
_SEEDS = flags.DEFINE_integer("sweep_seeds", 2, "Seeds per width (averaged).")

FUSED_STEPS = 100  # full-batch steps per dispatch: these MLPs are small, dispatch dominates
_ADAM = optax.adam(1e-3)  # one optimiser object: widths of equal shape share a compilation


def noisy_labels(y: np.ndarray, fraction: float, num_classes: int, seed: int) -> np.ndarray:
  """Replaces a ``fraction`` of the labels by uniformly random classes (Nakkiran et al. sec. 3)."""
  if not 0 <= fraction <= 1:
    raise JaxnetsError(f"--label_noise must be in [0, 1], got {fraction}")
  rng = np.random.default_rng(seed)
  y = y.copy()
  flip = rng.random(len(y)) < fraction
  y[flip] = rng.integers(0, num_classes, flip.sum())
  return y


def _error(model, variables, x, y) -> float:
  return float(np.mean(np.asarray(model.apply(variables, x)).argmax(-1) != y))


def run(outdir: pathlib.Path, widths: list[int], steps: int, noise: float, seeds: int) -> dict:
  """Trains the sweep and writes the report; returns ``{"rows": [...]}``."""
  from jaxnets.data import get_dataset
  from jaxnets.train import minimize_model

  if not widths or min(widths) < 1:
    raise JaxnetsError(f"--sweep_widths must be positive integers, got {widths}")
  if steps % FUSED_STEPS:
    raise JaxnetsError(f"--sweep_steps must be a multiple of {FUSED_STEPS}, got {steps}")
  outdir.mkdir(parents=True, exist_ok=True)
  train, test = get_dataset("mnist1d", "train"), get_dataset("mnist1d", "test")
  x, y = train.image, train.label
  rows = []
  for width in widths:
    stats = []
    for s in range(seeds):
      start = time.perf_counter()
      y_noisy = noisy_labels(y, noise, 10, seed=s)
      model = get_model("mlp", num_outputs=10, width=width, depth=1)
      result = minimize_model(model, _ADAM, {"image": x, "label": y_noisy},
                              key=jax.random.key(1000 * width + s), num_steps=steps,
                              steps_per_call=FUSED_STEPS, log_every=steps)
      variables = result.state.variables()
      stats.append((_error(model, variables, x, y_noisy),
                    _error(model, variables, test.image, test.label)))
      print(f"width {width} seed {s}: train {stats[-1][0]:.3f} test {stats[-1][1]:.3f} "
            f"({time.perf_counter() - start:.0f}s)", flush=True)
    num_params = (x[0].size + 1) * width + (width + 1) * 10
    rows.append(dict(width=width, params=num_params,
                     train_error=float(np.mean([a for a, _ in stats])),
                     test_error=float(np.mean([b for _, b in stats]))))
  table = ["| width | params | train error (noisy labels) | test error |", "|---|---|---|---|"]
  table += [f"| {r['width']} | {r['params']} | {r['train_error']:.3f} | {r['test_error']:.3f} |"
            for r in rows]
  (outdir / "double_descent.md").write_text("\n".join(table) + "\n")
  (outdir / "double_descent.json").write_text(json.dumps(
      {"label_noise": noise, "steps": steps, "seeds": seeds, "num_train": len(x), "rows": rows},
      indent=2) + "\n")
  fig, ax = plt.subplots(figsize=(5, 3.5))
  ax.semilogx([r["params"] for r in rows], [r["train_error"] for r in rows], "o-", label="train")
  ax.semilogx([r["params"] for r in rows], [r["test_error"] for r in rows], "s-", label="test")
  ax.axvline(len(x), color="gray", ls="--", label="params = samples")
  ax.set_xlabel("parameters"), ax.set_ylabel("error"), ax.legend()
  ax.set_title(f"MNIST-1D, {noise:.0%} label noise", fontsize=9)
  fig.tight_layout()
  fig.savefig(outdir / "double_descent.png", dpi=120)
  plt.close(fig)
  print("\n".join(table))
  return {"rows": rows}


def main(argv: list[str]) -> None:
  try:
    widths = [int(w) for w in _WIDTHS.value]
  except ValueError:
    raise JaxnetsError(f"--sweep_widths must be integers, got {_WIDTHS.value}") from None
  run(cli.outdir("reports/double_descent"), widths, _STEPS.value, _NOISE.value, _SEEDS.value)


if __name__ == "__main__":
  cli.run(main)
