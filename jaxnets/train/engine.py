"""The one training loop of jaxnets: every gradient-trained model in the repository runs here.

``run(step_fn, state, source, ...)`` calls a pure, jitted ``step_fn(state, batch, rng) ->
(state, metrics)`` until a step budget or a stopping rule ends it. What varies between kinds of
training is only the step and the state (supervised, GAN, adversarial, likelihood, any
objective) and where the batches come from; the loop -- batches, PRNG streams, mesh, resume and
checkpoints, metrics, health guards, stopping rules -- is written once, here.

Two batch sources:

* :class:`HostBatches` -- a random-access :class:`~jaxnets.data.Dataset` read on the host, one
  process-local shard per step, assembled into a global array sharded over the device mesh
  (data parallelism across devices and hosts; datasets larger than memory stream).
* :class:`DeviceBatches` -- arrays held on device (a few thousand examples: MNIST-1D, digits,
  the theory checks' synthetic tasks), full batch or minibatches gathered inside the compiled
  step, so the loop moves nothing between host and device. With a leading seed axis on the
  state, several independent runs train together in one compiled step (``jax.vmap``), each
  with its own initialisation, batches and randomness; ``steps_per_call`` fuses several
  steps into one dispatch.

Both visit the examples in the same order: epoch ``e`` of a run with data seed ``s`` is the
permutation ``np.random.default_rng([s, e]).permutation(n)``, cut into consecutive batches
(``jaxnets.data.sampling.global_batch_indices``). So an in-memory run and a workdir run of the
same config and seed give the same parameters.

PRNG: the run's key ``rng`` is folded with the state's step before every call of ``step_fn``
(``fold_in(rng, state.step)``), so the randomness of step ``t`` is the same however the run
was interrupted and resumed.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import time
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.data.arrays import Dataset
from jaxnets.data.sampling import train_batches
from jaxnets.errors import JaxnetsError
from jaxnets.train import checkpoint as ckpt
from jaxnets.train import parallel
from jaxnets.typing import Batch, Metrics, PyTree

StepFn = Callable[[PyTree, Batch, jax.Array], tuple[PyTree, Metrics]]
StopFn = Callable[[PyTree, Mapping[str, jax.Array]], jax.Array]


class TrainingDiverged(RuntimeError):
  """A loss became non-finite; the message names the step and what was kept on disk."""


class Source(Protocol):
  """Where a run's batches come from (:class:`HostBatches` or :class:`DeviceBatches`)."""

  def compile(self, step_fn: StepFn, *, seeds: bool, steps_per_call: int,
              masked: bool) -> Callable: ...

  def batches(self, start_step: int) -> Iterator[Any]: ...

  def close(self) -> None: ...


# --- batch sources -----------------------------------------------------------------------------

class HostBatches:
  """Global batches read on the host and sharded over ``mesh`` (the workdir trainer's source).

  Each process reads only its contiguous ``1 / process_count`` of every global batch of
  ``batch_size`` examples; a background thread reads ahead. The state is replicated.
  """

  def __init__(self, dataset: Dataset, batch_size: int, *, seed: int, mesh):
    self.dataset, self.batch_size, self.seed, self.mesh = dataset, batch_size, seed, mesh
    self._iterator = None

  def compile(self, step_fn: StepFn, *, seeds: bool, steps_per_call: int, masked: bool):
    if seeds or steps_per_call != 1 or masked:
      raise JaxnetsError("host batches train one run at a time, one step per call; use "
                         "DeviceBatches for several seeds, fused steps or stopping rules")
    rep, shard = parallel.replicated(self.mesh), parallel.batch_sharded(self.mesh)

    def call(state, batch, rng):
      return step_fn(state, batch, jax.random.fold_in(rng, state.step))

    compiled = jax.jit(call, in_shardings=(rep, shard, rep), out_shardings=(rep, rep),
                       donate_argnums=0)
    return lambda state, batch, rng, active=None: compiled(state, batch, rng)

  def batches(self, start_step: int) -> Iterator[Any]:
    self._iterator = train_batches(self.dataset, self.batch_size, seed=self.seed,
                                   start_step=start_step, process_index=jax.process_index(),
                                   process_count=jax.process_count())
    for local in self._iterator:
      yield parallel.global_batch(local, self.mesh)

  def close(self) -> None:
    if self._iterator is not None:
      self._iterator.close()


def epoch_permutations(num_examples: int, batch_size: int, num_steps: int,
                       seed: int | None) -> np.ndarray:
  """``(epochs, n)`` int32: epoch ``e``'s visiting order ``default_rng([seed, e]).permutation``.

  The same order as :func:`jaxnets.data.sampling.global_batch_indices`; enough epochs for
  ``num_steps`` steps of ``batch_size``. ``seed=None``: every epoch in index order.
  """
  per_epoch = num_examples // batch_size
  if per_epoch == 0:
    raise JaxnetsError(f"batch_size {batch_size} is larger than the dataset ({num_examples} "
                       "examples); lower batch_size")
  epochs = max(1, -(-num_steps // per_epoch))
  if seed is None:
    return np.broadcast_to(np.arange(num_examples, dtype=np.int32), (epochs, num_examples))
  return np.stack([np.random.default_rng([seed, e]).permutation(num_examples)
                   for e in range(epochs)]).astype(np.int32)


class DeviceBatches:
  """Training data held on device; minibatches are gathered inside the compiled step.

  Args:
    arrays: ``{"image": (n, ...), "label": (n, ...)}`` or any dict of ``(n, ...)`` arrays.
    batch_size: examples per step, or ``None`` for full-batch training.
    num_steps: the most steps the run can take (sizes the table of epoch permutations).
    seeds: the data seed of each run: an int for one run, a sequence for runs stacked on a
      leading seed axis (their orders differ); ``None``: index order. Ignored for full
      batches.
  """

  def __init__(self, arrays: Mapping[str, Any], batch_size: int | None, *, num_steps: int,
               seeds: int | Sequence[int] | None = 0):
    sizes = {k: int(np.shape(v)[0]) for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
      raise JaxnetsError(f"training arrays differ in length: {sizes}")
    self.num_examples = next(iter(sizes.values()), 0)
    if not sizes and batch_size is not None:
      raise JaxnetsError("minibatches need data: pass the arrays, or batch_size=None when the "
                         "objective holds its own data")
    self.arrays = {k: jnp.asarray(v) for k, v in arrays.items()}
    self.batch_size = batch_size
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
      raise JaxnetsError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if batch_size is not None and batch_size > self.num_examples:
      raise JaxnetsError(f"batch_size {batch_size} is larger than the dataset "
                         f"({self.num_examples} examples); lower batch_size")
    self.tables = None
    if batch_size is not None and (batch_size < self.num_examples or seeds is None):
      one = lambda s: epoch_permutations(self.num_examples, batch_size, num_steps, s)
      self.tables = jnp.asarray(np.stack([one(s) for s in seeds]) if _is_seq(seeds)
                                else one(seeds))
    self.per_epoch = self.num_examples // batch_size if batch_size else 1

  def compile(self, step_fn: StepFn, *, seeds: bool, steps_per_call: int, masked: bool):
    compiled = _device_program(step_fn, seeds, steps_per_call, masked, self.batch_size,
                               self.per_epoch, self.tables is not None)
    return lambda state, _, rng, active=True: compiled(state, self.arrays, self.tables, rng,
                                                       active)

  def batches(self, start_step: int) -> Iterator[Any]:
    while True:
      yield None

  def close(self) -> None:
    pass


@functools.lru_cache(maxsize=128)
def _device_program(step_fn: StepFn, seeds: bool, steps_per_call: int, masked: bool,
                    batch_size: int | None, per_epoch: int, has_table: bool) -> Callable:
  """The jitted ``(state, arrays, tables, rng, active) -> (state, metrics)`` of a device run.

  Cached on the step function and the run's structure, with the data passed as arguments
  (not closed over), so runs of the same step on same-shaped data -- seeds of a sweep, the
  rows of a table -- compile once.
  """

  def gather(arrays, table, step):
    if not has_table:
      return arrays
    epoch, i = jnp.divmod(step, per_epoch)
    row = jax.lax.dynamic_index_in_dim(table, epoch, keepdims=False)
    idx = jax.lax.dynamic_slice_in_dim(row, i * batch_size, batch_size)
    return {k: v[idx] for k, v in arrays.items()}

  def one_run(state, arrays, table, rng, active):
    new, metrics = step_fn(state, gather(arrays, table, state.step),
                           jax.random.fold_in(rng, state.step))
    if masked:  # a run that met its stopping rule keeps its state (and its step count)
      new = jax.tree.map(lambda n, o: jnp.where(active, n, o), new, state)
    return new, metrics

  if seeds:
    one_run = jax.vmap(one_run, in_axes=(0, None, 0 if has_table else None, 0, 0))

  def call(state, arrays, tables, rng, active):
    if steps_per_call == 1:
      return one_run(state, arrays, tables, rng, active)
    body = lambda s, _: one_run(s, arrays, tables, rng, active)
    return jax.lax.scan(body, state, None, length=steps_per_call)

  return jax.jit(call, donate_argnums=0)


@functools.lru_cache(maxsize=128)
def _stop_program(stop_when: Callable, seeds: bool) -> Callable:
  return jax.jit(jax.vmap(stop_when, in_axes=(0, None)) if seeds else stop_when)


def _is_seq(x) -> bool:
  return isinstance(x, (list, tuple, range, np.ndarray))


# --- the loop ------------------------------------------------------------------------------------

@dataclasses.dataclass
class RunResult:
  """What :func:`run` returns.

  Attributes:
    state: the final state (with a leading seed axis if the run had one).
    history: one row per log window: ``{"step", **mean metrics}`` (means over the window's
      steps; per seed for seeded runs, as arrays).
    steps_this_run: optimiser steps taken by this call (after any resume).
    seconds: wall time of the loop (compilation included).
    stopped: for runs with a stopping rule, ``(S,)`` or scalar bool: the rule was met.
  """

  state: PyTree
  history: list[dict[str, Any]]
  steps_this_run: int
  seconds: float
  stopped: np.ndarray | bool | None = None


@dataclasses.dataclass(frozen=True)
class Workdir:
  """Workdir-mode options: resume from and save orbax checkpoints, write metrics.

  ``writer`` has ``write(step, split, metrics)``; ``on_start(start_step)`` (called once the
  checkpoint, if any, was restored), ``on_log(step, metrics)`` (e.g. a console line; it may add
  entries to ``metrics`` before they are written) and ``evaluate(state) -> metrics`` (every
  ``eval_every`` steps) are optional.
  """

  path: pathlib.Path
  checkpoint_every: int = 0
  eval_every: int = 0
  writer: Any = None
  on_start: Callable[[int], None] | None = None
  on_log: Callable[[int, dict[str, float]], None] | None = None
  evaluate: Callable[[PyTree], dict[str, float]] | None = None


def _health_check(fetched: list[tuple[int, dict]], keys: Sequence[str] | None) -> None:
  for step, metrics in fetched:
    for name, value in metrics.items():
      if (name in keys if keys is not None else name.endswith("loss")):
        bad = ~np.isfinite(np.asarray(value))
        if bad.any():
          seed = f" (seed index {int(np.flatnonzero(bad.reshape(-1))[0])})" if np.ndim(value) \
              else ""
          raise _Diverged(step, name, seed)


class _Diverged(Exception):
  def __init__(self, step: int, name: str, seed: str):
    super().__init__(step, name, seed)
    self.step, self.name, self.seed = step, name, seed


def run(step_fn: StepFn, state: PyTree, source: Source, *, num_steps: int, rng: jax.Array,
        seeds: bool = False, steps_per_call: int = 1, log_every: int = 0,
        stop_when: StopFn | None = None, check_every: int = 0,
        workdir: Workdir | None = None, health_keys: Sequence[str] | None = None
        ) -> RunResult:
  """Trains ``state`` with ``step_fn`` on ``source``'s batches until ``num_steps`` or a stop.

  Args:
    step_fn: pure ``(state, batch, rng) -> (state, metrics)``; ``state`` has an integer
      ``step`` field (e.g. a flax ``TrainState``), ``rng`` is already ``fold_in(rng, step)``.
    state: the initial state; with ``seeds``, a leading axis of S independent runs.
    source: :class:`HostBatches` or :class:`DeviceBatches`.
    num_steps: the step budget (total, counting steps taken before a resume).
    rng: the training stream's key; ``(S,)`` keys with ``seeds``.
    seeds: whether ``state`` and ``rng`` carry a leading seed axis (vmapped step).
    steps_per_call: steps fused in one dispatch (``lax.scan``); must divide the log, check
      and checkpoint intervals. Helps tiny models, where dispatch dominates; on XLA's CPU
      backend convolutions ran ~10x slower inside a loop body, so keep 1 for conv nets.
    log_every: every this many steps, fetch the pending metrics, check their health and
      append their mean to the history (0: once, at the end).
    stop_when: ``(state, arrays) -> bool`` (per run, vmapped with ``seeds``; ``arrays`` the
      whole training data), evaluated every ``check_every`` steps: a run that meets it stops
      (its state is frozen while the other seeds go on) -- e.g. "train loss <= 0.01" to train
      all networks to the same loss. Compiled once per function object: pass a function
      defined once, not a fresh closure per call, when runs repeat.
    check_every: how often ``stop_when`` is evaluated (required with it).
    workdir: resume from / save checkpoints and write metrics there (host sources).
    health_keys: the metrics that must stay finite (default: every name ending in "loss").

  Returns:
    A :class:`RunResult`.

  Raises:
    TrainingDiverged: a health-checked metric became non-finite; the message names the step
      (and the seed), and the last good checkpoint is kept on disk.
  """
  k = int(steps_per_call)
  if k < 1:
    raise JaxnetsError(f"steps_per_call must be >= 1, got {steps_per_call}")
  if stop_when is not None and check_every < 1:
    raise JaxnetsError("stop_when needs check_every >= 1 (how often the rule is evaluated)")
  if num_steps % k:
    raise JaxnetsError(f"num_steps={num_steps} is not a multiple of steps_per_call={k}")
  for name, every in (("log_every", log_every), ("check_every", check_every),
                      ("checkpoint_every", workdir.checkpoint_every if workdir else 0),
                      ("eval_every", workdir.eval_every if workdir else 0)):
    if every % k:
      raise JaxnetsError(f"{name}={every} is not a multiple of steps_per_call={k}")

  manager = None
  last_good = None
  if workdir is not None:
    manager = ckpt.create_manager(workdir.path)
    state = ckpt.restore_latest(manager, state)
    last_good = manager.latest_step()
  start = int(np.max(parallel.host_copy(state.step)))
  if workdir is not None and workdir.on_start is not None:
    workdir.on_start(start)
  masked = stop_when is not None
  compiled = source.compile(step_fn, seeds=seeds, steps_per_call=k, masked=masked)
  stop_fn = None
  if masked:
    if not isinstance(source, DeviceBatches):
      raise JaxnetsError("stopping rules need device-resident data (DeviceBatches)")
    stop_fn = _stop_program(stop_when, seeds)
  active = jnp.ones(jax.tree.leaves(rng)[0].shape[:1] if seeds else (), bool)

  pending: list[tuple[int, Any]] = []  # (step, device metrics) not yet fetched
  history: list[dict[str, Any]] = []

  def flush() -> dict[str, Any]:
    """Fetches pending metrics, stops on a non-finite loss, returns their window mean."""
    if not pending:
      return {}
    fetched = []
    for step, metrics in parallel.host_copy(pending):
      if k > 1:  # a fused call returns metrics stacked over its k steps
        fetched += [(step - k + 1 + j, {n: v[j] for n, v in metrics.items()}) for j in range(k)]
      else:
        fetched.append((step, metrics))
    pending.clear()
    try:
      _health_check(fetched, health_keys)
    except _Diverged as e:
      kept = (f"the last good checkpoint (step {last_good}) is kept in "
              f"{workdir.path / 'checkpoints'}" if last_good is not None else
              "no checkpoint had been written yet" if workdir is not None else
              "nothing was saved (in-memory run)")
      raise TrainingDiverged(
          f"{e.name} became non-finite at step {e.step}{e.seed}; {kept}; lower the learning "
          f"rate or check the data") from None
    return {n: np.mean([m[n] for _, m in fetched], axis=0) for n in fetched[0][1]}

  batches = source.batches(start)
  t0 = time.perf_counter()
  step = start
  try:
    while step < num_steps:
      state, metrics = compiled(state, next(batches), rng, active)
      step += k
      pending.append((step, metrics))
      done = step >= num_steps
      if (log_every and step % log_every == 0) or done:
        summary = flush()
        history.append({"step": step, **summary})
        if workdir is not None:
          if workdir.on_log is not None:
            workdir.on_log(step, summary)
          if workdir.writer is not None:
            workdir.writer.write(step, "train", summary)
      if masked and (step % check_every == 0 or done):
        active = jnp.logical_and(active, ~stop_fn(state, source.arrays))
        if not bool(jnp.any(active)):
          break
      if workdir is not None:
        if workdir.checkpoint_every and step % workdir.checkpoint_every == 0 and not done:
          flush()  # never checkpoint a diverged state
          ckpt.save(manager, state)
          last_good = step
        if workdir.eval_every and step % workdir.eval_every == 0 and not done \
            and workdir.evaluate is not None:
          workdir.writer.write(step, "eval", workdir.evaluate(state))
    flush()
    if manager is not None:
      ckpt.save(manager, state)
  finally:
    source.close()
  seconds = time.perf_counter() - t0
  stopped = None if not masked else np.asarray(~active)
  return RunResult(state=state, history=history, steps_this_run=step - start, seconds=seconds,
                   stopped=stopped)


def init_seeds(init_fn: Callable[[jax.Array], PyTree], keys: jax.Array) -> PyTree:
  """``init_fn`` applied to each of ``keys (S,)``, stacked on a leading seed axis (jitted)."""
  return jax.jit(jax.vmap(init_fn))(keys)


def seed_keys(seeds: Sequence[int]) -> tuple[jax.Array, jax.Array]:
  """``(init_keys, train_keys)``, each ``(S,)``: ``split(key(seed))`` per seed, as the CLI."""
  pairs = [jax.random.split(jax.random.key(int(s))) for s in seeds]
  return jnp.stack([p[0] for p in pairs]), jnp.stack([p[1] for p in pairs])


__all__ = ["DeviceBatches", "HostBatches", "RunResult", "TrainingDiverged", "Workdir",
           "epoch_permutations", "init_seeds", "run", "seed_keys"]
