"""Checks a training config before anything is built: one clear line per problem."""

from __future__ import annotations

import ml_collections

from jaxnets.data import DATASETS
from jaxnets.errors import JaxnetsError, unknown_name
from jaxnets.models import MODELS
from jaxnets.train.losses import LOSSES
from jaxnets.train.optim import OPTIMIZERS, SCHEDULES

DTYPES = ("float32", "bfloat16")
REQUIRED = ("seed", "dataset.name", "model.name", "optimizer.name", "optimizer.learning_rate",
            "batch_size", "num_steps")


def _get(config: ml_collections.ConfigDict, dotted: str):
  value = config
  for part in dotted.split("."):
    if part not in value:
      raise JaxnetsError(f"config has no field {dotted!r}; every training config needs "
                         f"{', '.join(REQUIRED)} (see experiments/configs/default.py)")
    value = value[part]
  return value


def _positive_int(config: ml_collections.ConfigDict, name: str, *, allow_zero: bool = False):
  value = config.get(name, 0 if allow_zero else None)
  low = 0 if allow_zero else 1
  if not isinstance(value, int) or isinstance(value, bool) or value < low:
    kind = "a non-negative" if allow_zero else "a positive"
    raise JaxnetsError(f"config.{name} must be {kind} integer, got {value!r}")
  return value


def validate_config(config: ml_collections.ConfigDict, device_count: int) -> None:
  """Raises :class:`JaxnetsError` naming the first impossible or unknown value in ``config``.

  Args:
    config: a training config (see ``experiments/configs/default.py``).
    device_count: devices over which the global batch is split.
  """
  for field in REQUIRED:
    _get(config, field)
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
  _positive_int(config, "num_steps")
  for name in ("log_every", "eval_every", "checkpoint_every"):
    _positive_int(config, name, allow_zero=True)
  for name in ("batch_size", "eval_batch_size"):
    if name == "eval_batch_size" and name not in config:
      continue
    size = _positive_int(config, name)
    if size % device_count:
      raise JaxnetsError(f"config.{name}={size} is not divisible by the {device_count} devices; "
                         f"use a multiple of {device_count}")
