"""MNIST-1D (Greydanus & Kobak 2020, "Scaling down deep learning"), generated offline.

The ``mnist1d`` package builds the dataset procedurally from ten 1-D digit templates; we
never use its download path. The paper's default (``num_samples=5000``, 80/20 split, seed 42)
gives 4000 train and 1000 test sequences of length 40, returned as ``(N, 40, 1)`` float32.
"""

from __future__ import annotations

import functools

import numpy as np
from mnist1d.data import get_dataset_args, make_dataset

from jaxnets.data.arrays import ArrayDataset
from jaxnets.errors import JaxnetsError


@functools.lru_cache(maxsize=8)
def _generate(num_samples: int, generator_seed: int, shuffle_seq: bool) -> dict[str, np.ndarray]:
  args = get_dataset_args()
  args.num_samples, args.seed, args.shuffle_seq = num_samples, generator_seed, shuffle_seq
  # make_dataset seeds NumPy's global RNG; restore it so that loading data has no side effect.
  saved = np.random.get_state()
  try:
    data = make_dataset(args)
  finally:
    np.random.set_state(saved)
  return {k: data[k] for k in ("x", "y", "x_test", "y_test")}


def load(split: str, *, num_samples: int = 5000, generator_seed: int = 42,
         shuffle_seq: bool = False) -> ArrayDataset:
  """Returns the ``train`` (80%) or ``test`` (20%) split of MNIST-1D.

  Args:
    split: ``"train"`` or ``"test"``.
    num_samples: total examples generated (the paper's 5000 gives 4000/1000).
    generator_seed: seed of the generator (42 is the paper's dataset).
    shuffle_seq: permute the 40 positions by one fixed permutation (the paper's
      "shuffled" variant, which destroys spatial structure).
  """
  if split not in ("train", "test"):
    raise JaxnetsError(f"mnist1d has splits 'train' and 'test', not {split!r}")
  if num_samples < 20:
    raise JaxnetsError(f"mnist1d num_samples must be at least 20, got {num_samples}")
  data = _generate(int(num_samples), int(generator_seed), bool(shuffle_seq))
  x, y = (data["x"], data["y"]) if split == "train" else (data["x_test"], data["y_test"])
  return ArrayDataset(image=x.astype(np.float32)[..., None], label=y.astype(np.int32),
                      num_classes=10, name="mnist1d")
