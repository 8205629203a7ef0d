r"""The model ladder on scikit-learn's 8x8 digits: from the perceptron to a ResNet, one table.

    python -m experiments.digits_ladder --outdir=reports/digits_ladder

Rungs: Rosenblatt's perceptron (one-vs-rest, trained by its own rule), logistic regression,
kernel classifiers (exact kernel ridge on the Gram matrix with RBF and arc-cosine kernels;
random Fourier and ReLU random features with a trained linear head), a two-layer and a deep
MLP, LeNet-5, a small CNN with global average pooling and ResNet-8. Every gradient-trained
rung uses Adam and cross-entropy; the seeds of a rung train together (``jax.vmap``).

Translation invariance: test accuracy when every test image is circularly shifted by s = 0..3
pixels, averaged over the four directions (left, right, up, down).

Writes ``table.md``, ``results.json`` and ``shift.png`` to ``--outdir``.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
from typing import Any

from absl import app, flags
import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments.multiseed import accuracy_per_seed, train_seeds
from jaxnets.models import kernel_methods, perceptron_rule
from jaxnets.data import ArrayDataset, get_dataset
from jaxnets.models import get_model

SHIFTS = (0, 1, 2, 3)


@dataclasses.dataclass(frozen=True)
class Rung:
  """A gradient-trained rung: a registry model and its Adam recipe."""

  label: str
  model: str
  kwargs: dict
  steps: int = 2000
  learning_rate: float = 3e-3
  batch_size: int = 64


# Gradient-trained rungs, in ladder order.
RUNGS = (
    Rung("logistic", "logistic", {}, learning_rate=1e-2),
    # gamma 0.05: the RBF width exact kernel ridge selects on held-out data (see its row).
    Rung("random Fourier features (2048) + linear", "rff_classifier",
         {"num_features": 2048, "gamma": 0.05}, learning_rate=1e-2),
    Rung("ReLU random features (2048) + linear", "relu_features_classifier",
         {"num_features": 2048}),
    Rung("two-layer MLP (256)", "two_layer", {"width": 256}),
    Rung("deep MLP (4 x 256)", "mlp", {"width": 256, "depth": 4}),
    Rung("LeNet-5", "lenet5_small", {}),
    Rung("CNN, global pooling", "cnn2d", {"channels": (32, 64)}),
    Rung("ResNet-8", "resnet8", {}, steps=800),
)
# Grids searched on a held-out 20% of the training set for exact kernel ridge.
GAMMAS = (0.002, 0.005, 0.01, 0.02, 0.05)
REGS = (1e-3, 1e-2, 1e-1, 1.0)

_OUTDIR = flags.DEFINE_string("outdir", "reports/digits_ladder", "Where the table is written.")
_SEEDS = flags.DEFINE_integer("seeds", 3, "Seeds per gradient-trained rung.")
_STEPS_SCALE = flags.DEFINE_float("steps_scale", 1.0,
                                  "Multiplies every rung's steps (small values for tests).")
_ONLY = flags.DEFINE_list("only", [], "Registry names / 'perceptron' / 'kernel_ridge' to run "
                          "(default: the whole ladder).")


def shifted_test_sets(images: np.ndarray) -> tuple[np.ndarray, list[int]]:
  """Circular shifts of ``images (N, H, W, C)``: for s in SHIFTS the 4 directions (s = 0 once).

  Returns the sets stacked ``(K, N, H, W, C)`` and the shift s of each set.
  """
  sets, amounts = [images], [0]
  for s in SHIFTS[1:]:
    for axis, sign in ((1, 1), (1, -1), (2, 1), (2, -1)):
      sets.append(np.roll(images, sign * s, axis=axis))
      amounts.append(s)
  return np.stack(sets), amounts


def by_shift(accuracies: np.ndarray, amounts: list[int]) -> dict[int, list[float]]:
  """``(S, K)`` accuracies per seed and set -> {shift: per-seed mean over its directions}."""
  amounts = np.asarray(amounts)
  return {s: accuracies[:, amounts == s].mean(axis=1).tolist() for s in SHIFTS}


def _row(label: str, method: str, params: int, shift_acc: dict[int, list[float]],
         seconds: float, notes: str = "") -> dict[str, Any]:
  return {"model": label, "method": method, "params": params, "test_acc": shift_acc[0],
          "shift_acc": shift_acc, "seconds": seconds, "notes": notes}


def run_perceptron(train: ArrayDataset, test: ArrayDataset, seeds: int,
                   max_epochs: int = 200) -> dict[str, Any]:
  """One-vs-rest perceptrons by Rosenblatt's rule; each seed visits examples in its own order."""
  x = train.image.reshape(len(train.image), -1)
  sets, amounts = shifted_test_sets(test.image)
  model = get_model("perceptron", num_outputs=train.num_classes)
  start = time.perf_counter()
  results = [perceptron_rule.rosenblatt_one_vs_rest(
      x, train.label, train.num_classes, max_epochs=max_epochs,
      order_seed=seed) for seed in range(seeds)]
  seconds = time.perf_counter() - start
  stacked = jax.tree.map(lambda *a: jnp.stack(a), *[{"params": r.params()} for r in results])
  acc = accuracy_per_seed(model, stacked, jnp.asarray(sets), jnp.asarray(test.label))
  updates = np.mean([np.asarray(r.updates) for r in results], axis=0)
  converged = np.mean([np.asarray(r.converged).sum() for r in results])
  notes = (f"Rosenblatt's rule, <= {max_epochs} epochs: {converged:.0f}/10 classes separated "
           f"(mistake-free pass); {updates.mean():.0f} updates per class on average")
  return _row("perceptron (one-vs-rest)", "Rosenblatt rule", x.shape[1] * 10 + 10,
              by_shift(acc, amounts), seconds, notes)


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
  sets, amounts = shifted_test_sets(test.image)
  acc = np.array([[100.0 * float(np.mean(np.asarray(clf.predict(s.reshape(len(s), -1)))
                                         == test.label)) for s in sets]])
  seconds = time.perf_counter() - start
  label = {"rbf": "kernel ridge, RBF kernel", "arccos": "kernel ridge, arc-cosine kernel"}
  notes = f"exact, n = {len(x)}; chosen on held-out 20% of train: " + ", ".join(
      f"{k}={v}" for k, v in best.items())
  return _row(label[kernel], "exact kernel", len(x) * train.num_classes,
              by_shift(acc, amounts), seconds, notes)


def run_rung(rung: Rung, train: ArrayDataset, test: ArrayDataset, seeds: int,
             steps_scale: float) -> dict[str, Any]:
  """Trains ``seeds`` copies of a gradient-trained rung together; accuracy per shift."""
  model = get_model(rung.model, num_outputs=train.num_classes, **rung.kwargs)
  steps = max(1, int(rung.steps * steps_scale))
  keys = jax.random.split(jax.random.key(0), seeds)
  start = time.perf_counter()
  variables = train_seeds(model, jnp.asarray(train.image), jnp.asarray(train.label), keys,
                          steps=steps, batch_size=rung.batch_size,
                          tx=optax.adam(rung.learning_rate))
  variables = jax.block_until_ready(variables)
  seconds = time.perf_counter() - start
  sets, amounts = shifted_test_sets(test.image)
  acc = accuracy_per_seed(model, variables, jnp.asarray(sets), jnp.asarray(test.label))
  params = sum(int(np.prod(p.shape[1:])) for p in jax.tree.leaves(variables["params"]))
  notes = f"Adam lr {rung.learning_rate:g}, batch {rung.batch_size}, {steps} steps"
  if "gamma" in rung.kwargs:
    notes += f", gamma={rung.kwargs['gamma']}"
  return _row(rung.label, "gradient (Adam)", params, by_shift(acc, amounts), seconds, notes)


def _mean_std(values: list[float]) -> str:
  return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


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
    shifts = " | ".join(_mean_std(r["shift_acc"][s]) for s in SHIFTS[1:])
    lines.append(f"| {r['model']} | {r['method']} | {r['params']:,} | "
                 f"{_mean_std(r['test_acc'])} | {shifts} | {r['seconds']:.0f} | {r['notes']} |")
  lines += ["", "Shift s: every test image rolled circularly by s pixels, accuracy averaged "
            "over the four directions.", "",
            f"Command: `{command}` ({seconds:.0f} s wall clock)."]
  return "\n".join(lines) + "\n"


def plot_shifts(rows: list[dict[str, Any]], path: pathlib.Path) -> None:
  """Accuracy against circular shift, one line per rung."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  colors = plt.get_cmap("tab20").colors  # more rungs than the default 10-colour cycle
  for i, r in enumerate(rows):
    means = [np.mean(r["shift_acc"][s]) for s in SHIFTS]
    ax.plot(SHIFTS, means, marker="os^D"[i % 4], color=colors[(2 * i) % 20 + (i >= 10)],
            label=r["model"])
  ax.set_xlabel("circular shift of test images (pixels)")
  ax.set_ylabel("test accuracy (%)")
  ax.set_xticks(SHIFTS)
  ax.set_title("digits: translation invariance along the ladder")
  ax.legend(fontsize=7, loc="lower left")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  known = {"perceptron", "kernel_ridge"} | {r.model for r in RUNGS}
  only = set(_ONLY.value) or known
  if only - known:
    raise app.UsageError(f"unknown rung(s) {sorted(only - known)}; known: {sorted(known)}")
  train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
  start = time.perf_counter()
  rows = []

  def report(row):
    print(f"{row['model']:42s} {_mean_std(row['test_acc'])}  ({row['seconds']:.0f} s)",
          flush=True)
    rows.append(row)

  if "perceptron" in only:
    report(run_perceptron(train, test, _SEEDS.value))
  if "kernel_ridge" in only:
    report(run_kernel_ridge(train, test, "rbf"))
    report(run_kernel_ridge(train, test, "arccos"))
  for rung in RUNGS:
    if rung.model in only:
      report(run_rung(rung, train, test, _SEEDS.value, _STEPS_SCALE.value))
  seconds = time.perf_counter() - start
  outdir = pathlib.Path(_OUTDIR.value)
  outdir.mkdir(parents=True, exist_ok=True)
  command = "python -m experiments.digits_ladder"
  table = markdown_table(rows, command, seconds, _SEEDS.value, (len(train), len(test)))
  (outdir / "table.md").write_text(table)
  (outdir / "results.json").write_text(json.dumps(
      {"rows": rows, "seconds": seconds, "command": command}, indent=1))
  plot_shifts(rows, outdir / "shift.png")
  print(table)


if __name__ == "__main__":
  app.run(main)
