"""Training: the one engine (``engine.run``), its steps and tasks, checkpoints and the config glue.

* ``train_and_evaluate(config, workdir)`` -- the CLI trainer: mesh data parallelism, orbax
  resume, metrics, health guards.
* ``fit(config, seeds=None)`` -- the same training in memory (no workdir), one seed or several
  in one compiled step.
* ``minimize(objective, params, tx, data, ...)`` -- any differentiable objective of parameters
  on in-memory data: what the theory checks and utilities train with.
"""

from jaxnets.train.engine import DeviceBatches, HostBatches, RunResult, TrainingDiverged, run
from jaxnets.train.loop import fit, train_and_evaluate
from jaxnets.train.minimize import minimize, minimize_model
from jaxnets.train.state import TrainState

__all__ = ["DeviceBatches", "HostBatches", "RunResult", "TrainState", "TrainingDiverged", "fit",
           "minimize", "minimize_model", "run", "train_and_evaluate"]
