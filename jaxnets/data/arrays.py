"""Datasets as random-access sources of examples, and the in-memory kind."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np


class Dataset(Protocol):
  """A random-access source of examples: what the trainer needs from any dataset.

  ``get_batch(indices)`` returns ``{"image": (B, ...) float32, "label": (B, ...) int32}`` for
  integer ``indices`` of shape ``(B,)``. In-memory datasets index arrays; TFDS datasets read
  and decode only the requested records from disk, so a dataset larger than memory streams.
  """

  name: str
  num_classes: int

  def __len__(self) -> int: ...

  def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]: ...


@dataclasses.dataclass(frozen=True)
class ArrayDataset:
  """A dataset held in memory as arrays.

  Attributes:
    image: ``(N, ...)`` float32 inputs (NHWC images, NWC sequences, NTHWC clips).
    label: ``(N,)`` int32 class labels, or ``(N, H, W)`` per-pixel labels.
    num_classes: number of classes.
    name: registry name, for messages.
  """

  image: np.ndarray
  label: np.ndarray
  num_classes: int
  name: str = "arrays"

  def __post_init__(self):
    if len(self.image) != len(self.label):
      raise ValueError(f"{self.name}: {len(self.image)} images but {len(self.label)} labels")

  def __len__(self) -> int:
    return len(self.label)

  def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
    return {"image": self.image[indices], "label": self.label[indices]}
