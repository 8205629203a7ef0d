"""DeepFool, L2 (Moosavi-Dezfooli, Fawzi & Frossard 2016, Algorithm 2).

At the current point, linearise every logit difference ``f_k = z_k - z_y`` (``w_k = grad f_k``)
and step to the nearest linearised boundary: ``l = argmin_k |f_k| / ||w_k||``,
``r_i = (|f_l| + 1e-4) / ||w_l||^2 w_l``. Iterate from ``x + (1 + overshoot) sum r_i`` until the
label changes. For an affine binary classifier the first step lands exactly on the boundary:
``||r|| = |w.x + b| / ||w||`` (the paper's eq. 3). The paper's Table 1 gives the median-like
robustness rho = ||r||_2 / ||x||_2: 0.2 (MNIST LeNet), 0.02 (CIFAR-10), 2e-3 (ImageNet).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.adversarial.base import (ApplyFn, AttackResult, broadcast, check_inputs, finish,
                                      flat_norm, shrink_to_boundary)
from jaxnets.errors import JaxnetsError


def deepfool(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array, *, steps: int = 50,
             overshoot: float = 0.02, refine_steps: int = 10,
             bounds: tuple[float, float] = (0.0, 1.0)) -> AttackResult:
  """The minimal-L2 DeepFool perturbation of every example.

  Args:
    apply_fn, params, x, y: see :func:`jaxnets.adversarial.fgsm.fgsm`.
    steps: maximum linearisation steps (foolbox: 50).
    overshoot: the total step is ``(1 + overshoot)`` times the summed steps (paper: 0.02).
    refine_steps: bisection steps along the found perturbation that shrink it back to the
      decision boundary (:func:`~jaxnets.adversarial.base.shrink_to_boundary`; 0 = off, the
      paper's algorithm).
    bounds: the input box (every iterate is clipped to it).

  Returns:
    The per-example :class:`AttackResult` (no budget: ``rho`` is the attack's measurement).
  """
  lo, hi = check_inputs(x, y, bounds)
  if steps < 1 or overshoot < 0 or refine_steps < 0:
    raise JaxnetsError(f"deepfool needs steps >= 1, overshoot >= 0 and refine_steps >= 0, got "
                       f"{steps}, {overshoot}, {refine_steps}")
  return _deepfool(apply_fn, params, jnp.asarray(x), jnp.asarray(y), jnp.float32(overshoot),
                   int(steps), int(refine_steps), lo, hi)


def _logit_differences(apply_fn, params, x, y):
  """``f_k = z_k - z_y`` ``(N, K)`` and their input gradients ``(N, K, ...)``."""

  def f(z):
    logits = apply_fn(params, z).astype(jnp.float32)
    return logits - jnp.take_along_axis(logits, y[:, None], axis=1)

  values, vjp = jax.vjp(f, x)
  k = values.shape[1]
  # One backward pass per class, batched: examples are independent, so the cotangent e_k of
  # every example gives each example's own gradient of f_k.
  grads = jax.vmap(lambda e: vjp(jnp.broadcast_to(e, values.shape))[0])(jnp.eye(k))
  return values, jnp.moveaxis(grads, 0, 1)


@functools.partial(jax.jit, static_argnums=(0, 7, 8))
def _deepfool_step(apply_fn, params, x, y, r_total, active, overshoot, lo, hi):
  """One linearisation step for every still-active example."""
  n = x.shape[0]
  x_i = jnp.clip(x + (1 + overshoot) * r_total, lo, hi)
  values, grads = _logit_differences(apply_fn, params, x_i, y)
  k = values.shape[1]
  w_norm = jnp.linalg.norm(grads.reshape(n, k, -1), axis=2)
  is_true = jax.nn.one_hot(y, k, dtype=bool)
  distance = jnp.where(is_true, jnp.inf, jnp.abs(values) / jnp.maximum(w_norm, 1e-12))
  l = jnp.argmin(distance, axis=1)
  f_l = jnp.take_along_axis(values, l[:, None], axis=1)[:, 0]
  w_l = jnp.take_along_axis(grads, l.reshape((n, 1) + (1,) * (grads.ndim - 2)), axis=1)[:, 0]
  n_l = jnp.take_along_axis(w_norm, l[:, None], axis=1)[:, 0]
  step = broadcast((jnp.abs(f_l) + 1e-4) / jnp.maximum(n_l, 1e-12) ** 2, w_l) * w_l
  # An example stops once its label changed (some f_k > 0): later steps would only grow r.
  active = active & (jnp.max(jnp.where(is_true, -jnp.inf, values), axis=1) <= 0)
  return r_total + broadcast(active, step) * step, active


@functools.partial(jax.jit, static_argnums=(0, 5, 6, 7))
def _deepfool_end(apply_fn, params, x, y, r_total, refine_steps, lo, hi, overshoot):
  x_adv = jnp.clip(x + (1 + overshoot) * r_total, lo, hi)
  if refine_steps:
    x_adv = shrink_to_boundary(apply_fn, params, x, y, x_adv, lo, hi, refine_steps)
  return finish(apply_fn, params, x, y, x_adv)


def _deepfool(apply_fn, params, x, y, overshoot, steps, refine_steps, lo, hi):
  # Dispatched step by step from Python (a compiled loop runs XLA CPU convolutions ~2.5x
  # slower, see jaxnets.adversarial.pgd) until every example's label changed. Finished
  # examples leave the working set: when at most half of it is still active, the active ones
  # are gathered into a batch of the next power of two (padded with copies of one of them), so
  # the late steps cost what their few examples cost (on the digits CNN most examples finish
  # in under 10 of the ~20 steps the slowest needs).
  n = x.shape[0]
  r_total = jnp.zeros_like(x)
  idx = np.arange(n)
  xs, ys, rs, active = x, y, r_total, jnp.ones(n, bool)
  for _ in range(steps):
    rs, active = _deepfool_step(apply_fn, params, xs, ys, rs, active, overshoot, lo, hi)
    alive = np.asarray(active)
    if not alive.any():
      break
    m = int(alive.sum())
    if m <= len(idx) // 2:
      r_total = r_total.at[idx].set(rs)
      keep = idx[alive]
      size = 1 << (m - 1).bit_length()
      idx = np.concatenate([keep, np.full(size - m, keep[0])])
      xs, ys, rs, active = x[idx], y[idx], r_total[idx], jnp.ones(size, bool)
  r_total = r_total.at[idx].set(rs)
  return _deepfool_end(apply_fn, params, x, y, r_total, refine_steps, lo, hi, overshoot)
