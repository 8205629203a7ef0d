r"""Reproduces Table 1 of Greydanus & Kobak (2020, "Scaling down deep learning") on MNIST-1D.

    python -m experiments.mnist1d_table --outdir=reports/mnist1d_table

Trains logistic regression, the MLP (40-100-100-10) and the 1-D CNN (``cnn.CNN1D``) on MNIST-1D
(4000 train / 1000 test) and on its shuffled variant (the 40 positions permuted by one fixed
permutation), with the paper's recipe: Adam, learning rate 1e-2, batch 100, 6000 steps, no
weight decay. All seeds of one model train together: ``jax.vmap`` over seeds inside one jitted
``lax.scan`` over steps, with the data on device. Also measures translation invariance: test
accuracy when every test sequence is circularly shifted by 0-3 positions.

Writes ``table.md`` (ours vs the paper, mean +- std over seeds), ``results.json`` and
``shift.png`` to ``--outdir``.
"""

from __future__ import annotations

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
from jaxnets.data import get_dataset
from jaxnets.models import get_model

# Test accuracy (%) in Greydanus & Kobak (2020), Table 1 ("MNIST-1D" and "MNIST-1D (shuffled)").
PAPER = {
    ("logistic", False): 32.0, ("mlp", False): 68.0, ("cnn", False): 94.0,
    ("logistic", True): 32.0, ("mlp", True): 68.0, ("cnn", True): 56.0,
}
# Table row -> registry name of the model.
ROWS = {"logistic": "logistic", "mlp": "mlp_mnist1d", "cnn": "cnn_mnist1d"}
SHIFTS = (0, 1, 2, 3)

_OUTDIR = flags.DEFINE_string("outdir", "reports/mnist1d_table", "Where the table is written.")
_SEEDS = flags.DEFINE_integer(
    "seeds", 10, "Seeds per model (trained together by vmap); the CNN's seed-to-seed std is about "
    "1 point, so 3 seeds leave its mean uncertain by more than half a point.")
_STEPS = flags.DEFINE_integer("steps", 6000, "Adam steps (the paper's 6000).")
_BATCH = flags.DEFINE_integer("batch_size", 100, "Batch size (the paper's 100).")
_LR = flags.DEFINE_float("learning_rate", 1e-2, "Adam learning rate (the paper's 1e-2).")
_MODELS = flags.DEFINE_list("models", list(ROWS), "Rows of the table to train.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 5000,
                                    "MNIST-1D size before the 80/20 split (paper: 5000).")


def shift_positions(x: np.ndarray, shift: int) -> np.ndarray:
  """Circularly shifts sequences ``(N, L, C)`` by ``shift`` positions along ``L``."""
  return np.roll(x, shift, axis=1)


def run_row(name: str, shuffled: bool, *, seeds: int, steps: int, batch_size: int,
            tx: optax.GradientTransformation, num_samples: int) -> dict[str, Any]:
  """Trains row ``name`` on (shuffled) MNIST-1D; returns accuracies per seed and shift."""
  train = get_dataset("mnist1d", "train", num_samples=num_samples, shuffle_seq=shuffled)
  test = get_dataset("mnist1d", "test", num_samples=num_samples, shuffle_seq=shuffled)
  model = get_model(ROWS[name], num_outputs=train.num_classes)
  # The same S keys in every row: seed s of each row starts from the same root key.
  keys = jax.random.split(jax.random.key(0), seeds)
  start = time.perf_counter()
  variables = train_seeds(model, jnp.asarray(train.image), jnp.asarray(train.label), keys,
                          steps=steps, batch_size=batch_size, tx=tx)
  variables = jax.block_until_ready(variables)
  seconds = time.perf_counter() - start
  shifted = np.stack([shift_positions(test.image, s) for s in SHIFTS])
  test_acc = accuracy_per_seed(model, variables, jnp.asarray(shifted), jnp.asarray(test.label))
  train_acc = accuracy_per_seed(model, variables, jnp.asarray(train.image)[None],
                                jnp.asarray(train.label))[:, 0]
  shift_acc = {s: test_acc[:, i].tolist() for i, s in enumerate(SHIFTS)}
  return {"model": name, "shuffled": shuffled, "test_acc": shift_acc[0],
          "train_acc": train_acc.tolist(), "shift_acc": shift_acc,
          "paper": PAPER[(name, shuffled)], "seconds": seconds}


def _mean_std(values: list[float]) -> str:
  return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


def markdown_table(rows: list[dict[str, Any]], command: str, seconds: float) -> str:
  """The table: ours (mean ± std over seeds) vs the paper, plus accuracy under shifts."""
  seeds = len(rows[0]["test_acc"]) if rows else 0
  lines = [
      "MNIST-1D test accuracy (%), mean ± std over "
      f"{seeds} seeds; paper = Greydanus & Kobak (2020), Table 1.",
      "",
      "| model | data | ours | paper | train acc | "
      + " | ".join(f"shift {s}" for s in SHIFTS) + " | train s |",
      "|---|---|---|---|---|" + "---|" * len(SHIFTS) + "---|",
  ]
  for r in rows:
    data = "shuffled" if r["shuffled"] else "regular"
    shifts = " | ".join(_mean_std(r["shift_acc"][s]) for s in SHIFTS)
    lines.append(f"| {r['model']} | {data} | {_mean_std(r['test_acc'])} | {r['paper']:.0f} | "
                 f"{_mean_std(r['train_acc'])} | {shifts} | {r['seconds']:.0f} |")
  lines += ["", f"Command: `{command}` ({seconds:.0f} s wall clock)."]
  return "\n".join(lines) + "\n"


def plot_shifts(rows: list[dict[str, Any]], path: pathlib.Path) -> None:
  """Test accuracy against circular shift, one line per model on regular MNIST-1D."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5, 3.5))
  for r in rows:
    if r["shuffled"]:
      continue
    means = [np.mean(r["shift_acc"][s]) for s in SHIFTS]
    stds = [np.std(r["shift_acc"][s]) for s in SHIFTS]
    ax.errorbar(SHIFTS, means, yerr=stds, marker="o", capsize=3, label=r["model"])
  ax.set_xlabel("circular shift of test sequences (positions)")
  ax.set_ylabel("test accuracy (%)")
  ax.set_xticks(SHIFTS)
  ax.set_title("MNIST-1D: translation invariance")
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  unknown = [m for m in _MODELS.value if m not in ROWS]
  if unknown:
    raise app.UsageError(f"unknown model(s) {unknown}; known: {list(ROWS)}")
  start = time.perf_counter()
  rows = []
  tx = optax.adam(_LR.value)  # one optimiser object: rows of one model share a compilation
  for shuffled in (False, True):
    for name in _MODELS.value:
      row = run_row(name, shuffled, seeds=_SEEDS.value, steps=_STEPS.value,
                    batch_size=_BATCH.value, tx=tx,
                    num_samples=_NUM_SAMPLES.value)
      print(f"{name:9s} {'shuffled' if shuffled else 'regular ':8s} test "
            f"{_mean_std(row['test_acc'])}  ({row['seconds']:.0f} s)", flush=True)
      rows.append(row)
  seconds = time.perf_counter() - start
  outdir = pathlib.Path(_OUTDIR.value)
  outdir.mkdir(parents=True, exist_ok=True)
  command = "python -m experiments.mnist1d_table"
  table = markdown_table(rows, command, seconds)
  (outdir / "table.md").write_text(table)
  (outdir / "results.json").write_text(json.dumps(
      {"rows": rows, "seconds": seconds, "command": command}, indent=1))
  plot_shifts(rows, outdir / "shift.png")
  print(table)


if __name__ == "__main__":
  app.run(main)
