"""Exact kernel classifiers on a Gram matrix, for small n (O(n^2) memory, O(n^3) time).

A kernel k(x, x') = <Phi(x), Phi(x')> gives the classifier argmax_c f_c(x) with
``f(x) = sum_i alpha_i k(x_i, x)`` without ever forming Phi. Kernel ridge regression on one-hot
targets Y (the representer theorem; Schoelkopf & Smola 2002, sec. 4.2) solves

    alpha = (K + lambda I)^{-1} Y,      f(x) = k(x, X) alpha,

with ``K_ij = k(x_i, x_j)``, solved by the project's one solver, ``theory.least_squares``
(``ridge_path`` there gives alpha for a whole path of lambda). Random-feature models (:mod:`jaxnets.models.kernel_classifier`)
approximate these machines; these are the exact ones they converge to.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError, unknown_name
from theory.kernels import arccos_kernel
from theory.least_squares import ridge_solve

Kernel = Callable[[jax.Array, jax.Array], jax.Array]


def _sq_dists(x1: jax.Array, x2: jax.Array) -> jax.Array:
  d = (x1**2).sum(-1)[:, None] + (x2**2).sum(-1)[None, :] - 2 * x1 @ x2.T
  return jnp.maximum(d, 0.0)  # rounding can make tiny distances negative


@jax.jit
def rbf_kernel(x1: jax.Array, x2: jax.Array, gamma: float = 1.0) -> jax.Array:
  """``exp(-gamma |x - x'|^2)``: ``(n1, d), (n2, d) -> (n1, n2)``."""
  return jnp.exp(-gamma * _sq_dists(x1, x2))


@functools.partial(jax.jit, static_argnames="degree")
def polynomial_kernel(x1: jax.Array, x2: jax.Array, degree: int = 3,
                      c: float = 1.0) -> jax.Array:
  """``(<x, x'> + c)^degree``: ``(n1, d), (n2, d) -> (n1, n2)``."""
  return (x1 @ x2.T + c) ** degree


@jax.jit
def linear_kernel(x1: jax.Array, x2: jax.Array) -> jax.Array:
  """``<x, x'>``: the kernel of the identity feature map."""
  return x1 @ x2.T


KERNELS: dict[str, Callable[..., jax.Array]] = {
    "rbf": rbf_kernel,
    "arccos": arccos_kernel,  # the one arc-cosine kernel, theory.kernels' (Cho & Saul 2009)
    "polynomial": polynomial_kernel,
    "linear": linear_kernel,
}


def get_kernel(name: str, **params) -> Kernel:
  """The kernel ``name`` with its parameters bound, e.g. ``get_kernel("rbf", gamma=0.05)``."""
  if name not in KERNELS:
    raise unknown_name("kernel", name, KERNELS)
  fn = KERNELS[name]
  return lambda x1, x2: fn(x1, x2, **params)


class KernelRidgeClassifier:
  """Kernel ridge regression on one-hot labels; predicts the argmax of ``k(x, X) alpha``.

  Example::

    clf = KernelRidgeClassifier(get_kernel("rbf", gamma=0.05), reg=1e-3)
    clf.fit(x_train, y_train, num_classes=10)
    accuracy = (clf.predict(x_test) == y_test).mean()
  """

  def __init__(self, kernel: Kernel, reg: float = 1e-3):
    if reg <= 0:
      raise JaxnetsError(f"ridge reg must be > 0 (it makes K + reg I invertible), got {reg}")
    self.kernel, self.reg = kernel, reg
    self.x_train = self.alpha = None

  def fit(self, x: jax.Array, labels: jax.Array, num_classes: int) -> "KernelRidgeClassifier":
    """Solves for alpha on ``x (n, ...)`` (flattened) and integer ``labels (n,)``."""
    x = jnp.asarray(x, jnp.float32).reshape(len(x), -1)
    if len(labels) != len(x):
      raise JaxnetsError(f"{len(x)} inputs but {len(labels)} labels")
    targets = jax.nn.one_hot(jnp.asarray(labels), num_classes)
    self.x_train = x
    self.alpha = ridge_solve(self.kernel(x, x), targets, self.reg)
    return self

  def decision_function(self, x: jax.Array) -> jax.Array:
    """Scores ``f(x) = k(x, X) alpha``: ``(m, ...) -> (m, num_classes)``."""
    if self.alpha is None:
      raise JaxnetsError("KernelRidgeClassifier is not fitted; call fit(x, labels) first")
    x = jnp.asarray(x, jnp.float32).reshape(len(x), -1)
    return self.kernel(x, self.x_train) @ self.alpha

  def predict(self, x: jax.Array) -> jax.Array:
    """Predicted classes ``(m,)``."""
    return self.decision_function(x).argmax(-1)
