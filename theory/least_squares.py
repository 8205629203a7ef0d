r"""The one ridge / least-squares solver: kernel ridge, min-norm least squares, ridge paths.

Everything is solved in the eigenbasis of a symmetric positive semi-definite Gram matrix
``G = V diag(lam) V^T``:

    (G + reg I)^+ Y = V diag(1 / (lam + reg)) V^T Y,

with eigenvalues below the round-off floor ``lam_max * n * eps`` treated as exactly zero, so
``reg = 0`` gives the pseudo-inverse -- the minimum-norm interpolant, the ``reg -> 0`` limit
of ridge regression and the point gradient descent from zero converges to. One decomposition
serves every ``reg`` of a path.

* :func:`ridge_solve` -- dual coefficients ``alpha = (K + reg I)^+ Y`` (kernel ridge; Schoelkopf
  & Smola 2002, sec. 4.2: the representer theorem puts the solution in ``span k(., x_i)``).
* :func:`least_squares` -- primal coefficients ``beta`` of ``min ||Phi beta - Y||^2 + reg
  ||beta||^2`` (min-norm when ``reg = 0``), through the smaller of ``Phi^T Phi`` and
  ``Phi Phi^T``.
* :func:`ridge_path` -- ``alpha`` for many ``reg`` at the cost of one decomposition.

Dtypes follow the inputs: NumPy float64 inputs are solved in float64 (JAX's x64 mode is enabled
for the call) and the result is NumPy; JAX or float32 inputs give a JAX array of their dtype.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError


class Eigen(NamedTuple):
  """The eigen-decomposition of a (regularised) PSD matrix, with its numerical null space."""

  values: jax.Array  # (N,), exactly 0 on the null space
  vectors: jax.Array  # (N, N), columns are eigenvectors
  null: jax.Array  # (N,) bool: eigenvalues at or below the round-off floor


def _float64_numpy(*arrays) -> bool:
  return any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays)


def _in_float64(fn):
  """Runs ``fn`` in x64 mode and returns NumPy when a NumPy float64 input asks for float64.

  NumPy in, NumPy out: a JAX float64 array used outside the x64 scope (``phi @ beta``) would
  silently compute in float32.
  """
  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    if not _float64_numpy(*args):
      return fn(*args, **kwargs)
    with jax.enable_x64(True):
      return np.asarray(fn(*args, **kwargs))
  return wrapped


def psd_eigen(gram: jax.Array, reg: float = 0.0) -> Eigen:
  """``eigh((G + G^T) / 2 + reg I)`` with eigenvalues below ``lam_max n eps`` set to zero.

  Raises:
    JaxnetsError: ``gram`` is not a square matrix.
  """
  k = jnp.asarray(gram)
  if k.ndim != 2 or k.shape[0] != k.shape[1]:
    raise JaxnetsError(f"the Gram matrix must be square (N, N), got shape {k.shape}")
  k = (k + k.T) / 2 + reg * jnp.eye(k.shape[0], dtype=k.dtype)
  values, vectors = jnp.linalg.eigh(k)
  # Eigenvalues below the round-off floor of the largest one carry no signal.
  floor = values[-1] * k.shape[0] * jnp.finfo(k.dtype).eps
  null = values <= floor
  return Eigen(jnp.where(null, 0.0, values), vectors, null)


def pseudo_inverse_values(eig: Eigen) -> jax.Array:
  """``1 / lam`` on the range, 0 on the null space: the spectrum of the pseudo-inverse."""
  return jnp.where(eig.null, 0.0, 1.0 / jnp.where(eig.null, 1.0, eig.values))


def _targets(n: int, targets) -> jax.Array:
  y = jnp.asarray(targets)
  if y.ndim not in (1, 2) or y.shape[0] != n:
    raise JaxnetsError(f"targets must be (N,) or (N, K) with N={n} rows, got shape {y.shape}")
  return y


def _ridge_solve(gram, targets, reg):
  eig = psd_eigen(gram, reg)
  y = _targets(eig.values.shape[0], targets)
  proj = eig.vectors.T @ y
  inv = pseudo_inverse_values(eig)
  return eig.vectors @ (inv[:, None] * proj if y.ndim == 2 else inv * proj)


@_in_float64
def ridge_solve(gram: jax.Array, targets: jax.Array, reg: float = 0.0) -> jax.Array:
  """Dual coefficients ``alpha = (G + reg I)^+ Y``: ``(N, N), (N,) | (N, K) -> like targets``.

  Kernel ridge regression predicts ``k(x*, X) alpha``; ``reg = 0`` is the min-norm
  interpolant.
  """
  if reg < 0:
    raise JaxnetsError(f"ridge reg must be >= 0, got {reg}")
  return _ridge_solve(gram, targets, reg)


@_in_float64
def ridge_path(gram: jax.Array, targets: jax.Array, regs: jax.Array) -> jax.Array:
  """``alpha(reg) = (G + reg I)^+ Y`` for every ``reg`` of ``regs (R,)``, one decomposition.

  Shapes: ``(N, N), (N, K), (R,) -> (R, N, K)``. For choosing ``reg`` on held-out data.
  """
  eig = psd_eigen(gram)
  y = _targets(eig.values.shape[0], targets)
  y = y[:, None] if y.ndim == 1 else y
  proj = eig.vectors.T @ y
  regs = jnp.asarray(regs, eig.values.dtype)

  def one(reg):
    lam = eig.values + reg
    inv = jnp.where(lam > 0, 1.0 / jnp.where(lam > 0, lam, 1.0), 0.0)
    return eig.vectors @ (inv[:, None] * proj)

  return jax.vmap(one)(regs)


@_in_float64
def least_squares(features: jax.Array, targets: jax.Array, reg: float = 0.0) -> jax.Array:
  r"""``beta = argmin ||Phi beta - Y||^2 + reg ||beta||^2``, the min-norm one when ``reg = 0``.

  ``features (n, p)``, ``targets (n,)`` or ``(n, K)`` -> ``(p,)`` or ``(p, K)``. For
  ``p <= n``: ``(Phi^T Phi + reg I)^+ Phi^T Y``; for ``p > n``: ``Phi^T (Phi Phi^T + reg I)^+ Y``
  (the same vector, through the smaller Gram matrix).
  """
  phi = jnp.asarray(features)
  if phi.ndim != 2:
    raise JaxnetsError(f"features must be (n, p), got shape {phi.shape}")
  n, p = phi.shape
  y = _targets(n, targets)
  if reg < 0:
    raise JaxnetsError(f"ridge reg must be >= 0, got {reg}")
  if p <= n:
    return _ridge_solve(phi.T @ phi, phi.T @ y, reg)
  return phi.T @ _ridge_solve(phi @ phi.T, y, reg)


__all__ = ["Eigen", "least_squares", "pseudo_inverse_values", "psd_eigen", "ridge_path",
           "ridge_solve"]
