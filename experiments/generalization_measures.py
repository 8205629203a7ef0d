r"""Which complexity measure predicts the generalization gap? A small "Fantastic measures" study.

    python -m experiments.generalization_measures --outdir=reports/generalization_measures

Trains a grid of MLPs on MNIST-1D (10 classes, 4000 training examples) varying width, depth,
learning rate, batch size and weight decay; computes every bound and measure of
``theory.generalization`` / ``margins`` / ``pac_bayes`` on each trained network; and ranks the
measures by Kendall's tau with the measured generalization gap (test error - train error), as
Jiang, Neyshabur, Mobahi, Krishnan & Bengio (2020, "Fantastic generalization measures and where
to find them", ICLR, sec. 4) do. As they do, every network trains until its train
cross-entropy is at most ``--target_loss`` (0.01; the engine's stopping rule, checked every 500
steps), within ``--max_steps``; networks that do not get there are reported but not ranked.
Writes ``measures.md`` (table), ``measures.json`` and ``measures.png``. ``--grid_size``
configurations are drawn (without replacement, by ``--grid_seed``) from the full grid of 72.
The bounds are ``theory.generalization.bounds``'s.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
import time

from absl import flags
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from scipy import stats  # noqa: E402

from jaxnets import cli  # noqa: E402
from jaxnets.errors import JaxnetsError  # noqa: E402
from jaxnets.models import get_model  # noqa: E402
from jaxnets.train.losses import cross_entropy  # noqa: E402
from theory import generalization as gen  # noqa: E402
from theory import margins as mg  # noqa: E402

_GRID_SIZE = flags.DEFINE_integer("grid_size", 24, "Number of configurations drawn from the grid.")
_MAX_STEPS = flags.DEFINE_integer("max_steps", 20000, "Step budget per network.")
_TARGET_LOSS = flags.DEFINE_float("target_loss", 0.01,
                                  "Train until the train cross-entropy is at most this "
                                  "(Jiang et al. 2020: 0.01).")
CHECK_EVERY = 500  # steps between evaluations of the stopping rule
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


def _cross_entropy_below(target: float):
  """``(state, data) -> bool``: the full-training-set cross-entropy is at most ``target``."""
  def reached(state, data):
    logits = state.apply_fn(state.variables(), data["image"])
    return jnp.mean(cross_entropy(logits, data["label"])) <= target
  return reached


def measure_network(model, params, init, x, y, xt, yt, key) -> dict:
  """Train/test error and every bound and measure for one trained network (``x``: ``(m, 40)``).

  The bounds are ``theory.generalization.bounds``'s (K-class VC, margin and PAC-Bayes bounds);
  the other measures are Jiang et al.'s (2020) complexity measures of the same network.
  """
  logits = np.asarray(model.apply(params, x))
  test_err = float(np.mean(np.asarray(model.apply(params, xt)).argmax(-1) != yt))
  b = gen.bounds(model.apply, params, (x, y), init_params=init, key=key)
  weights = mg.mlp_weight_matrices(model, params)
  del logits
  dist2 = sum(float(jnp.sum((a - c) ** 2)) for a, c in zip(jax.tree.leaves(params),
                                                         jax.tree.leaves(init)))
  return {
      "train_error": b["train_error"], "test_error": test_err,
      "gap": test_err - b["train_error"],
      "params": float(sum(a.size for a in jax.tree.leaves(params))),
      "vc_bound": b["vc_bound"],
      "frobenius_product": gen.frobenius_product(weights),
      "path_norm": gen.path_norm(weights),
      "spectral_complexity": mg.spectral_complexity(weights),
      "inverse_margin": 1.0 / b["margin_gamma"] ** 2,
      "spectral_margin_bound": b["spectral_margin_bound"],
      "grs_margin_bound": b["grs_margin_bound"],
      "dist_from_init": math.sqrt(dist2),
      "pacbayes_flatness": 1.0 / b["pacbayes_sigma"] ** 2,
      "pacbayes_bound": b["pacbayes_bound"],
  }


def run(outdir: pathlib.Path, grid_size: int, max_steps: int, target_loss: float,
        seed: int) -> dict:
  """Trains the grid to the target loss, measures, ranks; writes the report and returns it."""
  from jaxnets.data import get_dataset
  from jaxnets.train import minimize_model

  if not target_loss > 0:
    raise JaxnetsError(f"--target_loss must be positive, got {target_loss}")
  outdir.mkdir(parents=True, exist_ok=True)
  train, test = get_dataset("mnist1d", "train"), get_dataset("mnist1d", "test")
  x, y = train.image.reshape(len(train), -1), train.label
  xt, yt = test.image.reshape(len(test), -1), test.label
  key = jax.random.key(seed)
  reached = _cross_entropy_below(target_loss)
  rows = []
  for i, cfg in enumerate(grid_configs(grid_size, seed)):
    start = time.perf_counter()
    model = get_model("mlp", num_outputs=10, width=cfg["width"], depth=cfg["depth"])
    opt = optax.adamw(cfg["learning_rate"], weight_decay=cfg["weight_decay"])
    # Jiang et al. (2020, sec. 4) train every network to the same cross-entropy, so that
    # measures are compared at equal fit rather than after equal time.
    result = minimize_model(model, opt, {"image": x, "label": y},
                            key=jax.random.fold_in(key, i), num_steps=max_steps,
                            batch_size=cfg["batch_size"], stop_when=reached,
                            check_every=CHECK_EVERY, steps_per_call=CHECK_EVERY // 10,
                            log_every=CHECK_EVERY)
    params = result.state.variables()
    init = model.init(jax.random.split(jax.random.fold_in(key, i))[0], x[:1])
    row = dict(cfg, **measure_network(model, params, init, x, y, xt, yt,
                                      jax.random.fold_in(key, 10_000 + i)))
    row["steps"] = int(result.state.step)
    row["reached_target"] = bool(result.stopped)
    rows.append(row)
    print(f"[{i + 1}/{grid_size}] {cfg} {row['steps']} steps train {row['train_error']:.3f} "
          f"test {row['test_error']:.3f} ({time.perf_counter() - start:.0f}s)", flush=True)
  return _report(outdir, rows, target_loss)


def _report(outdir: pathlib.Path, rows: list[dict], target_loss: float) -> dict:
  """Ranks the measures by Kendall's tau with the gap; writes measures.md / .json / .png."""
  fitted = [r for r in rows if r["reached_target"]]
  names = [k for k in rows[0] if k not in GRID and k not in ("train_error", "test_error", "gap",
                                                              "steps", "reached_target")]
  gaps = np.array([r["gap"] for r in fitted])
  taus = {}
  for name in names:
    tau = (stats.kendalltau([r[name] for r in fitted], gaps).statistic if len(fitted) > 1
           else float("nan"))
    taus[name] = float(tau) if np.isfinite(tau) else float("nan")
  table = ["| measure | Kendall tau with gap | median value | bound? |", "|---|---|---|---|"]
  bound_names = {"vc_bound", "spectral_margin_bound", "grs_margin_bound", "pacbayes_bound"}
  for name in sorted(names, key=lambda n: -np.nan_to_num(taus[n], nan=-2)):
    median = np.median([r[name] for r in fitted]) if fitted else float("nan")
    values = [r[name] for r in fitted]
    # Kendall's tau is undefined for a measure that is the same on every network (a bound at
    # its trivial cap): say so rather than print nan.
    tau_text = ("undefined (constant)" if len(set(values)) == 1 and len(values) > 1
                else f"{taus[name]:+.3f}")
    table.append(f"| {name} | {tau_text} | {median:.3g} | "
                 f"{'test-error bound' if name in bound_names else 'measure'} |")
  table.append("")
  median_test = np.median([r["test_error"] for r in fitted]) if fitted else float("nan")
  table.append(f"{len(fitted)} of {len(rows)} networks reached train cross-entropy <= "
               f"{target_loss:g} and are ranked; median test error {median_test:.3f}, median "
               f"gap {np.median(gaps) if fitted else float('nan'):.3f}.")
  (outdir / "measures.md").write_text("\n".join(table) + "\n")
  (outdir / "measures.json").write_text(json.dumps(
      {"rows": rows, "kendall_tau": taus, "target_loss": target_loss}, indent=2,
      default=float) + "\n")
  cols = 4
  nrows = math.ceil(len(names) / cols)
  fig, axes = plt.subplots(nrows, cols, figsize=(12, 2.6 * nrows))
  for ax, name in zip(axes.ravel(), names):
    ax.scatter([r[name] for r in fitted], gaps, s=10)
    ax.set_xscale("log"), ax.set_title(f"{name}  tau={taus[name]:+.2f}", fontsize=8)
    ax.set_ylabel("gap", fontsize=7)
  for ax in axes.ravel()[len(names):]:
    ax.axis("off")
  fig.tight_layout()
  fig.savefig(outdir / "measures.png", dpi=110)
  plt.close(fig)
  print("\n".join(table))
  return {"rows": rows, "kendall_tau": taus}


def main(argv: list[str]) -> None:
  run(cli.outdir("reports/generalization_measures"), _GRID_SIZE.value, _MAX_STEPS.value,
      _TARGET_LOSS.value, _GRID_SEED.value)


if __name__ == "__main__":
  cli.run(main)
