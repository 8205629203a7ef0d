"""Carlini & Wagner's L2 attack (2017, sec. V.A), untargeted, with a binary search over c.

Change of variables ``x' = lo + (hi - lo) (1 + tanh w) / 2`` keeps ``x'`` in the box; Adam
minimises ``||x' - x||_2^2 + c max(z_y - max_{k != y} z_k + kappa, 0)`` over ``w``. The constant
``c`` of each example is searched (x10 until the attack succeeds, then bisection, as in the
paper and foolbox), and each example keeps the smallest successful perturbation seen at any
step of any search round.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from jaxnets.adversarial.base import (ApplyFn, AttackResult, broadcast, check_inputs, finish,
                                      flat_norm, margin, shrink_to_boundary)
from jaxnets.errors import JaxnetsError


def carlini_wagner(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array, *,
                   steps: int = 100, binary_search_steps: int = 9,
                   initial_const: float = 1e-3, learning_rate: float = 0.01,
                   confidence: float = 0.0, refine_steps: int = 10,
                   bounds: tuple[float, float] = (0.0, 1.0)) -> AttackResult:
  """The CW-L2 minimal perturbation of every example.

  Args:
    apply_fn, params, x, y: see :func:`jaxnets.adversarial.fgsm.fgsm`.
    steps: Adam steps per value of ``c`` (paper and foolbox: 10000; fewer suffice on
      small models).
    binary_search_steps: rounds of the search over ``c`` (foolbox: 9).
    initial_const: the first ``c`` (foolbox: 1e-3).
    learning_rate: Adam's step size on ``w`` (foolbox: 0.01).
    confidence: the margin ``kappa`` the adversarial logit must win by.
    refine_steps: bisection steps shrinking the best perturbation to the boundary (0: off).
    bounds: the input box.

  Returns:
    The per-example :class:`AttackResult` (unsuccessful examples return ``x``).
  """
  lo, hi = check_inputs(x, y, bounds)
  if steps < 1 or binary_search_steps < 1 or not initial_const > 0 or not learning_rate > 0:
    raise JaxnetsError("carlini_wagner needs steps >= 1, binary_search_steps >= 1 and positive "
                       f"initial_const and learning_rate; got {steps}, {binary_search_steps}, "
                       f"{initial_const}, {learning_rate}")
  return _cw(apply_fn, params, jnp.asarray(x), jnp.asarray(y), jnp.float32(initial_const),
             jnp.float32(learning_rate), jnp.float32(confidence), int(steps),
             int(binary_search_steps), int(refine_steps), lo, hi)


def _to_box(w, lo, hi):
  return lo + (hi - lo) * (jnp.tanh(w) + 1) / 2


def _objective(apply_fn, params, x, y, w, c, confidence, lo, hi):
  x_adv = _to_box(w, lo, hi)
  logits = apply_fn(params, x_adv).astype(jnp.float32)
  dist = jnp.sum((x_adv - x).reshape(x.shape[0], -1) ** 2, axis=1)
  hinge = jnp.maximum(margin(logits, y) + confidence, 0.0)
  return jnp.sum(dist + c * hinge), (x_adv, logits, dist)


def _keep_best(x, y, best, x_adv, logits, dist):
  best_x, best_dist = best
  ok = (margin(logits, y) < 0) & (dist < best_dist)
  return jnp.where(broadcast(ok, x), x_adv, best_x), jnp.where(ok, dist, best_dist)


@functools.partial(jax.jit, static_argnums=(0, 11, 12))
def _adam_step(apply_fn, params, x, y, w, opt_state, best, succeeded, c, learning_rate,
               confidence, lo, hi):
  """One Adam step on ``w`` for every example; records the best successful point so far."""
  grads, (x_adv, logits, dist) = jax.grad(
      lambda v: _objective(apply_fn, params, x, y, v, c, confidence, lo, hi), has_aux=True)(w)
  best = _keep_best(x, y, best, x_adv, logits, dist)
  updates, opt_state = optax.adam(learning_rate).update(grads, opt_state, w)
  return w + updates, opt_state, best, succeeded | (margin(logits, y) < 0)


@functools.partial(jax.jit, static_argnums=(0, 9, 10))
def _end_round(apply_fn, params, x, y, w, best, succeeded, bracket, confidence, lo, hi):
  """The last point's verdict, and the next ``c`` of each example (x10 or bisection)."""
  c, lower, upper = bracket
  _, (x_adv, logits, dist) = _objective(apply_fn, params, x, y, w, c, confidence, lo, hi)
  best = _keep_best(x, y, best, x_adv, logits, dist)
  succeeded = succeeded | (margin(logits, y) < 0)
  upper = jnp.where(succeeded, jnp.minimum(upper, c), upper)
  lower = jnp.where(succeeded, lower, jnp.maximum(lower, c))
  c = jnp.where(jnp.isfinite(upper), (lower + upper) / 2, c * 10)
  return best, (c, lower, upper)


@functools.partial(jax.jit, static_argnums=(0, 5, 6, 7))
def _end(apply_fn, params, x, y, x_adv, refine_steps, lo, hi):
  if refine_steps:
    x_adv = shrink_to_boundary(apply_fn, params, x, y, x_adv, lo, hi, refine_steps)
  return finish(apply_fn, params, x, y, x_adv)


def _cw(apply_fn, params, x, y, initial_const, learning_rate, confidence, steps, search_steps,
        refine_steps, lo, hi):
  # Adam steps are dispatched one at a time from Python (a compiled loop runs XLA CPU
  # convolutions ~2.5x slower, see jaxnets.adversarial.pgd); nothing leaves the device.
  n = x.shape[0]
  # atanh of the clean input (shrunk slightly so that the box's edges stay finite)
  w0 = jnp.arctanh(jnp.clip((x - lo) / (hi - lo) * 2 - 1, -1 + 1e-6, 1 - 1e-6))
  bracket = (jnp.full(n, initial_const), jnp.zeros(n), jnp.full(n, jnp.inf))
  best = (x, jnp.full(n, jnp.inf))
  for _ in range(search_steps):
    w, opt_state, succeeded = w0, optax.adam(learning_rate).init(w0), jnp.zeros(n, bool)
    for _ in range(steps):
      w, opt_state, best, succeeded = _adam_step(apply_fn, params, x, y, w, opt_state, best,
                                                 succeeded, bracket[0], learning_rate,
                                                 confidence, lo, hi)
    best, bracket = _end_round(apply_fn, params, x, y, w, best, succeeded, bracket, confidence,
                               lo, hi)
  return _end(apply_fn, params, x, y, best[0], refine_steps, lo, hi)
