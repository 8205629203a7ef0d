"""``train_and_evaluate(config, workdir)``: the only glue between data, model and steps."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxnets.data import get_dataset
from jaxnets.data.sampling import eval_batches, train_batches
from jaxnets.errors import JaxnetsError
from jaxnets.models import get_model
from jaxnets.train import checkpoint, parallel
from jaxnets.train.losses import LOSSES
from jaxnets.train.metrics import summarize_confusion
from jaxnets.train.optim import create_optimizer
from jaxnets.train.reporting import MetricsWriter, Progress
from jaxnets.train.state import TrainState
from jaxnets.train.steps import make_eval_step, make_train_step
from jaxnets.train.validation import validate_config


class TrainingDiverged(RuntimeError):
  """The loss became non-finite; the message names the step and the last good checkpoint."""


def _augmentation(name: str):
  if name in (None, "none"):
    return None
  from jaxnets.data.augment import AUGMENTATIONS  # only configs that augment need it

  if name not in AUGMENTATIONS:
    raise JaxnetsError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
  return AUGMENTATIONS[name]


def _datasets(config: ml_collections.ConfigDict):
  options = dict(config.dataset.get("options", {}) or {})
  data_dir = config.dataset.get("data_dir")
  train = get_dataset(config.dataset.name, config.dataset.get("train_split", "train"),
                      data_dir=data_dir, **options)
  evaluation = get_dataset(config.dataset.name, config.dataset.get("eval_split", "test"),
                           data_dir=data_dir, **options)
  return train, evaluation


def create_train_state(config: ml_collections.ConfigDict, num_classes: int,
                       sample_input: np.ndarray, rng: jax.Array, mesh) -> TrainState:
  """Builds the model and optimiser and initialises a replicated :class:`TrainState`."""
  kwargs: dict[str, Any] = dict(config.model.get("kwargs", {}) or {})
  if config.get("dtype", "float32") != "float32":
    kwargs["dtype"] = jnp.dtype(config.dtype)  # compute dtype; params stay float32
  model = get_model(config.model.name, num_outputs=num_classes, **kwargs)
  tx = create_optimizer(config.optimizer, config.num_steps)

  def init(rng):
    variables = model.init(rng, jnp.asarray(sample_input), train=False)
    return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                             batch_stats=variables.get("batch_stats", {}))

  return jax.jit(init, out_shardings=parallel.replicated(mesh))(rng)


def evaluate(eval_step, state: TrainState, dataset, batch_size: int, mesh) -> dict[str, float]:
  """Loss and accuracy over the whole ``dataset`` (sums accumulated on device)."""
  totals = None
  for local in eval_batches(dataset, batch_size, process_index=jax.process_index(),
                            process_count=jax.process_count()):
    sums = eval_step(state, parallel.global_batch(local, mesh))
    totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
  totals = parallel.host_copy(totals)
  return {"loss": float(totals["loss_sum"] / totals["count"]),
          **summarize_confusion(totals["confusion"])}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | pathlib.Path
                       ) -> TrainState:
  """Trains ``config``'s model on its dataset, resuming from ``workdir`` if it has a checkpoint.

  Writes to ``workdir``: ``checkpoints/`` (every ``checkpoint_every`` steps and at the end),
  ``metrics.jsonl`` and ``tensorboard/`` (train metrics every ``log_every`` steps, eval every
  ``eval_every`` steps and at the end), ``config.json`` and ``results.json``.

  Raises:
    JaxnetsError: bad config or data (one line).
    TrainingDiverged: non-finite loss; checkpoints up to the last good step are kept.
  """
  mesh = parallel.create_mesh()
  validate_config(config, jax.device_count())
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  if jax.process_index() == 0:
    (workdir / "config.json").write_text(config.to_json_best_effort(indent=2) + "\n")

  train_ds, eval_ds = _datasets(config)
  loss_fn = LOSSES[config.get("loss", "cross_entropy")]
  augment = _augmentation(config.dataset.get("augment", "none"))
  init_rng, train_rng = jax.random.split(jax.random.key(config.seed))
  sample = train_ds.get_batch(np.arange(1))["image"]
  state = create_train_state(config, train_ds.num_classes, sample, init_rng, mesh)

  manager = checkpoint.create_manager(workdir)
  state = checkpoint.restore_latest(manager, state)
  start_step = int(parallel.host_copy(state.step))

  rep, shard = parallel.replicated(mesh), parallel.batch_sharded(mesh)
  train_step = jax.jit(make_train_step(loss_fn, augment), in_shardings=(rep, shard, rep),
                       out_shardings=(rep, rep), donate_argnums=0)
  eval_step = jax.jit(make_eval_step(loss_fn, eval_ds.num_classes),
                      in_shardings=(rep, shard), out_shardings=rep)
  eval_batch_size = config.get("eval_batch_size", config.batch_size)

  writer = MetricsWriter(workdir)
  progress = Progress(config.num_steps, start_step, config.batch_size)
  log_every = config.get("log_every", 0) or config.num_steps
  eval_every = config.get("eval_every", 0)
  ckpt_every = config.get("checkpoint_every", 0)
  batches = train_batches(train_ds, config.batch_size, seed=config.seed, start_step=start_step,
                          process_index=jax.process_index(), process_count=jax.process_count())
  pending: list[tuple[int, Any]] = []  # device metrics not yet fetched (no sync per step)
  last_good = manager.latest_step()
  t_start = time.perf_counter()
  train_summary: dict[str, float] = {}

  def flush_pending() -> dict[str, float]:
    """Fetches pending metrics, stops on a non-finite loss, returns their mean."""
    if not pending:
      return {}
    steps = [s for s, _ in pending]
    fetched = parallel.host_copy([m for _, m in pending])
    pending.clear()
    losses = np.array([m["loss"] for m in fetched])
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
      raise TrainingDiverged(
          f"loss became non-finite at step {steps[bad[0]]}; the last good checkpoint "
          f"(step {last_good}) is kept in {workdir / 'checkpoints'}; lower the learning rate "
          f"or check the data")
    return {k: float(np.mean([m[k] for m in fetched])) for k in fetched[0]}

  try:
    for step in range(start_step, config.num_steps):
      batch = parallel.global_batch(next(batches), mesh)
      state, metrics = train_step(state, batch, train_rng)
      done = step + 1
      pending.append((done, metrics))
      if done % log_every == 0 or done == config.num_steps:
        train_summary = flush_pending()
        rates = progress.rates(done)
        writer.write(done, "train", {**train_summary, **rates})
        progress.line(done, train_summary, rates)
      if ckpt_every and done % ckpt_every == 0 and done != config.num_steps:
        flush_pending()  # never checkpoint a diverged state
        checkpoint.save(manager, state)
        last_good = done
      if eval_every and done % eval_every == 0 and done != config.num_steps:
        writer.write(done, "eval", evaluate(eval_step, state, eval_ds, eval_batch_size, mesh))
    flush_pending()
    wall = time.perf_counter() - t_start
    checkpoint.save(manager, state)
    final_step = int(parallel.host_copy(state.step))
    eval_metrics = evaluate(eval_step, state, eval_ds, eval_batch_size, mesh)
    writer.write(final_step, "eval", eval_metrics)
  finally:
    batches.close()
    writer.close()

  trained = final_step - start_step
  results = {
      "step": final_step, "eval_loss": eval_metrics["loss"],
      "eval_accuracy": eval_metrics["accuracy"],
      "train_loss": train_summary.get("loss", float("nan")),
      "train_accuracy": train_summary.get("accuracy", float("nan")),
      "steps_trained_this_run": trained, "seconds": wall,
      "examples_per_s": trained * config.batch_size / wall if trained and wall > 0 else 0.0,
      "devices": jax.device_count(), "processes": jax.process_count(),
  }
  if jax.process_index() == 0:
    (workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
  return state
