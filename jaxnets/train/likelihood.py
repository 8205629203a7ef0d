"""Maximum-likelihood training of a density model (a flow) on the one engine.

A density model is a Linen module whose ``apply(variables, x)`` is ``log q(x)`` ``(n,)``
(``jaxnets.models.flows``). Its training objective is the negative log-likelihood
``-(1/n) sum_i log q(x_i)``; :func:`fit_density` minimises it with
:func:`jaxnets.train.minimize` (minibatches, step budget, several seeds) -- no loop of its own.

With validation points, the step is :func:`make_best_step`'s: every ``validate_every`` steps it
evaluates the validation NLL inside the compiled step and keeps the best parameters in the
state (:class:`BestState`) -- early stopping by selection, as Papamakarios et al. (2017, sec.
4) train their flows on small datasets, where the test NLL turns up after a few hundred steps.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from flax import struct

from jaxnets.errors import JaxnetsError
from jaxnets.train import engine
from jaxnets.train.minimize import minimize
from jaxnets.train.state import TrainState
from jaxnets.train.steps import make_objective_step
from jaxnets.typing import PyTree


class BestState(struct.PyTreeNode):
  """A :class:`TrainState` plus the best parameters so far by validation NLL.

  ``validation`` (the held-out points) rides in the state so that one compiled step serves
  every run of the same shapes.
  """

  train: TrainState
  best_params: PyTree
  best_loss: jax.Array
  best_step: jax.Array
  validation: jax.Array

  @property
  def step(self) -> jax.Array:
    return self.train.step

  @property
  def params(self) -> PyTree:
    """The parameters to use: the best by validation NLL."""
    return self.best_params


@functools.lru_cache(maxsize=64)
def make_best_step(objective, validate_every: int):
  """The objective step on ``state.train``, then every ``validate_every`` steps the validation
  NLL of the new params; where it improves, they become ``best_params``."""
  inner = make_objective_step(objective)

  def step(state: BestState, batch, rng):
    train, metrics = inner(state.train, batch, rng)

    def evaluate(_):
      loss = objective(train.params, {"x": state.validation}, rng)[0]
      better = loss < state.best_loss
      pick = lambda new, old: jnp.where(better, new, old)
      return (jax.tree.map(pick, train.params, state.best_params), pick(loss, state.best_loss),
              pick(train.step, state.best_step))

    keep = lambda _: (state.best_params, state.best_loss, state.best_step)
    best_params, best_loss, best_step = jax.lax.cond(train.step % validate_every == 0,
                                                     evaluate, keep, None)
    new = state.replace(train=train, best_params=best_params, best_loss=best_loss,
                        best_step=best_step)
    return new, {**metrics, "best_validation_nll": best_loss}  # inf until the first check

  return step


@functools.lru_cache(maxsize=64)  # one objective object per model: runs reuse the compilation
def negative_log_likelihood(model: nn.Module):
  """``objective(params, batch, rng) -> (mean NLL, {})`` of ``batch["x"]`` under ``model``."""

  def objective(params, batch, rng):
    del rng
    return -jnp.mean(model.apply({"params": params}, batch["x"])), {}

  return objective


def fit_density(model: nn.Module, x: np.ndarray, *, key: jax.Array,
                tx: optax.GradientTransformation, num_steps: int, batch_size: int | None,
                steps_per_call: int = 100, log_every: int = 0,
                validation: np.ndarray | None = None,
                validate_every: int = 0) -> engine.RunResult:
  """Trains ``model`` on the points ``x`` ``(n, d)`` by maximum likelihood.

  ``key`` initialises the params; minibatches follow the engine's epoch permutations (data
  seed 0). ``steps_per_call`` steps are fused per dispatch (small flows are dispatch-bound).
  With ``validation`` points, the run keeps the parameters of lowest validation NLL, measured
  every ``validate_every`` steps (:func:`make_best_step`); ``.state`` is then a
  :class:`BestState` (``.best_params``, ``.best_step``, ``.train.params`` the last).
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
  objective = negative_log_likelihood(model)
  if validation is None:
    return minimize(objective, params, tx, {"x": x}, num_steps=num_steps,
                    batch_size=batch_size, steps_per_call=spc, log_every=log_every)
  if validate_every < 1:
    raise JaxnetsError(f"validate_every must be >= 1 with validation data, got {validate_every}")
  validation = np.asarray(validation, np.float32)
  if validation.ndim != 2 or validation.shape[1] != x.shape[1] or not np.all(
      np.isfinite(validation)):
    raise JaxnetsError(f"validation points must be finite and (m, {x.shape[1]}), got shape "
                       f"{validation.shape}")
  train = jax.jit(lambda p: TrainState.create(apply_fn=None, params=p, tx=tx))(params)
  state = BestState(train=train, best_params=params, best_loss=jnp.asarray(jnp.inf),
                    best_step=jnp.asarray(0), validation=jnp.asarray(validation))
  source = engine.DeviceBatches({"x": x}, batch_size, num_steps=num_steps, seeds=0)
  return engine.run(make_best_step(objective, int(validate_every)), state, source,
                    num_steps=num_steps, rng=jax.random.key(0), steps_per_call=spc,
                    log_every=log_every)


@functools.lru_cache(maxsize=32)  # the same optimiser object lets same-sized runs share a compile
def _adam(learning_rate: float, num_steps: int, constant: bool) -> optax.GradientTransformation:
  if constant:
    return optax.adam(learning_rate)
  return optax.adam(optax.cosine_decay_schedule(learning_rate, num_steps))


def train_flow(config, x: np.ndarray, key: jax.Array, *, num_steps: int | None = None,
               validation: np.ndarray | None = None):
  """Builds ``config.flow`` for ``x``'s dimension and fits it: ``(model, params, result)``.

  ``config`` is a flow config (``experiments/configs/flow_*.py``): ``flow.{name, num_layers,
  hidden}``, ``num_steps``, ``batch_size``, ``learning_rate``, ``steps_per_call``. The 2-D
  configs decay the rate by a cosine to 0; the digits config (it has ``logit_alpha``) keeps it
  constant, as the flowjax benchmark does. ``num_steps`` overrides the config's. With
  ``validation`` points the best-validation params are returned (checked once per epoch).
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
                       log_every=max(spc, (steps // 10) // spc * spc), validation=validation,
                       validate_every=max(1, len(x) // min(int(config.batch_size), len(x))))
  return model, result.state.params, result
