"""In-memory training without a config: what theory utilities, checks and tables call.

* :func:`minimize` -- any differentiable ``objective(params, batch, rng)`` of a parameter pytree
  (a scaled model's MSE, a PAC-Bayes bound, a power loss) on device-resident data.
* :func:`minimize_model` -- a Flax model with a per-example loss on ``{"image", "label"}``
  arrays, exactly the step the CLI trainer uses (BatchNorm, dropout, health metrics).

Both run on ``jaxnets.train.engine.run`` with a :class:`~jaxnets.train.engine.DeviceBatches`
source: full batch or minibatches, one run or several seeds in one compiled step, a step
budget or a stopping rule.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import optax

from jaxnets.errors import JaxnetsError
from jaxnets.train import engine
from jaxnets.train.adversarial import PGDTraining, make_adversarial_train_step
from jaxnets.train.losses import cross_entropy
from jaxnets.train.state import TrainState
from jaxnets.train.steps import LossFn, Schedule, make_objective_step, make_train_step
from jaxnets.typing import PyTree


@functools.lru_cache(maxsize=256)
def _with_aux(objective: Callable) -> Callable:
  def wrapped(params, batch, rng):
    out = objective(params, batch, rng)
    return out if isinstance(out, tuple) else (out, {})
  return wrapped


def _keys(key: jax.Array, seeds: int | None) -> jax.Array:
  return key if seeds is None else jax.random.split(key, seeds)


def minimize(objective: Callable[[PyTree, Mapping[str, jax.Array], jax.Array], Any],
             params: PyTree, tx: optax.GradientTransformation,
             data: Mapping[str, Any] | None = None, *, num_steps: int,
             batch_size: int | None = None, data_seed: int | Sequence[int] | None = 0,
             rng: jax.Array | None = None, seeds: bool = False,
             stop_when: Callable[[TrainState, Mapping], jax.Array] | None = None,
             check_every: int = 0,
             steps_per_call: int = 1, log_every: int = 0,
             learning_rate: Schedule | None = None) -> engine.RunResult:
  """Minimises ``objective`` over ``params`` with ``tx`` for ``num_steps`` (or until a stop).

  Args:
    objective: ``(params, batch, rng) -> loss`` or ``-> (loss, {name: metric})``; ``batch`` is
      ``data`` (full batch) or a minibatch of it, ``rng`` the step's key.
    params: the initial parameters; with ``seeds``, a leading axis of S runs.
    tx: the optimiser. Runs repeated with the same ``objective`` and ``tx`` objects on
      same-shaped data compile once; a fresh ``tx`` per call recompiles (the state holds it).
    data: ``{name: (n, ...)}`` arrays, or ``None`` if the objective closes over its data.
    num_steps: the step budget.
    batch_size: ``None`` for full batch, else minibatches of each epoch's permutation.
    data_seed: the permutation seed (one per run with ``seeds``); ``None``: index order.
    rng: the training stream's key (``(S,)`` keys with ``seeds``); default ``key(0)``.
    seeds: whether ``params`` (and ``rng``, ``data_seed``) carry a leading seed axis.
    stop_when, check_every, steps_per_call, log_every: see ``engine.run``.
    learning_rate: the schedule, to log it with the metrics.

  Returns:
    The :class:`~jaxnets.train.engine.RunResult`; ``.state.params`` are the trained params,
    ``.history`` the logged metrics (``loss`` among them).
  """
  create = lambda p: TrainState.create(apply_fn=None, params=p, tx=tx)
  state = jax.jit(jax.vmap(create) if seeds else create)(params)
  if rng is None:
    n_runs = jax.tree.leaves(params)[0].shape[0] if seeds else None
    rng = _keys(jax.random.key(0), n_runs)
  if seeds and isinstance(data_seed, int) and batch_size is not None:
    data_seed = list(range(int(jax.tree.leaves(params)[0].shape[0])))
  source = engine.DeviceBatches(dict(data or {}), batch_size, num_steps=num_steps,
                                seeds=data_seed)
  return engine.run(make_objective_step(_with_aux(objective), learning_rate), state, source,
                    num_steps=num_steps, rng=rng, seeds=seeds, steps_per_call=steps_per_call,
                    log_every=log_every, stop_when=stop_when, check_every=check_every)


def minimize_model(model, tx: optax.GradientTransformation, data: Mapping[str, Any], *,
                   key: jax.Array, num_steps: int, batch_size: int | None = None,
                   loss_fn: LossFn = cross_entropy, seeds: int | None = None,
                   data_seed: int | Sequence[int] | None = None,
                   stop_when: Callable[[TrainState, Mapping], jax.Array] | None = None,
                   check_every: int = 0, steps_per_call: int = 1, log_every: int = 0,
                   learning_rate: Schedule | None = None,
                   adversarial: PGDTraining | None = None) -> engine.RunResult:
  """Trains the Flax ``model`` on ``data = {"image", "label"}`` with ``loss_fn``.

  Args:
    model: a Linen module called as ``model.apply(variables, x, train=...)`` (every
      ``jaxnets.models`` entry).
    tx: the optimiser.
    data: ``{"image": (n, ...), "label": (n, ...)}``.
    key: root key; ``split(key)`` gives the init and training streams (of each seed's
      ``fold_in(key, s)`` with ``seeds``).
    num_steps, batch_size: step budget; ``None`` = full batch.
    loss_fn: per-example ``(outputs, labels) -> (n,)``.
    seeds: ``None`` for one run, or S runs trained together (vmapped) from
      ``fold_in(key, s)``, ``s = 0..S-1``.
    data_seed: permutation seed(s); default ``0`` (``range(S)`` with seeds).
    stop_when, check_every, steps_per_call, log_every, learning_rate: see ``engine.run``.
    adversarial: a :class:`~jaxnets.train.adversarial.PGDTraining` to train on PGD examples
      (Madry et al. 2018) instead of the clean batch; ``None``: standard training.

  Returns:
    The :class:`~jaxnets.train.engine.RunResult`; ``.state`` is a :class:`TrainState`
    (``.params``, ``.batch_stats``, ``.variables()``).
  """
  if "image" not in data or "label" not in data:
    raise JaxnetsError(f"minimize_model needs data with 'image' and 'label', got {list(data)}")
  x0 = jnp.asarray(data["image"][:1])

  def init(k):
    variables = model.init(k, x0)
    return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                             batch_stats=variables.get("batch_stats", {}))

  def split(k):
    init_key, train_key = jax.random.split(k)
    return init_key, train_key

  if seeds is None:
    init_key, rng = split(key)
    state = jax.jit(init)(init_key)
    data_seed = 0 if data_seed is None else data_seed
  else:
    pairs = [split(jax.random.fold_in(key, s)) for s in range(seeds)]
    rng = jnp.stack([p[1] for p in pairs])
    state = engine.init_seeds(init, jnp.stack([p[0] for p in pairs]))
    data_seed = list(range(seeds)) if data_seed is None else data_seed
  if adversarial is None:
    step = make_train_step(loss_fn, None, learning_rate)
  else:
    step = make_adversarial_train_step(adversarial, loss_fn, None, learning_rate)
  source = engine.DeviceBatches(data, batch_size, num_steps=num_steps, seeds=data_seed)
  return engine.run(step, state, source, num_steps=num_steps, rng=rng, seeds=seeds is not None,
                    steps_per_call=steps_per_call, log_every=log_every, stop_when=stop_when,
                    check_every=check_every)
