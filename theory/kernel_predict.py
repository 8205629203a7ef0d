r"""Closed-form predictions of kernel regression and of MSE training in the kernel regime.

A network trained by gradient flow on ``L = ||f(X) - Y||^2 / (2 n)`` with learning rate ``eta``
and a constant tangent kernel ``Theta`` (the linearised network, or infinite width) has
(Lee et al. 2019, "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient
Descent", eqs. 8-11)

    f_t(X)  = Y + e^{-eta Theta t / n} (f_0(X) - Y)
    f_t(x*) = f_0(x*) + Theta(x*, X) Theta^{-1} (I - e^{-eta Theta t / n}) (Y - f_0(X)),

and after ``s`` steps of discrete gradient descent ``e^{-eta Theta t / n}`` becomes
``(I - eta Theta / n)^s``. As in neural-tangents, the normaliser ``n`` defaults to
``y_train.size`` (the loss is a mean over examples and outputs). Kernels are ``(N, N)``
matrices shared by every output column (traced kernels); targets are ``(N, K)``.

Everything is computed in the eigenbasis of the symmetric train kernel, so ``t = inf`` and
eigenvalues near zero are handled in closed form (``(1 - e^{-c lam t}) / lam -> c t`` as
``lam -> 0``), and results are exact in float64.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError
from theory.least_squares import psd_eigen, pseudo_inverse_values, ridge_solve


class Gaussian(NamedTuple):
  """A Gaussian over test outputs: ``mean (N*, K)`` and ``covariance (N*, N*)`` per output."""

  mean: jax.Array
  covariance: jax.Array | None


# The eigen-decomposition with its numerical null space is the one solver's
# (theory.least_squares): kernel ridge here is that solver; the dynamics reuse its eigenbasis.
_eigh = psd_eigen
_inverse_values = pseudo_inverse_values


def _check_targets(k_train_train: jax.Array, y_train: jax.Array) -> jax.Array:
  y = jnp.asarray(y_train)
  y = y[:, None] if y.ndim == 1 else y
  if y.ndim != 2 or y.shape[0] != k_train_train.shape[0]:
    raise JaxnetsError(f"y_train must be (N,) or (N, K) with N={k_train_train.shape[0]} "
                       f"rows like k_train_train, got shape {jnp.shape(y_train)}")
  return y


def _as_2d(f, like: jax.Array) -> jax.Array:
  f = jnp.broadcast_to(jnp.asarray(f, like.dtype), like.shape) if jnp.ndim(f) == 0 else f
  return f[:, None] if f.ndim == 1 else f


def _flat_kernel(k: jax.Array) -> jax.Array:
  """``(N1, N2, K, K) -> (N1 K, N2 K)``: a kernel with kept output axes as one big matrix."""
  n1, n2, k1, k2 = k.shape
  return jnp.transpose(k, (0, 2, 1, 3)).reshape(n1 * k1, n2 * k2)


def _predictor(k_train_train, y_train, decay: Callable, gain: Callable, diag_reg: float):
  """The shared closed form: ``decay(lam, t)`` on train residuals, ``gain(lam, t)`` = Theta^{-1}
  (1 - decay) to propagate them to test points; both applied in the kernel eigenbasis.

  A kernel with kept output axes ``(N, N, K, K)`` (``trace_axes=()``) is solved exactly as one
  ``(N K, N K)`` system, which is what a finite network's linearised dynamics needs.
  """
  k_train_train = jnp.asarray(k_train_train)
  if k_train_train.ndim == 4:
    n, num_out = k_train_train.shape[0], k_train_train.shape[2]
    y = jnp.asarray(y_train)
    if y.shape != (n, num_out):
      raise JaxnetsError(f"y_train must be ({n}, {num_out}) for a kernel of shape "
                         f"{k_train_train.shape}, got {y.shape}")
    flat = _predictor(_flat_kernel(k_train_train), y.reshape(-1, 1), decay, gain, diag_reg)

    def predict_flat(t=None, fx_train_0=0.0, fx_test_0=None, k_test_train=None):
      col = lambda f: f if jnp.ndim(f) == 0 else jnp.asarray(f).reshape(-1, 1)
      out = flat(t, col(fx_train_0), None if fx_test_0 is None else col(fx_test_0),
                 None if k_test_train is None else _flat_kernel(jnp.asarray(k_test_train)))
      if k_test_train is None:
        return out.reshape(n, num_out)
      return out[0].reshape(n, num_out), out[1].reshape(-1, num_out)

    return predict_flat
  y = _check_targets(k_train_train, y_train)
  eig = _eigh(k_train_train, diag_reg)

  def predict(t=None, fx_train_0=0.0, fx_test_0=None, k_test_train=None):
    t = math.inf if t is None else t
    if t < 0:
      raise JaxnetsError(f"time t must be >= 0, got {t}")
    f0 = _as_2d(fx_train_0, y)
    r0 = eig.vectors.T @ (f0 - y)  # residual in the eigenbasis, (N, K)
    fx_train_t = y + eig.vectors @ (decay(eig, t)[:, None] * r0)
    if k_test_train is None:
      if fx_test_0 is not None:
        raise JaxnetsError("fx_test_0 needs k_test_train (the (N*, N) test-train kernel)")
      return fx_train_t
    k_test_train_ = jnp.asarray(k_test_train)
    if k_test_train_.ndim != 2 or k_test_train_.shape[1] != y.shape[0]:
      raise JaxnetsError(f"k_test_train must be (N*, {y.shape[0]}), got "
                         f"{k_test_train_.shape}")
    f0_test = _as_2d(0.0 if fx_test_0 is None else fx_test_0,
                     jnp.zeros((k_test_train_.shape[0], y.shape[1]), y.dtype))
    fx_test_t = f0_test - (k_test_train_ @ eig.vectors) @ (gain(eig, t)[:, None] * r0)
    return fx_train_t, fx_test_t

  return predict


def gradient_descent_mse(k_train_train: jax.Array, y_train: jax.Array,
                         learning_rate: float = 1.0, diag_reg: float = 0.0,
                         normalization: float | None = None) -> Callable:
  r"""Gradient-flow predictions ``f_t`` for MSE with a constant kernel (Lee et al. 2019, eq. 9-10).

  Args:
    k_train_train: ``(N, N)`` NTK on the training inputs (shared by the K outputs), or
      ``(N, N, K, K)`` with the output axes kept (solved exactly as an ``(NK, NK)`` system).
    y_train: ``(N,)`` or ``(N, K)`` targets.
    learning_rate: ``eta``; the flow is ``df/dt = -eta Theta (f - Y) / n``.
    diag_reg: added to the kernel diagonal (absolute, not relative to its trace).
    normalization: ``n``; default ``y_train.size`` (loss = mean over all entries / 2).

  Returns:
    ``predict(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None)``: with ``t=None``
    meaning ``t = inf``, returns ``fx_train_t (N, K)``, or ``(fx_train_t, fx_test_t)`` when
    ``k_test_train (N*, N)`` is given.
  """
  c = learning_rate / (normalization or jnp.size(y_train))

  def decay(eig, t):
    if math.isinf(t):  # residuals in the kernel's null space never decay
      return jnp.where(eig.null, 1.0, 0.0).astype(eig.values.dtype)
    return jnp.exp(-c * eig.values * t)

  def gain(eig, t):
    # (1 - e^{-c lam t}) / lam, with its limit c t at lam = 0 (1/lam and 0 at t = inf).
    lam = jnp.where(eig.null, 1.0, eig.values)
    if math.isinf(t):
      return _inverse_values(eig)
    return jnp.where(eig.null, c * t, -jnp.expm1(-c * lam * t) / lam)

  return _predictor(k_train_train, y_train, decay, gain, diag_reg)


def gradient_descent_mse_discrete(k_train_train: jax.Array, y_train: jax.Array,
                                  learning_rate: float, diag_reg: float = 0.0,
                                  normalization: float | None = None) -> Callable:
  r"""Predictions after ``s`` steps of full-batch gradient descent on MSE, constant kernel.

  ``f_{s+1}(X) = f_s(X) - (eta / n) Theta (f_s(X) - Y)``, so the train residual is
  ``(I - eta Theta / n)^s r_0`` and test outputs move by
  ``Theta(x*, X) Theta^{-1} (I - (I - eta Theta / n)^s) (Y - f_0)`` (Lee et al. 2019, sec. 2.2
  with a finite step). Stable when ``eta lam_max / n < 2``.

  Returns:
    ``predict(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None)`` with ``t`` the
    number of steps (``None``: infinitely many), as :func:`gradient_descent_mse`.
  """
  c = learning_rate / (normalization or jnp.size(y_train))

  def one_minus_decay(lam, s):
    # 1 - (1 - c lam)^s without cancellation for small c lam (expm1/log1p); the power form
    # where c lam >= 1 (the residual oscillates, and diverges if c lam > 2).
    small = c * lam < 1
    log_base = jnp.log1p(-jnp.where(small, c * lam, 0.0))
    return jnp.where(small, -jnp.expm1(s * log_base), 1 - jnp.power(1 - c * lam, s))

  def decay(eig, s):
    if math.isinf(s):  # residuals in the kernel's null space never decay
      return jnp.where(eig.null, 1.0, 0.0).astype(eig.values.dtype)
    return 1 - one_minus_decay(eig.values, s)

  def gain(eig, s):
    lam = jnp.where(eig.null, 1.0, eig.values)
    if math.isinf(s):
      return _inverse_values(eig)
    return jnp.where(eig.null, c * s, one_minus_decay(lam, s) / lam)

  return _predictor(k_train_train, y_train, decay, gain, diag_reg)


def kernel_ridge(k_train_train: jax.Array, y_train: jax.Array,
                 diag_reg: float = 0.0) -> Callable[[jax.Array], jax.Array]:
  r"""Kernel ridge regression: ``predict(k_test_train) = K(x*, X) (K + diag_reg I)^{-1} Y``.

  With ``diag_reg = 0`` the inverse is the pseudo-inverse (minimum-norm interpolant), which is
  also the ``t -> inf`` limit of :func:`gradient_descent_mse` from ``f_0 = 0``. The solve is
  ``theory.least_squares.ridge_solve``.

  Returns:
    ``predict(k_test_train (N*, N)) -> (N*, K)``.
  """
  y = _check_targets(jnp.asarray(k_train_train), y_train)
  alpha = ridge_solve(k_train_train, y, diag_reg)
  return lambda k_test_train: jnp.asarray(k_test_train) @ alpha


def gp_inference(k_train_train: jax.Array, y_train: jax.Array, k_test_train: jax.Array,
                 k_test_test: jax.Array | None = None, diag_reg: float = 0.0) -> Gaussian:
  r"""GP posterior over test outputs given noisy observations.

  Rasmussen & Williams (2006, "Gaussian Processes for Machine Learning", eqs. 2.23-2.24):

  ``mean = K*X (K + s I)^{-1} Y``, ``cov = K** - K*X (K + s I)^{-1} K*X^T`` with ``s = diag_reg``
  the observation-noise variance. Every output column shares the covariance.

  Args:
    k_train_train: ``(N, N)``; y_train: ``(N, K)``; k_test_train: ``(N*, N)``;
    k_test_test: ``(N*, N*)`` or ``None`` (then no covariance is returned).
  """
  y = _check_targets(k_train_train, y_train)
  eig = _eigh(k_train_train, diag_reg)
  inv = _inverse_values(eig)
  proj = jnp.asarray(k_test_train) @ eig.vectors  # (N*, N)
  mean = proj @ (inv[:, None] * (eig.vectors.T @ y))
  cov = None if k_test_test is None else k_test_test - (proj * inv) @ proj.T
  return Gaussian(mean, cov)


def gradient_descent_mse_ensemble(ntk_train_train: jax.Array, nngp_train_train: jax.Array,
                                  y_train: jax.Array, learning_rate: float = 1.0,
                                  diag_reg: float = 0.0,
                                  normalization: float | None = None) -> Callable:
  r"""Mean and covariance of infinitely wide networks trained by gradient flow on MSE.

  With random init ``f_0 ~ GP(0, K)`` (NNGP) and constant NTK ``Theta``, outputs at time ``t``
  are Gaussian (Lee et al. 2019, eqs. 15-16): with ``T_t = Theta*X Theta^{-1} (I - e^{-eta
  Theta t / n})``,

    mean = T_t Y,     cov = K** - T_t K*X^T - K*X T_t^T + T_t K T_t^T.

  Returns:
    ``predict(t, ntk_test_train (N*, N), nngp_test_train (N*, N), nngp_test_test (N*, N*))``
    returning a :class:`Gaussian`; ``t=None`` means ``t = inf``.
  """
  y = _check_targets(ntk_train_train, y_train)
  eig = _eigh(ntk_train_train, diag_reg)
  c = learning_rate / (normalization or y.size)
  k = jnp.asarray(nngp_train_train)

  def predict(t, ntk_test_train, nngp_test_train, nngp_test_test):
    t = math.inf if t is None else t
    lam = jnp.where(eig.null, 1.0, eig.values)
    if math.isinf(t):
      gain = _inverse_values(eig)
    else:
      gain = jnp.where(eig.null, c * t, -jnp.expm1(-c * lam * t) / lam)
    transfer = ((jnp.asarray(ntk_test_train) @ eig.vectors) * gain) @ eig.vectors.T  # T_t
    cross = transfer @ jnp.asarray(nngp_test_train).T
    cov = nngp_test_test - cross - cross.T + transfer @ k @ transfer.T
    return Gaussian(transfer @ y, cov)

  return predict
