"""Optimisers and learning-rate schedules from a config (optax, used directly)."""

from __future__ import annotations

import ml_collections
import optax

from jaxnets.errors import JaxnetsError, unknown_name

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "step")


def create_schedule(config: ml_collections.ConfigDict, num_steps: int) -> optax.Schedule:
  """The learning-rate schedule named by ``config.schedule``.

  ``constant``; ``cosine`` decay to 0 over ``num_steps``; ``warmup_cosine`` with linear warmup
  over ``config.warmup_steps``; ``step`` multiplies by 0.1 at 50% and 75% of training (He et al.
  2016's CIFAR recipe).
  """
  lr = config.learning_rate
  name = config.get("schedule", "constant")
  if name == "constant":
    return optax.constant_schedule(lr)
  if name == "cosine":
    return optax.cosine_decay_schedule(lr, num_steps)
  if name == "warmup_cosine":
    warmup = config.get("warmup_steps", 0)
    return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(num_steps, warmup + 1))
  if name == "step":
    return optax.piecewise_constant_schedule(
        lr, {int(num_steps * 0.5): 0.1, int(num_steps * 0.75): 0.1})
  raise unknown_name("schedule", name, SCHEDULES)


def create_optimizer(config: ml_collections.ConfigDict, num_steps: int
                     ) -> optax.GradientTransformation:
  """``optax`` optimiser named by ``config.name`` with the schedule of ``create_schedule``.

  Weight decay (``config.weight_decay``) is decoupled for ``adamw`` and an L2 term added to the
  gradient for ``sgd``/``momentum``/``adam``.
  """
  name = config.name
  if name not in OPTIMIZERS:
    raise unknown_name("optimizer", name, OPTIMIZERS)
  if not config.learning_rate > 0:
    raise JaxnetsError(f"optimizer.learning_rate must be positive, got {config.learning_rate}")
  schedule = create_schedule(config, num_steps)
  weight_decay = config.get("weight_decay", 0.0)
  if weight_decay < 0:
    raise JaxnetsError(f"optimizer.weight_decay must be >= 0, got {weight_decay}")
  if name == "adamw":
    return optax.adamw(schedule, weight_decay=weight_decay)
  if name == "sgd":
    tx = optax.sgd(schedule)
  elif name == "momentum":
    tx = optax.sgd(schedule, momentum=config.get("momentum", 0.9),
                   nesterov=config.get("nesterov", False))
  else:
    tx = optax.adam(schedule)
  if weight_decay:
    tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
  return tx
