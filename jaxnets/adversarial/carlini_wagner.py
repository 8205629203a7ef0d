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


@functools.partial(jax.jit, static_argnums=(0, 7, 8, 9, 10, 11))
def _cw(apply_fn, params, x, y, initial_const, learning_rate, confidence, steps, search_steps,
        refine_steps, lo, hi):
  n = x.shape[0]
  to_box = lambda w: lo + (hi - lo) * (jnp.tanh(w) + 1) / 2
  # atanh of the clean input (shrunk slightly so that the box's edges stay finite)
  w0 = jnp.arctanh(jnp.clip((x - lo) / (hi - lo) * 2 - 1, -1 + 1e-6, 1 - 1e-6))
  tx = optax.adam(learning_rate)

  def objective(w, c):
    x_adv = to_box(w)
    logits = apply_fn(params, x_adv).astype(jnp.float32)
    dist = jnp.sum((x_adv - x).reshape(n, -1) ** 2, axis=1)
    hinge = jnp.maximum(margin(logits, y) + confidence, 0.0)
    return jnp.sum(dist + c * hinge), (x_adv, logits, dist)

  def keep_best(best, x_adv, logits, dist):
    best_x, best_dist = best
    ok = (margin(logits, y) < 0) & (dist < best_dist)
    return jnp.where(broadcast(ok, x), x_adv, best_x), jnp.where(ok, dist, best_dist)

  def search_round(carry, _):
    c, lower, upper, best = carry

    def adam_step(_, inner):
      w, opt_state, best, succeeded = inner
      grads, (x_adv, logits, dist) = jax.grad(objective, has_aux=True)(w, c)
      best = keep_best(best, x_adv, logits, dist)
      updates, opt_state = tx.update(grads, opt_state, w)
      return w + updates, opt_state, best, succeeded | (margin(logits, y) < 0)

    inner = (w0, tx.init(w0), best, jnp.zeros(n, bool))
    w, _, best, succeeded = jax.lax.fori_loop(0, steps, adam_step, inner)
    _, (x_adv, logits, dist) = objective(w, c)
    best = keep_best(best, x_adv, logits, dist)
    succeeded = succeeded | (margin(logits, y) < 0)
    upper = jnp.where(succeeded, jnp.minimum(upper, c), upper)
    lower = jnp.where(succeeded, lower, jnp.maximum(lower, c))
    c = jnp.where(jnp.isfinite(upper), (lower + upper) / 2, c * 10)
    return (c, lower, upper, best), None

  init = (jnp.full(n, initial_const), jnp.zeros(n), jnp.full(n, jnp.inf),
          (x, jnp.full(n, jnp.inf)))
  (_, _, _, (x_adv, _)), _ = jax.lax.scan(search_round, init, None, length=search_steps)
  if refine_steps:
    x_adv = shrink_to_boundary(apply_fn, params, x, y, x_adv, lo, hi, refine_steps)
  return finish(apply_fn, params, x, y, x_adv)
