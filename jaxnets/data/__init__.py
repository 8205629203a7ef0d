"""Dataset registry: ``get_dataset(name, split, ...)`` by name.

Embedded datasets (no download): ``mnist1d`` (the default), ``digits``. TFDS datasets are read
from a prepared ``data_dir`` with ``tfds.data_source``. Every dataset is a random-access
:class:`~jaxnets.data.arrays.Dataset`; :mod:`jaxnets.data.sampling` turns it into per-process
shards of deterministic global batches.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from jaxnets.data import digits, mnist1d, moving, oxford_pet, shapes, ucf101
from jaxnets.data.arrays import ArrayDataset, Dataset
from jaxnets.data.tfds_source import image_classification, load_tfds
from jaxnets.errors import JaxnetsError, unknown_name


def _tfds(name: str, image_size: int | None = None) -> Callable[..., Dataset]:
  def load(split: str, *, data_dir: str | None = None, image_size: int | None = image_size):
    return load_tfds(name, split, data_dir=data_dir,
                     preprocess=image_classification(image_size))

  return load


# name -> loader(split, **options). TFDS loaders take ``data_dir``; in-memory ones do not.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "mnist1d": mnist1d.load,
    "digits": digits.load,
    "mnist": _tfds("mnist"),
    "fashion_mnist": _tfds("fashion_mnist"),
    "cifar10": _tfds("cifar10"),
    "imagenet2012": _tfds("imagenet2012", image_size=224),
    "shapes": shapes.load,
    "moving": moving.load,
    "oxford_iiit_pet": oxford_pet.load,
    "ucf101": ucf101.load,
}
TFDS_DATASETS = frozenset({"mnist", "fashion_mnist", "cifar10", "imagenet2012",
                           "oxford_iiit_pet", "ucf101"})


def get_dataset(name: str, split: str, *, data_dir: str | None = None,
                **options: Any) -> Dataset:
  """Returns split ``split`` of dataset ``name``.

  Args:
    name: a key of :data:`DATASETS`.
    split: ``"train"`` or ``"test"`` (TFDS datasets accept any TFDS split string).
    data_dir: TFDS data directory (ignored by embedded datasets).
    **options: dataset-specific options, e.g. ``shuffle_seq=True`` for mnist1d.

  Raises:
    JaxnetsError: unknown name (listing the known ones), bad option, or unprepared TFDS data.
  """
  if name not in DATASETS:
    raise unknown_name("dataset", name, DATASETS)
  if name in TFDS_DATASETS:
    options["data_dir"] = data_dir
  try:
    return DATASETS[name](split, **options)
  except TypeError as e:
    raise JaxnetsError(f"bad options for dataset {name!r}: {e}") from None


__all__ = ["ArrayDataset", "DATASETS", "Dataset", "get_dataset"]
