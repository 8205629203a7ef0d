"""Training several seeds of one small model at once, for the one-command tables.

``train_seeds`` runs S independent training runs as one program: ``jax.vmap`` over seeds inside
one jitted ``lax.scan`` over steps, with the whole (small) dataset on device, so the Python
loop, host-device transfers and per-step dispatch of the checkpointing trainer disappear. It
is for in-memory datasets of a few thousand examples (MNIST-1D, digits); every model trained
here is also trainable by config through ``experiments/train.py``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax


def batch_indices(key: jax.Array, n: int, batch_size: int, steps: int) -> jax.Array:
  """Indices ``(steps, batch_size)``: each epoch a fresh permutation of ``range(n)``, sliced.

  Drawn once before training, so the scan over steps does no sorting.
  """
  steps_per_epoch = n // batch_size
  epochs = -(-steps // steps_per_epoch)
  perms = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, epochs))
  batches = perms[:, :steps_per_epoch * batch_size].reshape(-1, batch_size)
  return batches[:steps]


# The model, step count, batch size and optimiser are static: calls with equal ones (e.g. the
# regular and shuffled MNIST-1D rows, which share one ``tx``) reuse one compiled program.
@functools.partial(jax.jit, static_argnames=("model", "steps", "batch_size", "tx"))
def train_seeds(model, x_train: jax.Array, y_train: jax.Array, keys: jax.Array, *,
                steps: int, batch_size: int, tx: optax.GradientTransformation) -> dict:
  """Trains one model from each key in ``keys (S,)`` together; returns stacked variables.

  ``jax.vmap`` over seeds inside one jitted ``lax.scan`` over steps, data on device. Each seed
  draws its own initialisation, dropout masks and batches (a fresh permutation of the
  training set every epoch), so the seeds are independent runs of the same recipe. BatchNorm
  statistics (``batch_stats``) are updated in training mode and returned with the params.
  Loss: mean softmax cross-entropy.
  """

  def loss_fn(params, batch_stats, x, y, rng):
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

  def one_seed(key):
    init_key, data_key, dropout_key = jax.random.split(key, 3)
    variables = model.init(init_key, x_train[:1])
    params, batch_stats = variables["params"], variables.get("batch_stats", {})
    opt_state = tx.init(params)

    def step(carry, t_idx):
      params, batch_stats, opt_state = carry
      t, idx = t_idx
      rng = jax.random.fold_in(dropout_key, t)
      grads, batch_stats = jax.grad(loss_fn, has_aux=True)(
          params, batch_stats, x_train[idx], y_train[idx], rng)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), batch_stats, opt_state), None

    indices = batch_indices(data_key, x_train.shape[0], batch_size, steps)
    (params, batch_stats, _), _ = jax.lax.scan(step, (params, batch_stats, opt_state),
                                               (jnp.arange(steps), indices))
    return {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}

  return jax.vmap(one_seed)(keys)


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
