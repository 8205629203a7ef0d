"""The generalization checks' data (the project's datasets, flattened) and their training call.

Data come from ``jaxnets.data`` (the one digits split, MNIST-1D from its generator); networks
are trained by ``jaxnets.train.minimize_model``, the engine every model in the repository
trains through.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets.data import digits as digits_data
from jaxnets.data import mnist1d as mnist1d_data
from jaxnets.train import minimize_model


def mnist1d(num_samples: int = 5000, seed: int = 0) -> tuple[np.ndarray, ...]:
  """MNIST-1D from generator seed ``seed`` (80/20 split), standardized by the training mean/std.

  Returns ``(x_train, y_train, x_test, y_test)``; ``x``: ``(N, 40)`` float32, ``y`` int32.
  """
  train = mnist1d_data.load("train", num_samples=num_samples, generator_seed=seed)
  test = mnist1d_data.load("test", num_samples=num_samples, generator_seed=seed)
  x, xt = train.image[..., 0], test.image[..., 0]
  mu, sd = x.mean(), x.std()
  return (((x - mu) / sd).astype(np.float32), train.label,
          ((xt - mu) / sd).astype(np.float32), test.label)


def digits() -> tuple[np.ndarray, ...]:
  """The project's digits split (1438 train / 359 test, stratified), flattened to ``(N, 64)``
  in [0, 1]. Returns ``(x_train, y_train, x_test, y_test)``."""
  train, test = digits_data.load("train"), digits_data.load("test")
  return (train.image.reshape(len(train), -1), train.label,
          test.image.reshape(len(test), -1), test.label)


def loss_fn(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example logistic loss (one logit, labels in {0, 1}) or softmax cross-entropy."""
  if logits.shape[-1] == 1:
    return jax.nn.softplus(-(2.0 * labels - 1.0) * logits[:, 0])
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def predictions(logits: jax.Array) -> jax.Array:
  """Class predictions: the sign of a single logit (labels {0, 1}) or the argmax."""
  logits = jnp.asarray(logits)
  return (logits[:, 0] > 0).astype(jnp.int32) if logits.shape[-1] == 1 else logits.argmax(-1)


def accuracy(logits: jax.Array, labels: jax.Array) -> float:
  """Fraction classified correctly."""
  return float(jnp.mean(predictions(logits) == jnp.asarray(labels)))


@functools.lru_cache(maxsize=None)
def _fitted(loss_target: float, error_target: float):
  """``(state, data) -> bool``: full-train loss <= ``loss_target`` and train error <=
  ``error_target``. Cached per target pair so the engine compiles the rule once."""
  def reached(state, data):
    logits = state.apply_fn(state.variables(), data["image"])
    return jnp.logical_and(jnp.mean(loss_fn(logits, data["label"])) <= loss_target,
                           jnp.mean(predictions(logits) != data["label"]) <= error_target)
  return reached


def fit(model, tx: optax.GradientTransformation, x: np.ndarray, y: np.ndarray, key: jax.Array,
        *, num_steps: int, batch_size: int, loss_target: float | None = None,
        error_target: float = 0.0, check_every: int = 100) -> tuple[dict, int, bool]:
  """Trains ``model`` on ``(x, y)`` with ``loss_fn`` through the engine.

  With ``loss_target``, training stops at the first multiple of ``check_every`` steps where
  the full-training-set loss is at most it and the train error at most ``error_target``
  (default 0: every example classified correctly, Zhang et al. 2017's "fit"), or at
  ``num_steps``; ``loss_target=inf`` stops on the error alone.

  ``num_steps`` must be a multiple of ``check_every`` (steps are fused in groups of it).

  Returns ``(variables, steps taken, whether the target was reached)``.
  """
  stop = None if loss_target is None else _fitted(float(loss_target), float(error_target))
  result = minimize_model(model, tx, {"image": jnp.asarray(x), "label": jnp.asarray(y)},
                          key=key, num_steps=num_steps, batch_size=batch_size,
                          loss_fn=loss_fn, stop_when=stop,
                          check_every=check_every if stop else 0,
                          steps_per_call=check_every)
  return result.state.variables(), int(result.state.step), bool(result.stopped)
