r"""Trains a model by config; rerunning the same command on the same workdir resumes.

    python -m experiments.train --config=experiments/configs/default.py --workdir=workdirs/default
    python -m experiments.train --config=experiments/configs/digits_cnn.py --workdir=workdirs/d \
        --config.optimizer.learning_rate=0.01

Multi-host: start one process per host with ``--distributed`` (TPU pods and SLURM/Open MPI
clusters are detected automatically), or give ``--coordinator_address``, ``--num_processes``
and ``--process_id`` explicitly.

Bad input exits with one ``error: ...`` line and status 2 (``jaxnets.cli``).
"""

from __future__ import annotations

import json
import pathlib

from absl import flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", "experiments/configs/default.py",
                                          "Training config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdirs/default",
                               "Checkpoints, metrics and results go here; reruns resume.")
_DISTRIBUTED = flags.DEFINE_bool("distributed", False,
                                 "Call jax.distributed.initialize() (multi-host runs).")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index.")


def results_table(results: dict) -> str:
  """A short markdown table of a run's results: every eval metric, the train loss, speed."""
  rows = [(f"eval {k[5:].replace('_', ' ')}", f"{v:.4f}") for k, v in results.items()
          if k.startswith("eval_")]
  rows += [(f"train {k} (last log window)", f"{results['train_' + k]:.4f}")
           for k in ("loss", "accuracy") if f"train_{k}" in results]
  rows += [("steps", str(results["step"])),
           ("examples/s", f"{results['examples_per_s']:,.0f}"),
           ("train seconds (this run)", f"{results['seconds']:.1f}"),
           ("devices x processes", f"{results['devices']} x {results['processes']}")]
  return "\n".join(["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def main(argv: list[str]) -> None:
  import jax

  from jaxnets import cli

  config = cli.load_config(_CONFIG)
  if _DISTRIBUTED.value or _COORDINATOR.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                               num_processes=_NUM_PROCESSES.value, process_id=_PROCESS_ID.value)
  from jaxnets.train import train_and_evaluate

  logging.set_verbosity(logging.ERROR)  # orbax's notes on every save/restore are noise here
  train_and_evaluate(config, _WORKDIR.value)
  if jax.process_index() == 0:
    workdir = pathlib.Path(_WORKDIR.value)
    print(results_table(json.loads((workdir / "results.json").read_text())))
    print(f"metrics: {workdir / 'metrics.jsonl'}  checkpoints: {workdir / 'checkpoints'}")


if __name__ == "__main__":
  from jaxnets import cli

  cli.run(main)
