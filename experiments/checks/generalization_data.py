"""Small in-memory datasets and a compact jitted trainer shared by the generalization checks.

The checks train many small networks; a ``lax.scan`` over steps keeps Python out of the loop.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax


def mnist1d(num_samples: int = 5000, seed: int = 0) -> tuple[np.ndarray, ...]:
  """MNIST-1D generated locally (80/20 split), standardized by the training mean/std.

  Returns ``(x_train, y_train, x_test, y_test)``; ``x``: ``(N, 40)`` float32, ``y`` int32.
  """
  import mnist1d.data as mnist1d_data  # generated from templates, never downloaded
  args = mnist1d_data.get_dataset_args()
  args.num_samples = num_samples
  args.seed = seed
  ds = mnist1d_data.make_dataset(args)
  mu, sd = ds["x"].mean(), ds["x"].std()
  return ((ds["x"] - mu) / sd).astype(np.float32), ds["y"].astype(np.int32), \
      ((ds["x_test"] - mu) / sd).astype(np.float32), ds["y_test"].astype(np.int32)


def digits(seed: int = 0, test_fraction: float = 0.3) -> tuple[np.ndarray, ...]:
  """sklearn's 8x8 digits flattened to ``(N, 64)`` in [0, 1], split at random by ``seed``."""
  from sklearn.datasets import load_digits
  data = load_digits()
  x = (data.data / 16.0).astype(np.float32)
  y = data.target.astype(np.int32)
  perm = np.random.default_rng(seed).permutation(len(x))
  n_test = int(test_fraction * len(x))
  te, tr = perm[:n_test], perm[n_test:]
  return x[tr], y[tr], x[te], y[te]


def loss_fn(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example logistic loss (one logit, labels in {0, 1}) or softmax cross-entropy."""
  if logits.shape[-1] == 1:
    return jax.nn.softplus(-(2.0 * labels - 1.0) * logits[:, 0])
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def accuracy(logits: jax.Array, labels: jax.Array) -> float:
  """Fraction classified correctly."""
  logits = jnp.asarray(logits)
  pred = (logits[:, 0] > 0).astype(jnp.int32) if logits.shape[-1] == 1 else logits.argmax(-1)
  return float(jnp.mean(pred == jnp.asarray(labels)))


def make_trainer(apply_fn: Callable, optimizer: optax.GradientTransformation, x: np.ndarray,
                 y: np.ndarray, batch_size: int, chunk: int) -> Callable:
  """Returns ``run(params, opt_state, key) -> (params, opt_state)`` doing ``chunk`` SGD steps
  on minibatches drawn with replacement, jitted with a ``lax.scan``."""
  x, y = jnp.asarray(x), jnp.asarray(y)

  def objective(p, xb, yb):
    return jnp.mean(loss_fn(apply_fn(p, xb), yb))

  @jax.jit
  def run(params, opt_state, key):
    def step(carry, k):
      p, s = carry
      idx = jax.random.randint(k, (batch_size,), 0, x.shape[0])
      grads = jax.grad(objective)(p, x[idx], y[idx])
      updates, s = optimizer.update(grads, s, p)
      return (optax.apply_updates(p, updates), s), None
    (params, opt_state), _ = jax.lax.scan(step, (params, opt_state), jax.random.split(key, chunk))
    return params, opt_state

  return run
