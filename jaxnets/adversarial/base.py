"""What every attack shares: the input box, the checks of bad input, the per-example result.

An attack is a pure function ``attack(apply_fn, params, x, y, ...) -> AttackResult`` where
``apply_fn(params, x) -> logits`` (``(N, K)``), ``x`` is a batch ``(N, ...)`` inside the declared
input box ``bounds = (lo, hi)`` and ``y`` the ``(N,)`` integer labels. The public functions check
their arguments on the host (:func:`check_inputs`: a bad epsilon, norm or an input outside the
box raises :class:`~jaxnets.errors.JaxnetsError`, one line) and then call a jitted kernel with
``apply_fn`` static: the same ``apply_fn`` object compiles once per input shape.

A Flax model: ``apply_fn = flax_apply(model)`` and ``params = state.variables()`` -- the whole
variables dict, so BatchNorm statistics (``{"params", "batch_stats"}``) travel with the
parameters; the model runs in inference mode (``train=False``). Data parallelism: pass ``x``,
``y`` sharded along the batch axis (:func:`shard_batch`); every kernel is per-example, so XLA
partitions it over the mesh with no communication.
"""

from __future__ import annotations

import functools
from typing import Callable

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError

ApplyFn = Callable[[object, jax.Array], jax.Array]
NORMS = ("linf", "l2")


@flax.struct.dataclass
class AttackResult:
  """Per-example outcome of an attack (every field has leading axis ``N``).

  Attributes:
    x_adv: the adversarial inputs, inside the box (and the epsilon ball for budgeted attacks).
    success: ``argmax f(x_adv) != y``. As in foolbox, an input that was misclassified already
      counts as a success (with ``r = 0``); robust accuracy is ``1 - mean(success)``.
    rho: ``||r||_2 / ||x||_2`` with ``r = x_adv - x`` (Szegedy et al. 2014; DeepFool's rho).
    linf: ``||r||_inf``.
    l2: ``||r||_2``.
  """

  x_adv: jax.Array
  success: jax.Array
  rho: jax.Array
  linf: jax.Array
  l2: jax.Array


@functools.lru_cache(maxsize=64)
def flax_apply(model) -> ApplyFn:
  """``apply_fn(variables, x) = model.apply(variables, x, train=False)`` for a Linen model.

  Cached per model object, so repeated attacks on the same model reuse their compilation.
  ``variables`` is ``{"params": ...}`` (plus ``"batch_stats"``), e.g. ``state.variables()``.
  """
  return lambda variables, x: model.apply(variables, x, train=False)


def check_inputs(x, y, bounds: tuple[float, float], *, eps: float | None = None,
                 norm: str | None = None) -> tuple[float, float]:
  """Raises :class:`JaxnetsError` for an impossible attack; returns ``bounds`` as floats.

  Bad input: ``lo >= hi``; ``eps`` negative or not finite; ``norm`` not one of
  :data:`NORMS`; ``x`` with values outside ``[lo, hi]`` (the attack could not respect the box
  it was told about -- rescale the inputs or declare the right range); ``y`` not ``(N,)``.
  """
  lo, hi = (float(b) for b in bounds)
  if not lo < hi:
    raise JaxnetsError(f"input bounds must satisfy lo < hi, got ({lo}, {hi})")
  if eps is not None and not (np.isfinite(eps) and eps >= 0):
    raise JaxnetsError(f"epsilon must be a finite number >= 0, got {eps}")
  if norm is not None and norm not in NORMS:
    raise JaxnetsError(f"unknown norm {norm!r}; known norms: {', '.join(NORMS)}")
  x_min, x_max = float(jnp.min(x)), float(jnp.max(x))
  if x_min < lo or x_max > hi:
    raise JaxnetsError(f"inputs lie in [{x_min:.4g}, {x_max:.4g}], outside the declared range "
                       f"[{lo:.4g}, {hi:.4g}]; scale the inputs or pass bounds=(lo, hi) that "
                       f"contain them")
  if jnp.ndim(y) != 1 or jnp.shape(y)[0] != jnp.shape(x)[0]:
    raise JaxnetsError(f"labels must have shape ({jnp.shape(x)[0]},), got {jnp.shape(y)}")
  return lo, hi


def shard_batch(x: jax.Array, y: jax.Array, mesh=None) -> tuple[jax.Array, jax.Array]:
  """``x`` and ``y`` sharded along the batch axis over ``mesh`` (default: all devices).

  The batch must be divisible by the number of devices.
  """
  from jaxnets.train import parallel  # the project's one mesh convention

  mesh = parallel.create_mesh() if mesh is None else mesh
  if x.shape[0] % mesh.size:
    raise JaxnetsError(f"batch of {x.shape[0]} is not divisible by the {mesh.size} devices")
  sharding = parallel.batch_sharded(mesh)
  return jax.device_put(x, sharding), jax.device_put(y, sharding)


def per_example_loss(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array) -> jax.Array:
  """Softmax cross-entropy of each example, ``(N,)``, in the form whose gradient survives a
  confident model: ``CE = softplus(logsumexp_{k != y} (z_k - z_y))``.

  Mathematically the same as ``logsumexp(z) - z_y``, but there the gradient's true-class term
  ``p_y - 1`` rounds to 0 in float32 once ``p_y`` rounds to 1, and what is left points the wrong
  way; here the direction is a softmax over the other classes, never degenerate. (With
  ``optax.softmax_cross_entropy_with_integer_labels`` FGSM at eps = 0.2 left 4.5% of the
  standard digits CNN's test digits correct, with this form and with foolbox 2.8%.)
  """
  logits = apply_fn(params, x).astype(jnp.float32)
  z_y = jnp.take_along_axis(logits, y[:, None], axis=1)
  others = jnp.where(jax.nn.one_hot(y, logits.shape[1], dtype=bool), -jnp.inf, logits - z_y)
  return jax.nn.softplus(jax.nn.logsumexp(others, axis=1))


def input_grad(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array) -> jax.Array:
  """``d loss_i / d x_i`` for every example (examples are independent: grad of the sum)."""
  return jax.grad(lambda z: jnp.sum(per_example_loss(apply_fn, params, z, y)))(x)


def margin(logits: jax.Array, y: jax.Array) -> jax.Array:
  """``z_y - max_{k != y} z_k`` per example: negative iff misclassified."""
  true = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
  other = jnp.where(jax.nn.one_hot(y, logits.shape[1], dtype=bool), -jnp.inf, logits)
  return true - jnp.max(other, axis=1)


def flat_norm(r: jax.Array, ord: str = "l2") -> jax.Array:
  """Per-example L2 or L-inf norm of ``(N, ...)``."""
  flat = r.reshape(r.shape[0], -1)
  return jnp.max(jnp.abs(flat), axis=1) if ord == "linf" else jnp.linalg.norm(flat, axis=1)


def broadcast(v: jax.Array, x: jax.Array) -> jax.Array:
  """A per-example ``(N,)`` value shaped to broadcast against ``x`` ``(N, ...)``."""
  return v.reshape((-1,) + (1,) * (x.ndim - 1))


def finish(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array,
           x_adv: jax.Array) -> AttackResult:
  """The :class:`AttackResult` of ``x_adv`` against the clean ``x`` (success, rho, norms)."""
  wrong = jnp.argmax(apply_fn(params, x_adv), axis=1) != y
  r = x_adv - x
  l2 = flat_norm(r)
  return AttackResult(x_adv=x_adv, success=wrong, rho=l2 / flat_norm(x), linf=flat_norm(r, "linf"),
                      l2=l2)


def shrink_to_boundary(apply_fn: ApplyFn, params, x: jax.Array, y: jax.Array,
                       x_adv: jax.Array, lo: float, hi: float, steps: int = 10) -> jax.Array:
  """The smallest ``x + t (x_adv - x)``, ``t in (0, 1]``, still misclassified (bisection on t).

  Minimal-perturbation attacks (DeepFool, CW) end past the decision boundary (overshoot, the
  last step); bisection along their own direction removes the excess. Inputs that are not
  misclassified at ``t = 1`` are returned unchanged. The box is convex and contains ``x`` and
  ``x_adv``, so every candidate stays inside it.
  """
  r = x_adv - x
  fooled = lambda t: jnp.argmax(apply_fn(params, jnp.clip(x + broadcast(t, x) * r, lo, hi)),
                                axis=1) != y

  def body(_, bracket):
    t_lo, t_hi = bracket  # t_lo: not fooled (or 0), t_hi: fooled
    mid = (t_lo + t_hi) / 2
    ok = fooled(mid)
    return jnp.where(ok, t_lo, mid), jnp.where(ok, mid, t_hi)

  n = x.shape[0]
  _, t_hi = jax.lax.fori_loop(0, steps, body, (jnp.zeros(n), jnp.ones(n)))
  t = jnp.where(fooled(jnp.ones(n)), t_hi, 1.0)
  return jnp.clip(x + broadcast(t, x) * r, lo, hi)
