"""TFDS datasets read by random access with ``tfds.data_source``.

Why ``tfds.data_source`` rather than ``tfds.load``: it reads ArrayRecord files by index with
no TensorFlow, so (1) the batch for step ``s`` is a pure function of ``(seed, s)`` and resume
needs no iterator state, (2) each process reads only the records of its own shard of every
global batch, and (3) nothing is held in memory: ImageNet-size datasets stream from disk,
decoded a batch at a time by a thread pool.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from typing import Any, Callable

import numpy as np
from PIL import Image

from jaxnets.errors import JaxnetsError

Example = dict[str, Any]
Preprocess = Callable[[Example], dict[str, np.ndarray]]


def _center_square_resize(image: np.ndarray, size: int) -> np.ndarray:
  """Center-crops ``(H, W, C)`` uint8 to a square and resizes it to ``(size, size, C)``."""
  h, w = image.shape[:2]
  s = min(h, w)
  top, left = (h - s) // 2, (w - s) // 2
  image = image[top:top + s, left:left + s]
  if s == size:
    return image
  channels = image.shape[2]
  pil = Image.fromarray(image[..., 0] if channels == 1 else image)
  out = np.asarray(pil.resize((size, size), Image.BILINEAR))
  return out.reshape(size, size, channels)


def image_classification(image_size: int | None = None) -> Preprocess:
  """Preprocessing for ``{"image": uint8 (H, W, C), "label": int}`` examples.

  Scales pixels to [0, 1]; with ``image_size`` also center-crops to a square and resizes, which
  datasets of variable-size images (ImageNet) need to be batched.
  """

  def preprocess(example: Example) -> dict[str, np.ndarray]:
    image = np.asarray(example["image"])
    if image_size is not None:
      image = _center_square_resize(image, image_size)
    return {"image": image.astype(np.float32) / 255.0,
            "label": np.asarray(example["label"], np.int32)}

  return preprocess


def _prepare_hint(name: str, data_dir: str | None) -> str:
  where = f" --data_dir={data_dir}" if data_dir else ""
  return (f"prepare it on a machine with internet with `tfds build {name}{where} "
          f"--file_format=array_record` (or copy a prepared array_record copy there)")


@dataclasses.dataclass
class TfdsDataset:
  """A TFDS split as a random-access :class:`jaxnets.data.arrays.Dataset`."""

  name: str
  num_classes: int
  source: Any
  preprocess: Preprocess
  num_threads: int = 8

  def __len__(self) -> int:
    return len(self.source)

  def get_batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
    def read(i):
      return self.preprocess(self.source[int(i)])

    if len(indices) >= 64 and self.num_threads > 1:
      # Decoding is the cost for image datasets; PIL and the record reader release the GIL.
      with concurrent.futures.ThreadPoolExecutor(self.num_threads) as pool:
        examples = list(pool.map(read, indices))
    else:
      examples = [read(i) for i in indices]
    return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def load_tfds(name: str, split: str, *, data_dir: str | None = None,
              preprocess: Preprocess | None = None,
              label_feature: str = "label") -> TfdsDataset:
  """Opens split ``split`` of TFDS dataset ``name`` from ``data_dir`` without downloading.

  Raises:
    JaxnetsError: with one line naming the dataset, the data_dir and how to prepare it, when
      the dataset is not prepared (this machine may be offline), or the split is unknown.
  """
  import tensorflow_datasets as tfds  # imported here: slow, and only TFDS datasets need it

  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # DatasetNotFoundError lists every TFDS name: keep the first line
    raise JaxnetsError(f"TFDS does not know dataset {name!r}: {str(e).splitlines()[0]}") from None
  try:
    source = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
  except Exception as e:
    if not builder.is_prepared():
      raise JaxnetsError(f"TFDS dataset {name!r} is not prepared in {builder.data_dir} "
                         f"and cannot be downloaded here; {_prepare_hint(name, data_dir)}"
                         ) from None
    # Prepared, but e.g. as tfrecord (which random access cannot read), or a bad split.
    raise JaxnetsError(f"cannot read split {split!r} of TFDS dataset {name!r} from "
                       f"{builder.data_dir} ({type(e).__name__}: {str(e).splitlines()[0]}); "
                       f"{_prepare_hint(name, data_dir)}") from None
  label = builder.info.features[label_feature]
  num_classes = getattr(label, "num_classes", None) or 0
  return TfdsDataset(name=name, num_classes=int(num_classes), source=source,
                     preprocess=preprocess or image_classification())
