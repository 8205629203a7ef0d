"""Training from a config: ``train_and_evaluate(config, workdir)`` and in-memory ``fit(config)``.

Both build the config's task (``jaxnets.train.tasks``) and hand its step to the one loop,
``jaxnets.train.engine.run``: the first on host batches over the device mesh with checkpoints,
metrics and resume in ``workdir``; the second on device-resident data, for one seed or several
trained together, with nothing written. For the same config and seed they visit the same
batches with the same randomness and end with the same parameters.
"""

from __future__ import annotations

import json
import pathlib
from typing import Sequence

import jax
import ml_collections
import numpy as np

from jaxnets.errors import JaxnetsError
from jaxnets.train import engine, parallel
from jaxnets.train.engine import TrainingDiverged
from jaxnets.train.reporting import MetricsWriter, Progress
from jaxnets.train.tasks import create_task
from jaxnets.train.validation import validate_config
from jaxnets.typing import PyTree


def _check_workdir(workdir: pathlib.Path) -> None:
  if workdir.exists() and not workdir.is_dir():
    raise JaxnetsError(f"--workdir {workdir} is an existing file, not a directory; give a "
                       f"directory path (it is created if missing)")
  for parent in workdir.parents:
    if parent.exists():
      if not parent.is_dir():
        raise JaxnetsError(f"--workdir {workdir}: {parent} is a file, not a directory; give a "
                           f"path under a directory")
      break


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | pathlib.Path
                       ) -> PyTree:
  """Trains ``config``'s task, resuming from ``workdir`` if it has a checkpoint.

  Writes to ``workdir``: ``checkpoints/`` (every ``checkpoint_every`` steps and at the end),
  ``metrics.jsonl`` and ``tensorboard/`` (train metrics every ``log_every`` steps, eval every
  ``eval_every`` steps and at the end), ``config.json`` and ``results.json``.

  Returns:
    The final train state.

  Raises:
    JaxnetsError: bad config, data or workdir (one line); nothing in ``workdir`` is changed.
    TrainingDiverged: non-finite loss; checkpoints up to the last good step are kept.
  """
  mesh = parallel.create_mesh()
  validate_config(config, jax.device_count())
  workdir = pathlib.Path(workdir)
  _check_workdir(workdir)
  task = create_task(config)
  init_rng, train_rng = jax.random.split(jax.random.key(config.seed))
  state = jax.jit(task.init_state, out_shardings=parallel.replicated(mesh))(init_rng)
  workdir.mkdir(parents=True, exist_ok=True)

  writer = MetricsWriter(workdir)
  progress: list[Progress] = []

  def on_start(start_step: int) -> None:
    # After the checkpoint was found compatible: a mismatched rerun leaves config.json alone.
    if jax.process_index() == 0:
      (workdir / "config.json").write_text(config.to_json_best_effort(indent=2) + "\n")
    progress.append(Progress(config.num_steps, start_step, config.batch_size))

  def on_log(step: int, metrics: dict) -> None:
    rates = progress[0].rates(step)
    metrics.update(rates)
    progress[0].line(step, task.console(metrics), rates)

  source = engine.HostBatches(task.train_data, config.batch_size, seed=config.seed, mesh=mesh)
  options = engine.Workdir(path=workdir, checkpoint_every=config.get("checkpoint_every", 0),
                           eval_every=config.get("eval_every", 0), writer=writer,
                           on_start=on_start, on_log=on_log,
                           evaluate=lambda s: task.evaluate(s, mesh))
  try:
    result = engine.run(task.train_step, state, source, num_steps=config.num_steps,
                        rng=train_rng, log_every=config.get("log_every", 0), workdir=options)
    state = result.state
    final_step = int(parallel.host_copy(state.step))
    eval_metrics = task.evaluate(state, mesh)
    writer.write(final_step, "eval", eval_metrics)
  finally:
    writer.close()

  train_summary = result.history[-1] if result.history else {}
  trained, wall = result.steps_this_run, result.seconds
  results = {
      "step": final_step,
      **{f"eval_{k}": float(v) for k, v in eval_metrics.items()},
      **{f"train_{k}": float(v) for k, v in train_summary.items() if k != "step"},
      "steps_trained_this_run": trained, "seconds": wall,
      "examples_per_s": trained * config.batch_size / wall if trained and wall > 0 else 0.0,
      "devices": jax.device_count(), "processes": jax.process_count(),
  }
  if jax.process_index() == 0:
    (workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
  return state


def in_memory_arrays(dataset) -> dict[str, np.ndarray]:
  """The ``{"image", "label"}`` arrays of an embedded dataset, for device-resident training."""
  if not hasattr(dataset, "image"):
    raise JaxnetsError(f"dataset {getattr(dataset, 'name', dataset)!r} is not held in memory; "
                       f"train it with experiments/train.py --workdir=... instead")
  return {"image": dataset.image, "label": dataset.label}


def fit(config: ml_collections.ConfigDict, seeds: Sequence[int] | None = None, *,
        steps_per_call: int = 1) -> engine.RunResult:
  """Trains ``config``'s task in memory: no workdir, no checkpoints, data on one device.

  Args:
    config: a training config whose dataset is embedded (mnist1d, digits, procedural sets).
    seeds: ``None`` for one run with ``config.seed`` -- the same parameters as
      ``train_and_evaluate(config, workdir)`` --, or seeds of runs trained together in one
      compiled step (the state then has a leading seed axis; run ``i`` is the run
      ``config.seed = seeds[i]`` would give).
    steps_per_call: steps fused per dispatch (see ``engine.run``).

  Returns:
    The engine's :class:`~jaxnets.train.engine.RunResult` (``.state.params`` etc.).
  """
  validate_config(config, 1)
  task = create_task(config)
  arrays = in_memory_arrays(task.train_data)
  if seeds is None:
    init_rng, train_rng = jax.random.split(jax.random.key(config.seed))
    state = jax.jit(task.init_state)(init_rng)
    data_seeds: int | list[int] = config.seed
  else:
    seeds = [int(s) for s in seeds]
    init_keys, train_rng = engine.seed_keys(seeds)
    state = engine.init_seeds(task.init_state, init_keys)
    data_seeds = seeds
  source = engine.DeviceBatches(arrays, config.batch_size, num_steps=config.num_steps,
                                seeds=data_seeds)
  return engine.run(task.train_step, state, source, num_steps=config.num_steps, rng=train_rng,
                    seeds=seeds is not None, steps_per_call=steps_per_call,
                    log_every=config.get("log_every", 0))


__all__ = ["TrainingDiverged", "fit", "in_memory_arrays", "train_and_evaluate"]
