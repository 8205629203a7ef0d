"""Maximum-likelihood training of a density model (a flow) on the one engine.

A density model is a Linen module whose ``apply(variables, x)`` is ``log q(x)`` ``(n,)``
(``jaxnets.models.flows``). Its training objective is the negative log-likelihood
``-(1/n) sum_i log q(x_i)``; :func:`fit_density` minimises it with
:func:`jaxnets.train.minimize` (minibatches, step budget, several seeds) -- no loop of its own.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets.errors import JaxnetsError
from jaxnets.train import engine
from jaxnets.train.minimize import minimize


@functools.lru_cache(maxsize=64)  # one objective object per model: runs reuse the compilation
def negative_log_likelihood(model: nn.Module):
  """``objective(params, batch, rng) -> (mean NLL, {})`` of ``batch["x"]`` under ``model``."""

  def objective(params, batch, rng):
    del rng
    return -jnp.mean(model.apply({"params": params}, batch["x"])), {}

  return objective


def fit_density(model: nn.Module, x: np.ndarray, *, key: jax.Array,
                tx: optax.GradientTransformation, num_steps: int, batch_size: int | None,
                steps_per_call: int = 100, log_every: int = 0) -> engine.RunResult:
  """Trains ``model`` on the points ``x`` ``(n, d)`` by maximum likelihood.

  ``key`` initialises the params; minibatches follow the engine's epoch permutations (data
  seed 0). ``steps_per_call`` steps are fused per dispatch (small flows are dispatch-bound).
  Returns the engine's :class:`~jaxnets.train.engine.RunResult` (``.state.params``, and
  ``.history`` with the ``loss`` = NLL in nats).
  """
  x = np.asarray(x, np.float32)
  if x.ndim != 2:
    raise JaxnetsError(f"density data must be (n, d) points, got shape {x.shape}")
  if not np.all(np.isfinite(x)):
    raise JaxnetsError("density data contain NaN or infinite values; drop or impute them")
  spc = steps_per_call if num_steps % steps_per_call == 0 else 1
  params = model.init(key, jnp.asarray(x[:2]))["params"]
  if log_every and log_every % spc:
    log_every = spc * max(1, log_every // spc)
  return minimize(negative_log_likelihood(model), params, tx, {"x": x}, num_steps=num_steps,
                  batch_size=batch_size, steps_per_call=spc, log_every=log_every)


@functools.lru_cache(maxsize=32)  # the same optimiser object lets same-sized runs share a compile
def _adam(learning_rate: float, num_steps: int, constant: bool) -> optax.GradientTransformation:
  if constant:
    return optax.adam(learning_rate)
  return optax.adam(optax.cosine_decay_schedule(learning_rate, num_steps))


def train_flow(config, x: np.ndarray, key: jax.Array, *, num_steps: int | None = None):
  """Builds ``config.flow`` for ``x``'s dimension and fits it: ``(model, params, result)``.

  ``config`` is a flow config (``experiments/configs/flow_*.py``): ``flow.{name, num_layers,
  hidden}``, ``num_steps``, ``batch_size``, ``learning_rate``, ``steps_per_call``. The 2-D
  configs decay the rate by a cosine to 0; the digits config (it has ``logit_alpha``) keeps it
  constant, as the flowjax benchmark does. ``num_steps`` overrides the config's.
  """
  from jaxnets.models import flows  # models import train utilities; keep the edge one-way
  x = np.asarray(x, np.float32)
  if x.ndim != 2:
    raise JaxnetsError(f"density data must be (n, d) points, got shape {x.shape}")
  steps = int(num_steps or config.num_steps)
  if steps < 1 or config.batch_size < 1 or not config.learning_rate > 0:
    raise JaxnetsError(f"num_steps, batch_size and learning_rate must be positive, got "
                       f"{steps}, {config.batch_size}, {config.learning_rate}")
  model = flows.get_flow(config.flow.name, x.shape[1], num_layers=int(config.flow.num_layers),
                         hidden=tuple(config.flow.hidden))
  spc = int(config.steps_per_call)
  tx = _adam(float(config.learning_rate), steps, "logit_alpha" in config)
  result = fit_density(model, x, key=key, tx=tx, num_steps=steps,
                       batch_size=min(int(config.batch_size), len(x)),
                       steps_per_call=spc if steps % spc == 0 else 1,
                       log_every=max(spc, (steps // 10) // spc * spc))
  return model, result.state.params, result
