"""Pure training and evaluation steps; ``parallel.py`` jits them over a device mesh."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from jaxnets.train.metrics import compute_metrics, confusion_matrix
from jaxnets.train.state import TrainState
from jaxnets.typing import Batch, Metrics

LossFn = Callable[[jax.Array, jax.Array], jax.Array]
Augment = Callable[[jax.Array, Batch], Batch]

TrainStep = Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Metrics]]
EvalStep = Callable[[TrainState, Batch], Metrics]


def _global_norm(tree) -> jax.Array:
  return optax.global_norm(tree)


def make_train_step(loss_fn: LossFn, augment: Augment | None = None) -> TrainStep:
  """Returns ``train_step(state, batch, rng) -> (state, metrics)``.

  The step's randomness is ``fold_in(rng, state.step)``: the same for a given step however the
  run was interrupted and resumed. Metrics include the gradient, parameter and update norms
  (always logged: they are how divergence is diagnosed) and the batch-mean loss.
  """

  def train_step(state: TrainState, batch: Batch, rng: jax.Array):
    step_rng = jax.random.fold_in(rng, state.step)
    augment_rng, dropout_rng = jax.random.split(step_rng)
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
    new_state = state.apply_gradients(grads=grads)
    if has_bn:
      new_state = new_state.replace(batch_stats=updates["batch_stats"])
    metrics = dict(compute_metrics(logits, batch["label"], losses))
    metrics["grad_norm"] = _global_norm(grads)
    metrics["param_norm"] = _global_norm(new_state.params)
    metrics["update_norm"] = _global_norm(
        jax.tree.map(jnp.subtract, new_state.params, state.params))
    return new_state, metrics

  return train_step


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
