"""Supervised training from a config: a registered model, a per-example loss, an optimiser.

The task the CLI trainer runs by default (``config.task = "supervised"``): classification,
segmentation (per-pixel labels) and anything else whose batches are ``{"image", "label"}``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxnets.data import DATASETS, get_dataset
from jaxnets.data.sampling import eval_batches
from jaxnets.errors import JaxnetsError, unknown_name
from jaxnets.models import MODELS, get_model
from jaxnets.train import parallel
from jaxnets.train.losses import LOSSES
from jaxnets.train.metrics import summarize_confusion
from jaxnets.train.optim import OPTIMIZERS, SCHEDULES, create_optimizer, create_schedule
from jaxnets.train.state import TrainState
from jaxnets.train.steps import make_eval_step, make_train_step
from jaxnets.typing import Metrics

DTYPES = ("float32", "bfloat16")


def _augmentation(name: str | None):
  if name in (None, "none"):
    return None
  from jaxnets.data.augment import AUGMENTATIONS  # only configs that augment need it

  if name not in AUGMENTATIONS:
    raise unknown_name("augmentation", name, AUGMENTATIONS)
  return AUGMENTATIONS[name]


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises :class:`JaxnetsError` for the first unknown name in a supervised config."""
  if config.dataset.name not in DATASETS:
    raise unknown_name("dataset", config.dataset.name, DATASETS)
  if config.model.name not in MODELS:
    raise unknown_name("model", config.model.name, MODELS)
  if config.optimizer.name not in OPTIMIZERS:
    raise unknown_name("optimizer", config.optimizer.name, OPTIMIZERS)
  schedule = config.optimizer.get("schedule", "constant")
  if schedule not in SCHEDULES:
    raise unknown_name("schedule", schedule, SCHEDULES)
  if config.get("loss", "cross_entropy") not in LOSSES:
    raise unknown_name("loss", config.loss, LOSSES)
  if config.get("dtype", "float32") not in DTYPES:
    raise unknown_name("dtype", config.dtype, DTYPES)
  lr = config.optimizer.learning_rate
  if not isinstance(lr, (int, float)) or not lr > 0:
    raise JaxnetsError(f"config.optimizer.learning_rate must be positive, got {lr!r}")


def load_datasets(config: ml_collections.ConfigDict):
  """The ``(train, eval)`` datasets a config names."""
  options = dict(config.dataset.get("options", {}) or {})
  data_dir = config.dataset.get("data_dir")
  train = get_dataset(config.dataset.name, config.dataset.get("train_split", "train"),
                      data_dir=data_dir, **options)
  evaluation = get_dataset(config.dataset.name, config.dataset.get("eval_split", "test"),
                           data_dir=data_dir, **options)
  return train, evaluation


class SupervisedTask:
  """A model, loss and optimiser from ``config``, trained on ``config.dataset``.

  Attributes:
    train_data, eval_data: the datasets.
    model: the Flax module (``jaxnets.models.get_model``).
    tx: the optax optimiser; ``schedule`` its learning rate.
  """

  REQUIRED = ("dataset.name", "model.name", "optimizer.name", "optimizer.learning_rate")
  validate = staticmethod(validate)

  def __init__(self, config: ml_collections.ConfigDict):
    validate(config)
    self.config = config
    self.train_data, self.eval_data = load_datasets(config)
    kwargs: dict[str, Any] = dict(config.model.get("kwargs", {}) or {})
    if config.get("dtype", "float32") != "float32":
      kwargs["dtype"] = jnp.dtype(config.dtype)  # compute dtype; params stay float32
    self.model = get_model(config.model.name, num_outputs=self.train_data.num_classes, **kwargs)
    self.tx = create_optimizer(config.optimizer, config.num_steps)
    self.schedule = create_schedule(config.optimizer, config.num_steps)
    self.loss_fn = LOSSES[config.get("loss", "cross_entropy")]
    self._sample = self.train_data.get_batch(np.arange(1))["image"]
    self.train_step = make_train_step(self.loss_fn,
                                      _augmentation(config.dataset.get("augment", "none")),
                                      self.schedule)
    self._eval_step = None

  def init_state(self, rng: jax.Array) -> TrainState:
    """A fresh :class:`TrainState` from ``rng`` (jit- and vmap-able)."""
    variables = self.model.init(rng, jnp.asarray(self._sample), train=False)
    return TrainState.create(apply_fn=self.model.apply, params=variables["params"], tx=self.tx,
                             batch_stats=variables.get("batch_stats", {}))

  def evaluate(self, state: TrainState, mesh) -> Metrics:
    """Loss and accuracy over the whole eval split (sums accumulated on device)."""
    if self._eval_step is None:
      rep, shard = parallel.replicated(mesh), parallel.batch_sharded(mesh)
      self._eval_step = jax.jit(make_eval_step(self.loss_fn, self.eval_data.num_classes),
                                in_shardings=(rep, shard), out_shardings=rep)
    totals = None
    batch_size = self.config.get("eval_batch_size", self.config.batch_size)
    for local in eval_batches(self.eval_data, batch_size, process_index=jax.process_index(),
                              process_count=jax.process_count()):
      sums = self._eval_step(state, parallel.global_batch(local, mesh))
      totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
    totals = parallel.host_copy(totals)
    return {"loss": float(totals["loss_sum"] / totals["count"]),
            **summarize_confusion(totals["confusion"])}

  def console(self, metrics: Metrics) -> str:
    """The task's part of the progress line."""
    return f"loss {metrics['loss']:.4f} acc {metrics['accuracy']:.3f}"
