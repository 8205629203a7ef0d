r"""Which complexity measure predicts the generalization gap? A small "Fantastic measures" study.

    python -m experiments.generalization_measures --report_dir=reports/generalization_measures

Trains a grid of MLPs on MNIST-1D (10 classes, 4000 training examples) varying width, depth,
learning rate, batch size and weight decay; computes every bound and measure of
``theory.generalization`` / ``margins`` / ``pac_bayes`` on each trained network; and ranks the
measures by Kendall's tau with the measured generalization gap (test error - train error), as
Jiang, Neyshabur, Mobahi, Krishnan & Bengio (2020, "Fantastic generalization measures and where
to find them", ICLR, sec. 4) do. Writes ``measures.md`` (table), ``measures.json`` and
``measures.png``. ``--grid_size`` configurations are drawn (without replacement, by
``--grid_seed``) from the full grid of 72; the default of 24 runs in a few minutes on 2 cores.

Caveat against Jiang et al.: they train every network to the same cross-entropy (0.01); here each
trains a fixed ``--train_steps``, so train errors differ and bounds that add the train error
(VC, margin bounds) can rank opposite to the gap. Flag names differ from other entry points'
(``report_dir``, not ``outdir``) so the test suite can import them together.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
import sys
import time

from absl import app, flags
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from scipy import stats  # noqa: E402

from experiments.checks import generalization_data as gdata  # noqa: E402
from jaxnets.errors import JaxnetsError  # noqa: E402
from jaxnets.models import get_model  # noqa: E402
from theory import generalization as gen  # noqa: E402
from theory import margins as mg  # noqa: E402
from theory import pac_bayes as pb  # noqa: E402

_REPORT_DIR = flags.DEFINE_string("report_dir", "reports/generalization_measures",
                                  "Where the table, JSON and plot are written.")
_GRID_SIZE = flags.DEFINE_integer("grid_size", 24, "Number of configurations drawn from the grid.")
_TRAIN_STEPS = flags.DEFINE_integer("train_steps", 3000, "Optimizer steps per network.")
_GRID_SEED = flags.DEFINE_integer("grid_seed", 0, "Seed of the grid draw, data and training.")

# The hyper-parameter grid (Jiang et al. 2020 vary these, among others).
GRID = {
    "width": (32, 128, 512),
    "depth": (1, 2, 3),
    "learning_rate": (1e-3, 3e-3),
    "batch_size": (32, 128),
    "weight_decay": (0.0, 1e-4),
}


def grid_configs(size: int, seed: int) -> list[dict]:
  """``size`` configurations drawn without replacement from the product of ``GRID``."""
  full = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
  if not 1 <= size <= len(full):
    raise JaxnetsError(f"--grid_size must be in [1, {len(full)}], got {size}")
  order = np.random.default_rng(seed).permutation(len(full))[:size]
  return [full[i] for i in sorted(order)]


def measure_network(model, params, init, x, y, xt, yt, key) -> dict:
  """Train/test error and every measure for one trained network (``x``: ``(m, 40)``)."""
  logits = model.apply(params, x)
  m = x.shape[0]
  train_err = 1 - gdata.accuracy(logits, y)
  test_err = 1 - gdata.accuracy(model.apply(params, xt), yt)
  weights = mg.mlp_weight_matrices(model, params)
  margins = np.asarray(mg.classification_margins(logits, jnp.asarray(y)))
  # Jiang et al. take the margin gamma as the 10th percentile of the training margins.
  gamma = float(max(np.quantile(margins, 0.1), 1e-6))
  sizes = [x.shape[1]] + [model.width] * model.depth + [1]
  num_params = sum(a.size for a in jax.tree.leaves(params))
  fn = pb.mlp_local_reparam()
  sigma = pb.sharpness_sigma(fn, params, jnp.asarray(x), jnp.asarray(y), key)
  dist2 = sum(float(jnp.sum((a - b) ** 2)) for a, b in zip(jax.tree.leaves(params),
                                                         jax.tree.leaves(init)))
  # PAC-Bayes bound with posterior N(w, sigma^2 I), prior N(w0, sigma^2 I): sigma is picked from
  # a log grid of 2^8 values by the bisection, so the union bound costs ln(2^8).
  kl = dist2 / (2 * sigma ** 2)
  tiny = jax.tree.map(lambda w: jnp.full_like(w, math.log(sigma)), params)
  q_err = float(pb.stochastic_errors(fn, params, tiny, jnp.asarray(x), jnp.asarray(y),
                                     jax.random.fold_in(key, 99)).mean())
  return {
      "train_error": train_err, "test_error": test_err, "gap": test_err - train_err,
      "params": float(num_params),
      "vc_bound": gen.vc_bound(train_err, gen.relu_net_vc_dim_upper(sizes), m),
      "frobenius_product": gen.frobenius_product(weights),
      "path_norm": gen.path_norm(weights),
      "spectral_complexity": mg.spectral_complexity(weights),
      "inverse_margin": 1.0 / gamma ** 2,
      "spectral_margin_bound": mg.spectral_margin_bound(margins, weights, x, gamma),
      "grs_margin_bound": mg.norm_margin_bound(margins, weights, x, gamma),
      "dist_from_init": math.sqrt(dist2),
      "pacbayes_flatness": 1.0 / sigma ** 2,
      "pacbayes_bound": pb.kl_inverse_upper(
          q_err, (kl + 8 * math.log(2) + math.log(2 * math.sqrt(m) / 0.05)) / m),
  }


def run(outdir: pathlib.Path, grid_size: int, train_steps: int, seed: int) -> dict:
  """Trains the grid, measures, ranks; writes the report files and returns the results."""
  outdir.mkdir(parents=True, exist_ok=True)
  x, y, xt, yt = gdata.mnist1d(5000, seed=seed)
  key = jax.random.key(seed)
  rows = []
  for i, cfg in enumerate(grid_configs(grid_size, seed)):
    start = time.perf_counter()
    model = get_model("mlp", num_outputs=10, width=cfg["width"], depth=cfg["depth"])
    init = model.init(jax.random.fold_in(key, 3 * i), x[:1])
    opt = optax.adamw(cfg["learning_rate"], weight_decay=cfg["weight_decay"])
    trainer = gdata.make_trainer(model.apply, opt, x, y, cfg["batch_size"], train_steps)
    params, _ = trainer(init, opt.init(init), jax.random.fold_in(key, 3 * i + 1))
    row = dict(cfg, **measure_network(model, params, init, x, y, xt, yt,
                                      jax.random.fold_in(key, 3 * i + 2)))
    rows.append(row)
    print(f"[{i + 1}/{grid_size}] {cfg} train {row['train_error']:.3f} test "
          f"{row['test_error']:.3f} ({time.perf_counter() - start:.0f}s)", flush=True)
  names = [k for k in rows[0] if k not in GRID and k not in ("train_error", "test_error", "gap")]
  gaps = np.array([r["gap"] for r in rows])
  taus = {}
  for name in names:
    tau = (stats.kendalltau([r[name] for r in rows], gaps).statistic if len(rows) > 1
           else float("nan"))
    taus[name] = float(tau) if np.isfinite(tau) else float("nan")
  table = ["| measure | Kendall tau with gap | median value | bound? |", "|---|---|---|---|"]
  bounds = {"vc_bound", "spectral_margin_bound", "grs_margin_bound", "pacbayes_bound"}
  for name in sorted(names, key=lambda n: -np.nan_to_num(taus[n], nan=-2)):
    table.append(f"| {name} | {taus[name]:+.3f} | {np.median([r[name] for r in rows]):.3g} | "
                 f"{'test-error bound' if name in bounds else 'measure'} |")
  table.append("")
  median_test = np.median([r['test_error'] for r in rows])
  table.append(f"{len(rows)} networks; median test error {median_test:.3f}, "
               f"median gap {np.median(gaps):.3f}.")
  (outdir / "measures.md").write_text("\n".join(table) + "\n")
  (outdir / "measures.json").write_text(json.dumps({"rows": rows, "kendall_tau": taus},
                                                   indent=2, default=float) + "\n")
  cols = 4
  nrows = math.ceil(len(names) / cols)
  fig, axes = plt.subplots(nrows, cols, figsize=(12, 2.6 * nrows))
  for ax, name in zip(axes.ravel(), names):
    ax.scatter([r[name] for r in rows], gaps, s=10)
    ax.set_xscale("log"), ax.set_title(f"{name}  tau={taus[name]:+.2f}", fontsize=8)
    ax.set_ylabel("gap", fontsize=7)
  for ax in axes.ravel()[len(names):]:
    ax.axis("off")
  fig.tight_layout()
  fig.savefig(outdir / "measures.png", dpi=110)
  plt.close(fig)
  print("\n".join(table))
  return {"rows": rows, "kendall_tau": taus}


def main(argv: list[str]) -> int:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  try:
    run(pathlib.Path(_REPORT_DIR.value), _GRID_SIZE.value, _TRAIN_STEPS.value, _GRID_SEED.value)
  except JaxnetsError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  app.run(main)
