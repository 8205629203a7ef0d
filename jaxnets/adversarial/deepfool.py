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


@functools.partial(jax.jit, static_argnums=(0, 5, 6, 7, 8))
def _deepfool(apply_fn, params, x, y, overshoot, steps, refine_steps, lo, hi):
  n = x.shape[0]

  def body(carry):
    i, r_total, active = carry
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
    return i + 1, r_total + broadcast(active, step) * step, active

  # Stops when every example's label changed (or after ``steps``): the batch waits for its
  # slowest example, not for the step budget.
  _, r_total, _ = jax.lax.while_loop(lambda c: (c[0] < steps) & jnp.any(c[2]), body,
                                     (0, jnp.zeros_like(x), jnp.ones(n, bool)))
  x_adv = jnp.clip(x + (1 + overshoot) * r_total, lo, hi)
  if refine_steps:
    x_adv = shrink_to_boundary(apply_fn, params, x, y, x_adv, lo, hi, refine_steps)
  return finish(apply_fn, params, x, y, x_adv)
