"""Registry of the kinds of training a config can ask for (``config.task``).

A task builds, from a config, what the engine needs: ``train_data`` (a random-access dataset),
``init_state(rng)``, a pure ``train_step(state, batch, rng)``, ``evaluate(state, mesh)`` on
the eval split and ``console(metrics)`` for the progress line; ``validate(config)`` (a module
function) names the first bad value. Every task trains through ``jaxnets.train.engine.run``.
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import ml_collections

from jaxnets.errors import unknown_name
from jaxnets.train import adversarial, supervised
from jaxnets.typing import Batch, Metrics, PyTree


class Task(Protocol):
  """What ``train_and_evaluate`` needs from one kind of training."""

  train_data: Any

  def init_state(self, rng: jax.Array) -> PyTree: ...

  def train_step(self, state: PyTree, batch: Batch, rng: jax.Array
                 ) -> tuple[PyTree, Metrics]: ...

  def evaluate(self, state: PyTree, mesh) -> Metrics: ...

  def console(self, metrics: Metrics) -> str: ...


# config.task -> task class (constructed from the config).
TASKS: dict[str, Any] = {
    "supervised": supervised.SupervisedTask,
    "adversarial": adversarial.AdversarialTask,  # PGD adversarial training (Madry et al.)
}


def create_task(config: ml_collections.ConfigDict) -> Task:
  """The task ``config.task`` (default ``"supervised"``) built from ``config``."""
  name = config.get("task", "supervised")
  if name not in TASKS:
    raise unknown_name("task", name, TASKS)
  return TASKS[name](config)
