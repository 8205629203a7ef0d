"""Oxford-IIIT Pet (TFDS ``oxford_iiit_pet``) as a 3-class segmentation dataset.

Parkhi et al. (CVPR 2012) give each of the 7349 pet photographs a trimap: 1 = pet, 2 =
background, 3 = the unclassified border around the pet. We predict the three trimap classes, in
the order background (0), pet (1), border (2). Images are resized (bilinear) and masks resized
with nearest-neighbour interpolation (labels must not be blended) to ``image_size`` squared,
without cropping; flips are augmentations, applied identically to image and mask in training.

Needs the dataset prepared as ArrayRecord in ``data_dir`` (see
:func:`jaxnets.data.tfds_source.load_tfds`); TFDS names its splits ``train`` (3680) and
``test`` (3669).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from jaxnets.data.tfds_source import Example, Preprocess, TfdsDataset, load_tfds
from jaxnets.errors import JaxnetsError

CLASS_NAMES = ("background", "pet", "border")
NUM_CLASSES = len(CLASS_NAMES)
# Trimap value -> our class; index 0 never occurs in the real data (treated as background).
_TRIMAP_TO_CLASS = np.array([0, 1, 0, 2], np.int32)


def trimap_to_labels(trimap: np.ndarray) -> np.ndarray:
  """Maps trimap values 1/2/3 (pet/background/border) to labels 1/0/2, ``(H, W)`` int32."""
  trimap = np.asarray(trimap)
  if trimap.ndim == 3:
    trimap = trimap[..., 0]
  return _TRIMAP_TO_CLASS[np.clip(trimap, 0, 3)]


def _resize(array: np.ndarray, size: int, resample: int) -> np.ndarray:
  if array.shape[:2] == (size, size):
    return array
  return np.asarray(Image.fromarray(array).resize((size, size), resample))


def segmentation_preprocess(image_size: int = 128) -> Preprocess:
  """Per-example preprocessing: ``{"image": (S, S, 3) float32 in [0, 1], "label": (S, S) int32}``.

  Args:
    image_size: side S of the resized image and mask.
  """

  def preprocess(example: Example) -> dict[str, np.ndarray]:
    image = np.asarray(example["image"], np.uint8)
    if image.ndim == 2 or image.shape[-1] == 1:  # a few photographs are greyscale
      image = np.repeat(image.reshape(image.shape[:2] + (1,)), 3, axis=-1)
    image = _resize(image[..., :3], image_size, Image.BILINEAR)
    labels = trimap_to_labels(example["segmentation_mask"]).astype(np.uint8)
    labels = _resize(labels, image_size, Image.NEAREST)
    return {"image": image.astype(np.float32) / 255.0, "label": labels.astype(np.int32)}

  return preprocess


def load(split: str, *, data_dir: str | None = None, image_size: int = 128) -> TfdsDataset:
  """Opens ``split`` of ``oxford_iiit_pet`` as ``image (S, S, 3)`` / ``label (S, S)`` batches.

  Raises:
    JaxnetsError: the dataset is not prepared in ``data_dir`` (with how to prepare it), or
      ``image_size`` is not positive.
  """
  if image_size < 1:
    raise JaxnetsError(f"oxford_iiit_pet image_size must be positive, got {image_size}")
  dataset = load_tfds("oxford_iiit_pet", split, data_dir=data_dir,
                      preprocess=segmentation_preprocess(image_size))
  # The TFDS ``label`` feature is the breed (37 classes); we segment the 3 trimap classes.
  return dataclasses.replace(dataset, num_classes=NUM_CLASSES)
