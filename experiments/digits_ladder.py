r"""The model ladder on scikit-learn's 8x8 digits: from the perceptron to a ResNet, one table.

    python -m experiments.digits_ladder --outdir=reports/digits_ladder

Rungs: Rosenblatt's perceptron (one-vs-rest, trained by its own rule), logistic regression,
kernel classifiers (exact kernel ridge on the Gram matrix with RBF and arc-cosine kernels;
random Fourier and ReLU random features with a trained linear head), a two-layer and a deep
MLP, LeNet-5, a small CNN with global average pooling and ResNet-8. Every gradient-trained
rung is a config file (``experiments/configs/digits_*.py``, Adam and cross-entropy) trained by
``jaxnets.train.fit``: the seeds of a rung train together (``jax.vmap``), and seed s is the run
``python -m experiments.train --config=<that file> --config.seed=s`` would make.

Translation invariance: test accuracy when every test image is circularly shifted by s = 0..3
pixels, averaged over the four directions (left, right, up, down).

Writes ``table.md``, ``results.json`` and ``shift.png`` to ``--outdir``.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from jaxnets import cli
from jaxnets.data import ArrayDataset, get_dataset
from jaxnets.errors import JaxnetsError
from jaxnets.eval import shifts as sh
from jaxnets.eval.tables import mean_std, plot_shift_curves, shift_columns, write_report
from jaxnets.models import get_model, kernel_methods, perceptron_rule
from theory import least_squares

SHIFTS = (0, 1, 2, 3)


@dataclasses.dataclass(frozen=True)
class Rung:
  """A gradient-trained rung: its label and its config file under experiments/configs."""

  label: str
  config: str


# Gradient-trained rungs, in ladder order.
RUNGS = (
    Rung("logistic", "digits_logistic"),
    # gamma 0.05: the RBF width exact kernel ridge selects on held-out data (see its row).
    Rung("random Fourier features (2048) + linear", "digits_rff"),
    Rung("ReLU random features (2048) + linear", "digits_relu_features"),
    Rung("two-layer MLP (256)", "digits_two_layer"),
    Rung("deep MLP (4 x 256)", "digits_mlp"),
    Rung("LeNet-5", "digits_lenet5"),
    Rung("CNN, global pooling", "digits_cnn"),
    Rung("ResNet-8", "digits_resnet"),
)
# Grids searched on a held-out 20% of the training set for exact kernel ridge.
GAMMAS = (0.002, 0.005, 0.01, 0.02, 0.05)
REGS = (1e-3, 1e-2, 1e-1, 1.0)

_SEEDS = flags.DEFINE_integer("seeds", 3, "Seeds per gradient-trained rung.")
_STEPS_SCALE = flags.DEFINE_float("steps_scale", 1.0,
                                  "Multiplies every rung's steps (small values for tests).")
_ONLY = flags.DEFINE_list("only", [], "Config names / 'perceptron' / 'kernel_ridge' to run "
                          "(default: the whole ladder).")


def _shifted(test: ArrayDataset):
  return sh.shifted_sets(test.image, SHIFTS, axes=(1, 2))


def _row(label: str, method: str, params: int, shift_acc: dict[int, list[float]],
         seconds: float, notes: str = "") -> dict[str, Any]:
  return {"label": label, "model": label, "method": method, "params": params,
          "test_acc": shift_acc[0], "shift_acc": shift_acc, "seconds": seconds, "notes": notes}


def run_perceptron(train: ArrayDataset, test: ArrayDataset, seeds: int,
                   max_epochs: int = 200) -> dict[str, Any]:
  """One-vs-rest perceptrons by Rosenblatt's rule; each seed visits examples in its own order."""
  x = train.image.reshape(len(train.image), -1)
  sets, amounts = _shifted(test)
  model = get_model("perceptron", num_outputs=train.num_classes)
  start = time.perf_counter()
  results = [perceptron_rule.rosenblatt_one_vs_rest(
      x, train.label, train.num_classes, max_epochs=max_epochs,
      order_seed=seed) for seed in range(seeds)]
  seconds = time.perf_counter() - start
  stacked = jax.tree.map(lambda *a: jnp.stack(a), *[{"params": r.params()} for r in results])
  acc = sh.accuracy_per_seed(model.apply, stacked, sets, test.label)
  updates = np.mean([np.asarray(r.updates) for r in results], axis=0)
  converged = np.mean([np.asarray(r.converged).sum() for r in results])
  notes = (f"Rosenblatt's rule, <= {max_epochs} epochs: {converged:.0f}/10 classes separated "
           f"(mistake-free pass); {updates.mean():.0f} updates per class on average")
  return _row("perceptron (one-vs-rest)", "Rosenblatt rule", x.shape[1] * 10 + 10,
              sh.mean_by_shift(acc, amounts, SHIFTS), seconds, notes)


def _select(kernel: str, grid: list[dict], x: np.ndarray, y: np.ndarray,
            num_classes: int) -> dict:
  """The kernel parameters and ridge with the best accuracy on a held-out 20% of ``x``.

  One Gram matrix and one eigendecomposition per kernel parameter; all of ``REGS`` from it.
  """
  perm = np.random.default_rng(0).permutation(len(x))
  cut = int(0.8 * len(x))
  fit, val = jnp.asarray(x[perm[:cut]]), jnp.asarray(x[perm[cut:]])
  targets = jax.nn.one_hot(jnp.asarray(y[perm[:cut]]), num_classes)
  best, best_acc = None, -1.0
  for params in grid:
    k = kernel_methods.get_kernel(kernel, **params)
    alphas = least_squares.ridge_path(k(fit, fit), targets, jnp.asarray(REGS))
    predictions = np.asarray(jnp.einsum("vn,rnc->rvc", k(val, fit), alphas).argmax(-1))
    for reg, pred in zip(REGS, predictions):
      acc = float(np.mean(pred == y[perm[cut:]]))
      if acc > best_acc:
        best, best_acc = {**params, "reg": reg}, acc
  return best


def run_kernel_ridge(train: ArrayDataset, test: ArrayDataset, kernel: str) -> dict[str, Any]:
  """Exact kernel ridge classifier, hyper-parameters chosen on a held-out part of train."""
  x = train.image.reshape(len(train.image), -1)
  start = time.perf_counter()
  grid = [{"gamma": g} for g in GAMMAS] if kernel == "rbf" else [{"order": 1}]
  best = _select(kernel, grid, x, train.label, train.num_classes)
  params = {k: v for k, v in best.items() if k != "reg"}
  clf = kernel_methods.KernelRidgeClassifier(kernel_methods.get_kernel(kernel, **params),
                                             reg=best["reg"])
  clf.fit(x, train.label, train.num_classes)
  sets, amounts = _shifted(test)
  acc = np.array([[100.0 * float(np.mean(np.asarray(clf.predict(s.reshape(len(s), -1)))
                                         == test.label)) for s in sets]])
  seconds = time.perf_counter() - start
  label = {"rbf": "kernel ridge, RBF kernel", "arccos": "kernel ridge, arc-cosine kernel"}
  notes = f"exact, n = {len(x)}; chosen on held-out 20% of train: " + ", ".join(
      f"{k}={v}" for k, v in best.items())
  return _row(label[kernel], "exact kernel", len(x) * train.num_classes,
              sh.mean_by_shift(acc, amounts, SHIFTS), seconds, notes)


def rung_config(rung: Rung, steps_scale: float):
  """The rung's config file, with its steps scaled."""
  config = importlib.import_module(f"experiments.configs.{rung.config}").get_config()
  config.num_steps = max(1, int(config.num_steps * steps_scale))
  config.log_every = config.num_steps  # fit() logs into its history only; once is enough
  return config


def run_rung(rung: Rung, test: ArrayDataset, seeds: int, steps_scale: float) -> dict[str, Any]:
  """Trains ``seeds`` runs of a rung's config together; accuracy per shift."""
  from jaxnets.train import fit

  config = rung_config(rung, steps_scale)
  start = time.perf_counter()
  state = fit(config, seeds=range(seeds)).state
  seconds = time.perf_counter() - start
  sets, amounts = _shifted(test)
  acc = sh.accuracy_per_seed(state.apply_fn, state.variables(), sets, test.label)
  params = sum(int(np.prod(p.shape[1:])) for p in jax.tree.leaves(state.params))
  opt = config.optimizer
  notes = (f"{rung.config}: {opt.name} lr {opt.learning_rate:g}, batch {config.batch_size}, "
           f"{config.num_steps} steps")
  return _row(rung.label, f"gradient ({opt.name})", params,
              sh.mean_by_shift(acc, amounts, SHIFTS), seconds, notes)


def markdown_table(rows: list[dict[str, Any]], command: str, seconds: float,
                   seeds: int, sizes: tuple[int, int]) -> str:
  """One row per rung: parameters, test accuracy and accuracy under circular shifts."""
  lines = [
      f"scikit-learn digits ({sizes[0]} train / {sizes[1]} test), test accuracy (%), "
      f"mean ± std over "
      f"{seeds} seeds (exact kernel ridge is deterministic: one run).",
      "",
      "| rung | trained by | params | test acc | "
      + " | ".join(f"shift {s}" for s in SHIFTS[1:]) + " | s | notes |",
      "|---|---|---|---|" + "---|" * (len(SHIFTS) - 1) + "---|---|",
  ]
  for r in rows:
    lines.append(f"| {r['model']} | {r['method']} | {r['params']:,} | "
                 f"{mean_std(r['test_acc'])} | {shift_columns(r, SHIFTS[1:])} | "
                 f"{r['seconds']:.0f} | {r['notes']} |")
  lines += ["", "Shift s: every test image rolled circularly by s pixels, accuracy averaged "
            "over the four directions.", "",
            f"Command: `{command}` ({seconds:.0f} s wall clock)."]
  return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
  known = {"perceptron", "kernel_ridge"} | {r.config for r in RUNGS}
  only = set(_ONLY.value) or known
  if only - known:
    raise JaxnetsError(f"unknown rung(s) {', '.join(sorted(only - known))}; known: "
                       f"{', '.join(sorted(known))}")
  if _SEEDS.value < 1 or not _STEPS_SCALE.value > 0:
    raise JaxnetsError(f"--seeds must be >= 1 and --steps_scale > 0, got {_SEEDS.value}, "
                       f"{_STEPS_SCALE.value}")
  train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
  start = time.perf_counter()
  rows = []

  def report(row):
    print(f"{row['model']:42s} {mean_std(row['test_acc'])}  ({row['seconds']:.0f} s)",
          flush=True)
    rows.append(row)

  if "perceptron" in only:
    report(run_perceptron(train, test, _SEEDS.value))
  if "kernel_ridge" in only:
    report(run_kernel_ridge(train, test, "rbf"))
    report(run_kernel_ridge(train, test, "arccos"))
  for rung in RUNGS:
    if rung.config in only:
      report(run_rung(rung, test, _SEEDS.value, _STEPS_SCALE.value))
  seconds = time.perf_counter() - start
  outdir = cli.outdir("reports/digits_ladder")
  command = cli.command_line("experiments.digits_ladder")
  table = markdown_table(rows, command, seconds, _SEEDS.value, (len(train), len(test)))
  write_report(outdir, table, {"rows": rows, "seconds": seconds, "command": command})
  plot_shift_curves(rows, SHIFTS, outdir / "shift.png",
                    xlabel="circular shift of test images (pixels)",
                    title="digits: translation invariance along the ladder")
  print(table)


if __name__ == "__main__":
  cli.run(main)
