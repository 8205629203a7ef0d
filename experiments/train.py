r"""Trains a model by config; rerunning the same command on the same workdir resumes.

    python -m experiments.train --config=experiments/configs/default.py --workdir=workdirs/default
    python -m experiments.train --config=experiments/configs/digits_cnn.py --workdir=workdirs/d \
        --config.optimizer.learning_rate=0.01

Multi-host: start one process per host with ``--distributed`` (TPU pods and SLURM/Open MPI
clusters are detected automatically), or give ``--coordinator_address``, ``--num_processes``
and ``--process_id`` explicitly.
"""

from __future__ import annotations

import json
import pathlib
import sys

from absl import app, flags, logging
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
  """A short markdown table of a run's results."""
  rows = [("eval accuracy", f"{results['eval_accuracy']:.4f}"),
          ("eval loss", f"{results['eval_loss']:.4f}"),
          ("train accuracy (last log window)", f"{results['train_accuracy']:.4f}"),
          ("steps", str(results["step"])),
          ("examples/s", f"{results['examples_per_s']:,.0f}"),
          ("train seconds (this run)", f"{results['seconds']:.1f}"),
          ("devices x processes", f"{results['devices']} x {results['processes']}")]
  return "\n".join(["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def parse_flags(argv: list[str]) -> list[str]:
  """Parses flags; a bad flag or config override exits with one line instead of a traceback."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.exit(f"error: {e}")
  except (AttributeError, KeyError) as e:
    # ml_collections raises these for an override of a field the config does not have.
    sys.exit(f"error: the config has no field {str(e).strip(chr(34))}; check the spelling of "
             f"the --config.<field> override against the config file's get_config()")
  except (TypeError, ValueError) as e:
    sys.exit(f"error: bad --config override: {e}")


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import jax

  if _DISTRIBUTED.value or _COORDINATOR.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                               num_processes=_NUM_PROCESSES.value, process_id=_PROCESS_ID.value)
  from jaxnets.errors import JaxnetsError
  from jaxnets.train import TrainingDiverged, train_and_evaluate

  logging.set_verbosity(logging.WARNING)
  try:
    config = _CONFIG.value
    config.get("seed")  # a config file that failed to load raises its error on first access
  except OSError as e:
    reason = str(e).strip().splitlines()[-1].strip()
    sys.exit(f"error: cannot load the --config file: {reason}")
  try:
    train_and_evaluate(config, _WORKDIR.value)
  except JaxnetsError as e:
    sys.exit(f"error: {e}")
  except TrainingDiverged as e:
    sys.exit(f"error: {e}")
  if jax.process_index() == 0:
    workdir = pathlib.Path(_WORKDIR.value)
    print(results_table(json.loads((workdir / "results.json").read_text())))
    print(f"metrics: {workdir / 'metrics.jsonl'}  checkpoints: {workdir / 'checkpoints'}")


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
