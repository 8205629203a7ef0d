"""Pure training and evaluation steps; ``engine.run`` jits and calls them.

A step is ``step(state, batch, rng) -> (state, metrics)`` where ``rng`` is already the step's
own key (the engine folds the run's key with ``state.step``). Two families:

* :func:`make_train_step` -- a Flax model ``state.apply_fn`` on ``batch["image"]`` with a
  per-example loss against ``batch["label"]`` (classification, segmentation, regression).
* :func:`make_objective_step` -- any differentiable ``objective(params, batch, rng)``: what the
  theory checks and utilities minimise (MSE of a scaled model, a PAC-Bayes bound, a power
  loss), with the same optimiser state and health metrics.

Steps for other kinds of training (two-player GAN, adversarial, likelihood) live beside this
file and have the same signature.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from jaxnets.train.metrics import compute_metrics, confusion_matrix
from jaxnets.train.state import TrainState
from jaxnets.typing import Batch, Metrics, PyTree

LossFn = Callable[[jax.Array, jax.Array], jax.Array]
Augment = Callable[[jax.Array, Batch], Batch]
Objective = Callable[[PyTree, Batch, jax.Array], tuple[jax.Array, dict[str, jax.Array]]]
Schedule = Callable[[jax.Array], jax.Array]

TrainStep = Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Metrics]]
EvalStep = Callable[[TrainState, Batch], Metrics]


def apply_gradients(state: TrainState, grads: PyTree,
                    learning_rate: Schedule | None = None) -> tuple[TrainState, Metrics]:
  """One optimiser update and the health metrics every step logs.

  Returns the new state and ``{"grad_norm", "param_norm", "update_norm"}`` (plus
  ``"learning_rate"`` when the schedule is given): they are how divergence is diagnosed.
  """
  new_state = state.apply_gradients(grads=grads)
  metrics = {"grad_norm": optax.global_norm(grads),
             "param_norm": optax.global_norm(new_state.params),
             "update_norm": optax.global_norm(
                 jax.tree.map(jnp.subtract, new_state.params, state.params))}
  if learning_rate is not None:
    metrics["learning_rate"] = jnp.asarray(learning_rate(state.step), jnp.float32)
  return new_state, metrics


@functools.lru_cache(maxsize=256)  # the same step object lets the engine reuse its compilation
def make_train_step(loss_fn: LossFn, augment: Augment | None = None,
                    learning_rate: Schedule | None = None) -> TrainStep:
  """Returns ``train_step(state, batch, rng) -> (state, metrics)`` for a Flax model.

  ``rng`` splits into the augmentation key and the dropout key. BatchNorm statistics (in
  ``state.batch_stats``) are updated in training mode. Metrics: batch-mean ``loss`` and
  ``accuracy``, and :func:`apply_gradients`'s norms and learning rate.
  """

  def train_step(state: TrainState, batch: Batch, rng: jax.Array):
    augment_rng, dropout_rng = jax.random.split(rng)
    if augment is not None:
      batch = augment(augment_rng, batch)
    has_bn = bool(state.batch_stats)

    def objective(params):
      variables = state.variables(params)
      if has_bn:
        logits, updates = state.apply_fn(variables, batch["image"], train=True,
                                         mutable=["batch_stats"], rngs={"dropout": dropout_rng})
      else:
        logits = state.apply_fn(variables, batch["image"], train=True,
                                rngs={"dropout": dropout_rng})
        updates = {}
      losses = loss_fn(logits, batch["label"])
      return jnp.mean(losses), (logits, losses, updates)

    grads, (logits, losses, updates) = jax.grad(objective, has_aux=True)(state.params)
    new_state, health = apply_gradients(state, grads, learning_rate)
    if has_bn:
      new_state = new_state.replace(batch_stats=updates["batch_stats"])
    return new_state, {**compute_metrics(logits, batch["label"], losses), **health}

  return train_step


@functools.lru_cache(maxsize=256)
def make_objective_step(objective: Objective,
                        learning_rate: Schedule | None = None) -> TrainStep:
  """Returns a step minimising ``objective(params, batch, rng) -> (loss, aux_metrics)``.

  ``state`` is a :class:`TrainState` (its ``apply_fn`` unused). Metrics: ``loss``, the
  objective's auxiliary metrics, and :func:`apply_gradients`'s norms.
  """

  def step(state: TrainState, batch: Batch, rng: jax.Array):
    (loss, aux), grads = jax.value_and_grad(objective, has_aux=True)(state.params, batch, rng)
    new_state, health = apply_gradients(state, grads, learning_rate)
    return new_state, {"loss": loss, **aux, **health}

  return step


def make_eval_step(loss_fn: LossFn, num_classes: int) -> EvalStep:
  """Returns ``eval_step(state, batch) -> sums`` over the (masked) batch.

  Sums, not means, so that batches add up to exact totals over the evaluation set:
  ``loss_sum``, ``count`` and the ``confusion`` matrix (accuracy, and IoU for segmentation).
  """

  def eval_step(state: TrainState, batch: Batch):
    logits = state.apply_fn(state.variables(), batch["image"], train=False)
    mask = batch["mask"]
    losses = loss_fn(logits, batch["label"])
    per_example = losses.reshape(losses.shape[0], -1).mean(axis=1)
    return {"loss_sum": jnp.sum(per_example * mask), "count": jnp.sum(mask),
            "confusion": confusion_matrix(logits, batch["label"], num_classes, mask)}

  return eval_step
