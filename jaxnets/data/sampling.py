"""Deterministic global batches, of which each process reads only its own shard.

The global batch of step ``s`` is a pure function of ``(seed, s)``: epoch ``e = s // K``
(``K = len(dataset) // global_batch`` steps per epoch, the remainder dropped) draws a
permutation from ``np.random.default_rng([seed, e])`` and step ``s`` takes its ``s % K``-th
slice. So resuming at step ``s`` needs no iterator state, the same global batch is seen on any
number of devices or processes, and process ``p`` of ``P`` reads the ``p``-th contiguous
``1/P`` of it (which ``jax.make_array_from_process_local_data`` places on its devices).
"""

from __future__ import annotations

import concurrent.futures
from typing import Iterator

import numpy as np

from jaxnets.data.arrays import Dataset
from jaxnets.errors import JaxnetsError


def global_batch_indices(num_examples: int, global_batch: int, step: int, seed: int) -> np.ndarray:
  """Indices ``(global_batch,)`` of the examples in the global batch of ``step``."""
  steps_per_epoch = num_examples // global_batch
  if steps_per_epoch == 0:
    raise JaxnetsError(f"batch_size {global_batch} is larger than the dataset "
                       f"({num_examples} examples); lower batch_size")
  epoch, i = divmod(step, steps_per_epoch)
  permutation = np.random.default_rng([seed, epoch]).permutation(num_examples)
  return permutation[i * global_batch:(i + 1) * global_batch]


def local_slice(global_batch: int, process_index: int, process_count: int) -> slice:
  """The slice of a global batch that process ``process_index`` reads."""
  if global_batch % process_count:
    raise JaxnetsError(f"batch_size {global_batch} is not divisible by the process count "
                       f"{process_count}")
  per_process = global_batch // process_count
  return slice(process_index * per_process, (process_index + 1) * per_process)


def train_batches(dataset: Dataset, global_batch: int, *, seed: int, start_step: int,
                  process_index: int = 0, process_count: int = 1,
                  prefetch: int = 2) -> Iterator[dict[str, np.ndarray]]:
  """Yields this process's shard of the global batch of steps ``start_step, start_step+1, ...``.

  A background thread reads ``prefetch`` batches ahead so that decoding overlaps training.
  """
  shard = local_slice(global_batch, process_index, process_count)
  n = len(dataset)

  def read(step: int) -> dict[str, np.ndarray]:
    return dataset.get_batch(global_batch_indices(n, global_batch, step, seed)[shard])

  with concurrent.futures.ThreadPoolExecutor(1) as pool:
    pending = [pool.submit(read, start_step + i) for i in range(prefetch)]
    step = start_step + prefetch
    while True:
      batch = pending.pop(0).result()
      pending.append(pool.submit(read, step))
      step += 1
      yield batch


def eval_batches(dataset: Dataset, global_batch: int, *, process_index: int = 0,
                 process_count: int = 1) -> Iterator[dict[str, np.ndarray]]:
  """Yields this process's shard of every global batch of the whole dataset, in order.

  The last batch is padded to full size by repeating example 0, with ``mask`` 0 on the padding,
  so that every example counts exactly once and shapes (hence compilations) never change.
  """
  shard = local_slice(global_batch, process_index, process_count)
  n = len(dataset)
  for start in range(0, n, global_batch):
    indices = np.arange(start, start + global_batch)
    mask = (indices < n).astype(np.float32)
    indices = np.where(indices < n, indices, 0)
    batch = dataset.get_batch(indices[shard])
    batch["mask"] = mask[shard]
    yield batch
