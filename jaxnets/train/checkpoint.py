"""Checkpoints with orbax: saved every N steps and at the end, restored on rerun.

Orbax writes each step into a temporary directory and renames it only once complete, so a run
killed at any moment (even mid-save) leaves the previous checkpoint as the latest readable one;
the unfinished temporary directory is ignored and cleaned up by the next run. Saves are
synchronous: when ``save`` returns, the checkpoint is on disk.
"""

from __future__ import annotations

import pathlib

import jax
import orbax.checkpoint as ocp

from jaxnets.train.state import TrainState


def _saved(state: TrainState) -> dict:
  # apply_fn and tx are code, not data: only arrays go to disk.
  return {"step": state.step, "params": state.params, "opt_state": state.opt_state,
          "batch_stats": state.batch_stats}


def create_manager(workdir: str | pathlib.Path, max_to_keep: int = 2,
                   create: bool = True) -> ocp.CheckpointManager:
  """A checkpoint manager of ``<workdir>/checkpoints`` (created unless ``create=False``)."""
  directory = pathlib.Path(workdir).absolute() / "checkpoints"
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create,
                                         enable_async_checkpointing=False)
  return ocp.CheckpointManager(directory, options=options)


def save(manager: ocp.CheckpointManager, state: TrainState) -> None:
  """Saves ``state`` under its step (a no-op if that step is already saved)."""
  step = int(jax.device_get(state.step))
  if manager.latest_step() == step:
    return
  manager.save(step, args=ocp.args.StandardSave(_saved(state)), force=True)
  manager.wait_until_finished()


def restore_latest(manager: ocp.CheckpointManager, state: TrainState) -> TrainState:
  """Returns ``state`` with the latest checkpoint's arrays, or ``state`` if there is none.

  ``state`` supplies the structure, shapes, dtypes and shardings to restore into.
  """
  step = manager.latest_step()
  if step is None:
    return state
  target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _saved(state))
  restored = manager.restore(step, args=ocp.args.StandardRestore(target))
  return state.replace(**restored)


def load_arrays(workdir: str | pathlib.Path, step: int | None = None) -> dict:
  """Reads a checkpoint of ``workdir`` (the latest if ``step`` is None) as plain arrays.

  Returns ``{"step", "params", "opt_state", "batch_stats"}`` with no model or optimiser
  needed, e.g. to hand ``params`` to a ``theory`` function or to compare two runs.
  """
  manager = create_manager(workdir, create=False)  # reading must not create directories
  step = manager.latest_step() if step is None else step
  if step is None:
    from jaxnets.errors import JaxnetsError

    raise JaxnetsError(f"no checkpoint in {pathlib.Path(workdir) / 'checkpoints'}; "
                       f"train first with experiments/train.py --workdir={workdir}")
  # Restore onto this process's first device, whatever mesh the run was saved from.
  item = manager.directory / str(step) / "default"
  metadata = ocp.StandardCheckpointer().metadata(item).item_metadata
  device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
  target = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                        metadata)
  return manager.restore(step, args=ocp.args.StandardRestore(target))
