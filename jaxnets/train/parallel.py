"""Data parallelism by ``jit`` over a device mesh, on one host or many.

Parameters and optimizer state are replicated; every batch is sharded along its leading axis
over the mesh axis ``"data"``. XLA's SPMD partitioner inserts the gradient all-reduce, so the
step is written as for one device and gives the same result (up to summation order) on any
number of devices. We do not use ``jax.pmap``: it is in maintenance mode since JAX 0.8, needs
explicit replicate/unreplicate and per-device leading axes, and does not compose with sharded
arrays across hosts the way ``jit`` does.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnets.typing import Batch, PyTree

DATA_AXIS = "data"


def create_mesh() -> Mesh:
  """A 1-D mesh over all devices of all processes.

  Axis type ``Auto``: the partitioner propagates shardings through the step (our steps need no
  sharding annotations beyond inputs and outputs).
  """
  return jax.make_mesh((jax.device_count(),), (DATA_AXIS,),
                       axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def global_batch(local_batch: Batch, mesh: Mesh) -> dict[str, jax.Array]:
  """Assembles each process's shard of a batch into global arrays sharded over ``mesh``.

  Every process passes its own ``(B / process_count, ...)`` arrays; the result has leading
  dimension ``B`` and lives on all devices (each holding ``B / device_count`` rows).
  """
  sharding = batch_sharded(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
          for k, v in local_batch.items()}


def host_copy(tree: PyTree) -> PyTree:
  """Fetches replicated (or fully addressable) arrays to host numpy on every process."""

  def fetch(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      # Replicated across processes: any local shard holds the whole value.
      return np.asarray(x.addressable_data(0))
    return np.asarray(x)

  return jax.tree.map(fetch, tree)
