"""The fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, sec. 3).

``x_adv = clip(x + eps sign(grad_x L(x, y)), lo, hi)`` for L-inf; the L2 variant steps
``eps g / ||g||_2``. For a linear model ``z = W x + b`` the L-inf step changes the logit
difference ``z_i - z_j`` by at most ``eps ||w_i - w_j||_1``, with equality when the step's sign
pattern is ``sign(w_i - w_j)`` (sec. 3's "eps ||w||_1" growth with the dimension).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxnets.adversarial.base import (ApplyFn, AttackResult, broadcast, check_inputs, finish,
                                      flat_norm, input_grad)


def fgsm(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array, *, eps: float,
         norm: str = "linf", bounds: tuple[float, float] = (0.0, 1.0)) -> AttackResult:
  """One gradient step of size ``eps`` that increases the cross-entropy, clipped to the box.

  Args:
    apply_fn: ``(params, x) -> logits (N, K)``.
    params: the model's parameters (for Flax: ``state.variables()``).
    x: ``(N, ...)`` inputs in ``bounds``; y: ``(N,)`` labels.
    eps: the budget (``>= 0``) in ``norm``.
    norm: ``"linf"`` (sign of the gradient) or ``"l2"`` (normalised gradient).
    bounds: the input box ``(lo, hi)``.

  Returns:
    The per-example :class:`AttackResult`; ``||r||_norm <= eps``.

  Example:
    >>> res = fgsm(flax_apply(model), state.variables(), x, y, eps=0.1)
    >>> robust_accuracy = 1 - res.success.mean()
  """
  lo, hi = check_inputs(x, y, bounds, eps=eps, norm=norm)
  return _fgsm(apply_fn, params, jnp.asarray(x), jnp.asarray(y), jnp.float32(eps), norm, lo, hi)


@functools.partial(jax.jit, static_argnums=(0, 5, 6, 7))
def _fgsm(apply_fn, params, x, y, eps, norm, lo, hi):
  g = input_grad(apply_fn, params, x, y)
  x_adv = jnp.clip(x + eps * direction(g, norm), lo, hi)
  return finish(apply_fn, params, x, y, x_adv)


def direction(g: jax.Array, norm: str) -> jax.Array:
  """The steepest-ascent unit step for ``norm``: ``sign(g)`` (L-inf) or ``g / ||g||_2``."""
  if norm == "linf":
    return jnp.sign(g)
  return g / broadcast(jnp.maximum(flat_norm(g), 1e-12), g)
