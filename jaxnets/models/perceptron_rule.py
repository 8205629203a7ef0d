"""Rosenblatt's learning rule for the perceptron, and Novikoff's bound on its updates.

The rule (Rosenblatt 1958): cycle through the examples; whenever example i is misclassified,
``y_i (<w, x_i> + b) <= 0``, update ``w <- w + y_i x_i`` and ``b <- b + y_i``. Stop after a pass
with no mistake. It is not gradient descent on a smooth loss: it moves only on mistakes, by a
fixed step.

Novikoff (1962): if ``|x_i| <= R`` and some unit vector u separates the data with margin
``gamma = min_i y_i <u, x_i> > 0``, the rule (without bias, from w = 0) makes at most
``(R / gamma)^2`` updates, whatever the order of the examples. With a bias the same holds for
the augmented inputs ``(x_i, 1)``: R becomes ``sqrt(R^2 + 1)`` (u padded with a 0).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets.errors import JaxnetsError
from jaxnets.train.minimize import minimize


@dataclasses.dataclass(frozen=True)
class PerceptronResult:
  """What Rosenblatt's rule returns.

  Attributes:
    w: weights ``(d,)`` (binary) or ``(d, K)`` (one-vs-rest). b: bias ``()`` or ``(K,)``.
    updates: number of updates (mistakes) ``()`` or ``(K,)``.
    epochs: passes over the data, the last one mistake-free if converged.
    converged: whether a pass had no mistake within ``max_epochs``.
  """

  w: jax.Array
  b: jax.Array
  updates: jax.Array
  epochs: jax.Array
  converged: jax.Array

  def params(self) -> dict:
    """The weights as ``Perceptron`` module params (``jaxnets.models.perceptron``)."""
    w = self.w if self.w.ndim == 2 else self.w[:, None]
    return {"dense": {"kernel": w, "bias": jnp.reshape(self.b, (w.shape[1],))}}


# One optimiser object: the train state carries it as static data, so a fresh one per call
# would recompile the step every time.
_UNIT_STEP = optax.sgd(1.0)


@functools.lru_cache(maxsize=2)  # one function object per flag: the engine compiles it once
def _criterion(use_bias: bool):
  """Rosenblatt's rule as a step of the engine: SGD with step 1 on the perceptron criterion.

  For one example, ``-sum_c y_c (<w_c, x> + b_c) [y_c (<w_c, x> + b_c) <= 0]`` with the
  mistake indicator held fixed has gradient ``-y_c x`` (and ``-y_c``) on a mistake and 0
  otherwise, so ``w <- w - 1 * grad`` is exactly ``w <- w + y x`` on mistakes. The K columns
  are K independent perceptrons (one-vs-rest) that see the examples in the same order.
  """
  bias_step = 1.0 if use_bias else 0.0

  def objective(params, batch, rng):
    del rng
    x, y = batch["x"], batch["y"]  # (1, d), (1, K)
    fields = x @ params["w"] + bias_step * params["b"]
    mistake = jax.lax.stop_gradient((y * fields <= 0).astype(fields.dtype))
    return -jnp.sum(mistake * y * fields), {"mistakes": mistake[0]}

  return objective


@functools.lru_cache(maxsize=2)
def _separated(use_bias: bool):
  """``(state, data) -> bool``: every example right for every class, so the next pass is
  mistake-free (the rule's stopping condition, checked once per epoch)."""
  bias_step = 1.0 if use_bias else 0.0

  def separated(state, data):
    fields = data["x"] @ state.params["w"] + bias_step * state.params["b"]
    return jnp.all(data["y"] * fields > 0)

  return separated


def _rosenblatt(x: jax.Array, ys: jax.Array, order_seed: int | None, max_epochs: int,
                use_bias: bool) -> PerceptronResult:
  """K perceptrons on ``x (n, d)`` with labels ``ys (n, K)`` in {-1, +1}, from w = 0."""
  n, d = x.shape
  k = ys.shape[1]
  params = {"w": jnp.zeros((d, k), jnp.float32), "b": jnp.zeros((k,), jnp.float32)}
  bias_step = 1.0 if use_bias else 0.0
  result = minimize(_criterion(use_bias), params, _UNIT_STEP,
                    {"x": jnp.asarray(x), "y": jnp.asarray(ys)}, num_steps=max_epochs * n,
                    batch_size=1, data_seed=order_seed, stop_when=_separated(use_bias),
                    check_every=n, steps_per_call=n, log_every=n)
  per_epoch = np.rint(np.stack([h["mistakes"] for h in result.history]) * n)  # (E, K)
  updates = per_epoch.sum(axis=0).astype(np.int32)
  epochs, converged = [], []
  for c in range(k):
    clean = np.flatnonzero(per_epoch[:, c] == 0)
    if clean.size:  # a mistake-free pass happened during the run
      epochs.append(int(clean[0]) + 1), converged.append(True)
    elif bool(result.stopped):  # separated at the end: the next pass is the mistake-free one
      epochs.append(len(per_epoch) + 1), converged.append(True)
    else:
      epochs.append(max_epochs), converged.append(False)
  w, b = result.state.params["w"], result.state.params["b"] * bias_step
  return PerceptronResult(w, b, jnp.asarray(updates), jnp.asarray(epochs),
                          jnp.asarray(converged))


def _check_inputs(x, y):
  x = jnp.asarray(x, jnp.float32)
  if x.ndim != 2:
    raise JaxnetsError(f"perceptron inputs must be (N, d), got shape {x.shape}; "
                       "flatten images with x.reshape(len(x), -1)")
  if len(y) != len(x):
    raise JaxnetsError(f"{len(x)} inputs but {len(y)} labels; give one label per input")
  return x


def rosenblatt(x: np.ndarray | jax.Array, y: np.ndarray | jax.Array, *, max_epochs: int = 100,
               use_bias: bool = True, order_seed: int | None = None) -> PerceptronResult:
  """Trains one perceptron on ``x (N, d)``, labels ``y (N,)`` in {-1, +1} by Rosenblatt's rule.

  Starts at w = 0, b = 0. Examples are visited in index order, or in a fresh random order each
  epoch when ``order_seed`` is given. Stops after a mistake-free pass or ``max_epochs`` passes.
  Trained by the engine (``jaxnets.train.minimize``), one example per step.
  """
  x = _check_inputs(x, y)
  y = jnp.asarray(y, jnp.float32)
  if not bool(jnp.all(jnp.abs(y) == 1)):
    raise JaxnetsError("perceptron labels must be -1 or +1; "
                       "for class labels use rosenblatt_one_vs_rest")
  result = _rosenblatt(x, y[:, None], order_seed, max_epochs, use_bias)
  return PerceptronResult(result.w[:, 0], result.b[0], result.updates[0], result.epochs[0],
                          result.converged[0])


def rosenblatt_one_vs_rest(x: np.ndarray | jax.Array, labels: np.ndarray | jax.Array,
                           num_classes: int, *, max_epochs: int = 100, use_bias: bool = True,
                           order_seed: int | None = None) -> PerceptronResult:
  """K perceptrons, class c against the rest (``y = +1`` iff ``label == c``), run together.

  Returns ``w (d, K)``, ``b (K,)``, ``updates (K,)``...; predict with the argmax of the fields
  ``x w + b`` (``jaxnets.models.perceptron.Perceptron`` with :meth:`PerceptronResult.params`).
  """
  x = _check_inputs(x, labels)
  labels = jnp.asarray(labels, jnp.int32)
  ys = jnp.where(labels[:, None] == jnp.arange(num_classes)[None, :], 1.0, -1.0)
  return _rosenblatt(x, ys, order_seed, max_epochs, use_bias)


def novikoff_bound(x: np.ndarray, y: np.ndarray, u: np.ndarray, *,
                   use_bias: bool = False) -> float:
  """``(R / gamma)^2`` for the separator u: R = max |x_i|, gamma = min y_i <u, x_i> / |u|.

  With ``use_bias`` R is measured on the augmented inputs (x_i, 1). Raises if u does not
  separate the data (gamma <= 0), where the bound says nothing.
  """
  x, y, u = np.asarray(x, np.float64), np.asarray(y, np.float64), np.asarray(u, np.float64)
  gamma = float(np.min(y * (x @ u)) / np.linalg.norm(u))
  if gamma <= 0:
    raise JaxnetsError(f"u does not separate the data (margin {gamma:.3g} <= 0); "
                       "Novikoff's bound needs a separating direction")
  radius2 = float(np.max(np.sum(x**2, axis=1))) + (1.0 if use_bias else 0.0)
  return radius2 / gamma**2


def separable_data(seed: int, n: int, d: int, margin: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``n`` points in the unit ball of R^d labelled by a random unit u, none within ``margin``
  of the hyperplane ``<u, x> = 0``. Returns ``x (n, d)``, ``y (n,)`` in {-1, +1} and ``u (d,)``.

  Points are drawn uniformly in the ball and rejected when ``|<u, x>| < margin``.
  """
  if not 0 < margin < 1:
    raise JaxnetsError(f"margin must be in (0, 1) for points in the unit ball, got {margin}")
  rng = np.random.default_rng(seed)
  u = rng.normal(size=d)
  u /= np.linalg.norm(u)
  kept = []
  while sum(len(k) for k in kept) < n:
    g = rng.normal(size=(4 * n, d))
    r = rng.uniform(size=(4 * n, 1)) ** (1.0 / d)
    pts = g / np.linalg.norm(g, axis=1, keepdims=True) * r
    kept.append(pts[np.abs(pts @ u) >= margin])
  x = np.concatenate(kept)[:n]
  return x.astype(np.float32), np.sign(x @ u).astype(np.float32), u
