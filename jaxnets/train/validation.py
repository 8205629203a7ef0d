"""Checks a training config before anything is built: one clear line per problem."""

from __future__ import annotations

import ml_collections

from jaxnets.errors import JaxnetsError

REQUIRED = ("seed", "batch_size", "num_steps")


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

  Checks the fields every task shares (seed, sizes, intervals, divisibility of the batch by
  the devices), then the task's own (``jaxnets.train.tasks``).

  Args:
    config: a training config (see ``experiments/configs/default.py``).
    device_count: devices over which the global batch is split.
  """
  from jaxnets.train.tasks import TASKS  # tasks import validation's users

  task = config.get("task", "supervised")
  if task not in TASKS:
    from jaxnets.errors import unknown_name

    raise unknown_name("task", task, TASKS)
  required = REQUIRED + getattr(TASKS[task], "REQUIRED", ())
  for field in required:
    _get(config, field)
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
  validate = getattr(TASKS[task], "validate", None)
  if validate is not None:
    validate(config)
