"""scikit-learn's 8x8 handwritten digits (1797 images, shipped inside the package).

Fixed split: a stratified permutation drawn with ``np.random.default_rng(0)`` puts 20% of each
class in the test set (359 test / 1438 train: round(0.2 n_c) per class). Pixels (0..16) are scaled to [0, 1] and shaped
``(N, 8, 8, 1)`` (NHWC).
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.datasets import load_digits

from jaxnets.data.arrays import ArrayDataset
from jaxnets.errors import JaxnetsError

TEST_FRACTION = 0.2


@functools.lru_cache(maxsize=1)
def _split() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  bunch = load_digits()
  images = (bunch.images / 16.0).astype(np.float32)[..., None]
  labels = bunch.target.astype(np.int32)
  rng = np.random.default_rng(0)
  is_test = np.zeros(len(labels), dtype=bool)
  for c in range(10):
    members = np.flatnonzero(labels == c)
    is_test[rng.choice(members, size=round(TEST_FRACTION * len(members)), replace=False)] = True
  return images, labels, is_test


def load(split: str) -> ArrayDataset:
  """Returns the fixed ``train`` (1438) or ``test`` (359) split of the digits."""
  if split not in ("train", "test"):
    raise JaxnetsError(f"digits has splits 'train' and 'test', not {split!r}")
  images, labels, is_test = _split()
  keep = is_test if split == "test" else ~is_test
  return ArrayDataset(image=images[keep], label=labels[keep], num_classes=10, name="digits")
