"""Training several seeds of one small model at once, for the one-command tables.

``train_seeds`` runs S independent training runs together: one jitted step ``jax.vmap``-ed over
seeds, with the whole (small) dataset and every batch's indices on device, so there are no
host-device transfers or checkpoints in the loop. It is for in-memory datasets of a few
thousand examples (MNIST-1D, digits); every model trained here is also trainable by config
through ``experiments/train.py``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax


def batch_indices(key: jax.Array, n: int, batch_size: int, steps: int) -> jax.Array:
  """Indices ``(steps, batch_size)``: each epoch a fresh permutation of ``range(n)``, sliced.

  Drawn once before training, so the steps do no sorting.
  """
  steps_per_epoch = n // batch_size
  epochs = -(-steps // steps_per_epoch)
  perms = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))
  batches = perms[:, :steps_per_epoch * batch_size].reshape(-1, batch_size)
  return batches[:steps]


def _loss_fn(model, params, batch_stats, x, y, rng):
  """Mean softmax cross-entropy of one seed's batch, and its updated BatchNorm statistics."""
  variables = {"params": params}
  if batch_stats:
    variables["batch_stats"] = batch_stats
    logits, updates = model.apply(variables, x, train=True, mutable=["batch_stats"],
                                  rngs={"dropout": rng})
    batch_stats = updates["batch_stats"]
  else:
    logits = model.apply(variables, x, train=True, rngs={"dropout": rng})
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
  return loss, batch_stats


@functools.partial(jax.jit, static_argnames=("model", "tx", "steps", "batch_size"))
def _init_seeds(model, tx, keys, x_train, *, steps, batch_size):
  """Per seed: variables, optimiser state, dropout key and all ``(steps, batch)`` indices."""

  def one_seed(key):
    init_key, data_key, dropout_key = jax.random.split(key, 3)
    variables = model.init(init_key, x_train[:1])
    params, batch_stats = variables["params"], variables.get("batch_stats", {})
    indices = batch_indices(data_key, x_train.shape[0], batch_size, steps)
    return (params, batch_stats, tx.init(params)), dropout_key, indices

  return jax.vmap(one_seed)(keys)


# Static model and optimiser: calls with equal ones (e.g. the regular and shuffled MNIST-1D
# rows, which share one ``tx``) reuse one compiled step.
@functools.partial(jax.jit, static_argnames=("model", "tx"), donate_argnums=(2,))
def _step_seeds(model, tx, carry, t, dropout_keys, indices, x_train, y_train):
  """One optimiser step of every seed, on its own batch ``indices[:, t]``; returns the new
  carry and ``t + 1`` (the step counter stays on device)."""

  def one_seed(carry, dropout_key, idx):
    params, batch_stats, opt_state = carry
    rng = jax.random.fold_in(dropout_key, t)
    grads, batch_stats = jax.grad(functools.partial(_loss_fn, model), has_aux=True)(
        params, batch_stats, x_train[idx], y_train[idx], rng)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), batch_stats, opt_state

  idx = jax.lax.dynamic_index_in_dim(indices, t, axis=1, keepdims=False)
  return jax.vmap(one_seed)(carry, dropout_keys, idx), t + 1


def train_seeds(model, x_train: jax.Array, y_train: jax.Array, keys: jax.Array, *,
                steps: int, batch_size: int, tx: optax.GradientTransformation) -> dict:
  """Trains one model from each key in ``keys (S,)`` together; returns stacked variables.

  One jitted step ``jax.vmap``-ed over seeds, data on device. Each seed draws its own
  initialisation, dropout masks and batches (a fresh permutation of the training set every
  epoch), so the seeds are independent runs of the same recipe. BatchNorm statistics
  (``batch_stats``) are updated in training mode and returned with the params. Loss: mean
  softmax cross-entropy.

  The steps are dispatched from Python rather than folded into one ``lax.scan``: on XLA's CPU
  backend (jax 0.10) convolutions inside a loop body ran about 10x slower than the same step
  called as its own program (digits CNN: 1.5k vs 16k examples/s), while dispatch is
  asynchronous and costs microseconds per step.
  """
  carry, dropout_keys, indices = _init_seeds(model, tx, keys, x_train, steps=steps,
                                             batch_size=batch_size)
  t = jnp.zeros((), jnp.int32)
  for _ in range(steps):
    carry, t = _step_seeds(model, tx, carry, t, dropout_keys, indices, x_train, y_train)
  params, batch_stats, _ = carry
  return {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}


@functools.partial(jax.jit, static_argnames="model")
def _accuracies(model, stacked_variables: dict, xs: jax.Array, y: jax.Array) -> jax.Array:

  def acc(variables, x):
    return 100.0 * jnp.mean(model.apply(variables, x).argmax(-1) == y)

  return jax.vmap(jax.vmap(acc, in_axes=(None, 0)), in_axes=(0, None))(stacked_variables, xs)


def accuracy_per_seed(model, stacked_variables: dict, xs: jax.Array, y: jax.Array
                      ) -> np.ndarray:
  """Accuracy (%) of each seed's variables on each of K test sets ``xs (K, N, ...)`` with
  labels ``y (N,)``; shape ``(S, K)``. One compiled function for all seeds and test sets."""
  return np.asarray(_accuracies(model, stacked_variables, xs, y))
