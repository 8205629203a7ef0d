"""Checkpoints with orbax: saved every N steps and at the end, restored on rerun.

Any training state is saved -- a supervised ``TrainState``, a GAN's two players, a flow -- as
the nested dict of its arrays (``flax.serialization.to_state_dict``: apply functions and
optimisers are code, not data). Orbax writes each step into a temporary directory and renames
it only once complete, so a run killed at any moment (even mid-save) leaves the previous
checkpoint as the latest readable one; the unfinished temporary directory is ignored and
cleaned up by the next run. Saves are synchronous: when ``save`` returns, the checkpoint is on
disk.
"""

from __future__ import annotations

import pathlib

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import serialization

from jaxnets.errors import JaxnetsError
from jaxnets.typing import PyTree


def create_manager(workdir: str | pathlib.Path, max_to_keep: int = 2,
                   create: bool = True) -> ocp.CheckpointManager:
  """A checkpoint manager of ``<workdir>/checkpoints`` (created unless ``create=False``)."""
  directory = pathlib.Path(workdir).absolute() / "checkpoints"
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create,
                                         enable_async_checkpointing=False)
  return ocp.CheckpointManager(directory, options=options)


def save(manager: ocp.CheckpointManager, state: PyTree) -> None:
  """Saves ``state`` under its step (a no-op if that step is already saved)."""
  step = int(np.max(jax.device_get(state.step)))
  if manager.latest_step() == step:
    return
  manager.save(step, args=ocp.args.StandardSave(serialization.to_state_dict(state)), force=True)
  manager.wait_until_finished()


def _shapes(tree) -> dict[str, tuple]:
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {jax.tree_util.keystr(path): tuple(getattr(leaf, "shape", ())) for path, leaf in flat}


def _mismatch(saved: dict[str, tuple], wanted: dict[str, tuple]) -> str | None:
  """A short description of how two trees of shapes differ, or None if they agree."""
  order = lambda k: (not k.startswith("['params']"), k)  # name a parameter first if one differs
  missing = sorted(set(wanted) - set(saved), key=order)
  extra = sorted(set(saved) - set(wanted), key=order)
  if missing or extra:
    first = (missing or extra)[0]
    what = "the config's state has" if missing else "the checkpoint has"
    return f"{what} {first} and the other does not ({len(missing) + len(extra)} such entries)"
  for key in sorted(wanted, key=order):
    if tuple(saved[key]) != tuple(wanted[key]):
      return f"{key} is {tuple(saved[key])} in the checkpoint but {tuple(wanted[key])} now"
  return None


def _saved_metadata(manager: ocp.CheckpointManager, step: int):
  """The tree of ``ArrayMetadata`` (shapes, dtypes) saved at ``step``, read without a target."""
  item = manager.directory / str(step) / "default"
  return ocp.StandardCheckpointer().metadata(item).item_metadata


def restore_latest(manager: ocp.CheckpointManager, state: PyTree) -> PyTree:
  """Returns ``state`` with the latest checkpoint's arrays, or ``state`` if there is none.

  ``state`` supplies the structure, shapes, dtypes and shardings to restore into.

  Raises:
    JaxnetsError: the checkpoint holds a different model or optimiser (other parameter names
      or shapes); the checkpoint is left untouched.
  """
  step = manager.latest_step()
  if step is None:
    return state
  wanted = serialization.to_state_dict(state)
  problem = _mismatch(_shapes(_saved_metadata(manager, step)), _shapes(wanted))
  if problem:
    raise JaxnetsError(
        f"{manager.directory} holds a checkpoint (step {step}) of a different model or "
        f"optimiser: {problem}; use a new --workdir for this config, or delete that "
        f"checkpoints directory to start over")
  target = jax.tree.map(ocp.utils.to_shape_dtype_struct, wanted)
  restored = manager.restore(step, args=ocp.args.StandardRestore(target))
  return serialization.from_state_dict(state, restored)


def load_arrays(workdir: str | pathlib.Path, step: int | None = None) -> dict:
  """Reads a checkpoint of ``workdir`` (the latest if ``step`` is None) as plain arrays.

  Returns the saved state as a nested dict -- for a supervised run ``{"step", "params",
  "opt_state", "batch_stats"}`` -- with no model or optimiser needed, e.g. to hand
  ``params`` to a ``theory`` function or to compare two runs.
  """
  manager = create_manager(workdir, create=False)  # reading must not create directories
  step = manager.latest_step() if step is None else step
  if step is None:
    raise JaxnetsError(f"no checkpoint in {pathlib.Path(workdir) / 'checkpoints'}; "
                       f"train first with experiments/train.py --workdir={workdir}")
  # Restore onto this process's first device, whatever mesh the run was saved from.
  metadata = _saved_metadata(manager, step)
  device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
  target = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                        metadata)
  return manager.restore(step, args=ocp.args.StandardRestore(target))
