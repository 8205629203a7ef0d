r"""Reproduces Table 1 of Greydanus & Kobak (2020, "Scaling down deep learning") on MNIST-1D.

    python -m experiments.mnist1d_table --outdir=reports/mnist1d_table

Trains logistic regression, the MLP (40-100-100-10) and the 1-D CNN on MNIST-1D (4000 train /
1000 test) and on its shuffled variant (the 40 positions permuted by one fixed permutation),
each from its config file (``experiments/configs/mnist1d_*.py``: the paper's recipe, Adam,
learning rate 1e-2, batch 100, 6000 steps), with ``jaxnets.train.fit``: the ``--seeds`` seeds
of a row train together in one compiled step (``jax.vmap``), data on device, and seed s is the
run ``python -m experiments.train --config=<that file> --config.seed=s`` would make. Also
measures translation invariance: test accuracy when every test sequence is circularly shifted
by 0-3 positions.

Writes ``table.md`` (ours vs the paper, mean ± std over seeds), ``results.json`` and
``shift.png`` to ``--outdir``.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from absl import flags
import numpy as np

from jaxnets import cli
from jaxnets.errors import JaxnetsError, unknown_name

# Test accuracy (%) in Greydanus & Kobak (2020), Table 1 ("MNIST-1D" and "MNIST-1D (shuffled)").
PAPER = {
    ("logistic", False): 32.0, ("mlp", False): 68.0, ("cnn", False): 94.0,
    ("logistic", True): 32.0, ("mlp", True): 68.0, ("cnn", True): 56.0,
}
# Table row -> its config module under experiments/configs.
ROWS = {"logistic": "mnist1d_logistic", "mlp": "mnist1d_mlp", "cnn": "mnist1d_cnn"}
SHIFTS = (0, 1, 2, 3)

_SEEDS = flags.DEFINE_integer(
    "seeds", 10, "Seeds per model (trained together by vmap); the CNN's seed-to-seed std is about "
    "1 point, so 3 seeds leave its mean uncertain by more than half a point.")
_STEPS = flags.DEFINE_integer("steps", None, "Override every row's num_steps (paper: 6000).")
_MODELS = flags.DEFINE_list("models", list(ROWS), "Rows of the table to train.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 5000,
                                    "MNIST-1D size before the 80/20 split (paper: 5000).")


def row_config(name: str, shuffled: bool, *, steps: int | None, num_samples: int):
  """The config of row ``name``: its config file, shuffled or not, with the flags' overrides."""
  config = importlib.import_module(f"experiments.configs.{ROWS[name]}").get_config()
  config.dataset.options.shuffle_seq = shuffled
  config.dataset.options.num_samples = num_samples
  if steps is not None:
    config.num_steps = steps
  config.log_every = config.num_steps  # fit() logs into its history only; once is enough
  return config


def run_row(name: str, shuffled: bool, *, seeds: int, steps: int | None,
            num_samples: int) -> dict[str, Any]:
  """Trains row ``name`` on (shuffled) MNIST-1D; returns accuracies per seed and shift."""
  from jaxnets.data import get_dataset
  from jaxnets.eval import shifts as sh
  from jaxnets.train import fit

  config = row_config(name, shuffled, steps=steps, num_samples=num_samples)
  start = time.perf_counter()
  result = fit(config, seeds=range(seeds))
  seconds = time.perf_counter() - start
  state = result.state
  train, test = (get_dataset("mnist1d", split, **config.dataset.options)
                 for split in ("train", "test"))
  sets, amounts = sh.shifted_sets(test.image, SHIFTS, axes=(1,))
  test_acc = sh.mean_by_shift(sh.accuracy_per_seed(state.apply_fn, state.variables(), sets,
                                                   test.label), amounts, SHIFTS)
  train_acc = sh.accuracy_per_seed(state.apply_fn, state.variables(), train.image[None],
                                   train.label)[:, 0]
  return {"label": name, "model": name, "config": ROWS[name], "shuffled": shuffled,
          "test_acc": test_acc[0], "train_acc": train_acc.tolist(), "shift_acc": test_acc,
          "paper": PAPER[(name, shuffled)], "seconds": seconds, "steps": config.num_steps}


def markdown_table(rows: list[dict[str, Any]], command: str, seconds: float) -> str:
  """The table: ours (mean ± std over seeds) vs the paper, plus accuracy under shifts."""
  from jaxnets.eval.tables import mean_std, shift_columns

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
    lines.append(f"| {r['model']} | {data} | {mean_std(r['test_acc'])} | {r['paper']:.0f} | "
                 f"{mean_std(r['train_acc'])} | {shift_columns(r, SHIFTS)} | "
                 f"{r['seconds']:.0f} |")
  lines += ["", f"Command: `{command}` ({seconds:.0f} s wall clock)."]
  return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
  from jaxnets.eval.tables import mean_std, plot_shift_curves, write_report

  for m in _MODELS.value:
    if m not in ROWS:
      raise unknown_name("model", m, ROWS)
  if _SEEDS.value < 1:
    raise JaxnetsError(f"--seeds must be >= 1, got {_SEEDS.value}")
  start = time.perf_counter()
  rows = []
  for shuffled in (False, True):
    for name in _MODELS.value:
      row = run_row(name, shuffled, seeds=_SEEDS.value, steps=_STEPS.value,
                    num_samples=_NUM_SAMPLES.value)
      print(f"{name:9s} {'shuffled' if shuffled else 'regular ':8s} test "
            f"{mean_std(row['test_acc'])}  ({row['seconds']:.0f} s)", flush=True)
      rows.append(row)
  seconds = time.perf_counter() - start
  outdir = cli.outdir("reports/mnist1d_table")
  command = cli.command_line("experiments.mnist1d_table")
  table = markdown_table(rows, command, seconds)
  write_report(outdir, table, {"rows": rows, "seconds": seconds, "command": command})
  plot_shift_curves([r for r in rows if not r["shuffled"]], SHIFTS, outdir / "shift.png",
                    xlabel="circular shift of test sequences (positions)",
                    title="MNIST-1D: translation invariance")
  print(table)


if __name__ == "__main__":
  cli.run(main)
