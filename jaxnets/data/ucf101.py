"""UCF101 (TFDS ``ucf101``, Soomro et al. 2012): 13320 YouTube clips of 101 human actions.

Each TFDS example is a whole video ``{"video": uint8 (F, H, W, 3), "label": int}`` (F varies,
frames 256x256 in the default ``ucf101/ucf101_1_256`` config). Per example we take clips of
``clip_length`` frames, every ``frame_stride``-th frame, resize the frames to ``image_size``
squared and scale to [0, 1]. Training and the trainer's evaluation use the centre clip
``(T, S, S, 3)``; with ``num_clips > 1`` every example becomes ``(M, T, S, S, 3)`` evenly spaced
clips, which :func:`jaxnets.eval.video.video_probabilities` averages into a per-video
prediction (Karpathy et al. 2014, sec. 4.1). Videos shorter than a clip are looped.

TFDS 4.9's ``Video`` feature imports TensorFlow when the builder is constructed, so reading
this dataset (unlike the image datasets) needs ``tensorflow`` (or ``tensorflow-cpu``)
installed; the error says so.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from jaxnets.data.tfds_source import Example, Preprocess, TfdsDataset, load_tfds
from jaxnets.errors import JaxnetsError
from jaxnets.eval.video import clip_starts

NUM_CLASSES = 101


def _resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
  if frames.shape[1:3] == (size, size):
    return frames
  return np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.BILINEAR))
                   for f in frames])


def clip_preprocess(clip_length: int = 10, image_size: int = 64, frame_stride: int = 1,
                    num_clips: int = 1) -> Preprocess:
  """Per-example preprocessing of a video example into clips, ``float32`` in [0, 1].

  Returns ``{"image": (T, S, S, 3) or (M, T, S, S, 3), "label": () int32}``; the clips are the
  evenly spaced ones of :func:`jaxnets.eval.video.clip_starts` over the strided frames.
  """
  if min(clip_length, image_size, frame_stride, num_clips) < 1:
    raise JaxnetsError("ucf101 clip_length, image_size, frame_stride and num_clips must be "
                       f">= 1, got {clip_length}, {image_size}, {frame_stride}, {num_clips}")

  def preprocess(example: Example) -> dict[str, np.ndarray]:
    video = np.asarray(example["video"], np.uint8)[::frame_stride]
    if len(video) < clip_length:  # loop short videos
      video = np.concatenate([video] * (-(-clip_length // len(video))))
    starts = clip_starts(len(video), clip_length, num_clips)
    frames = starts[:, None] + np.arange(clip_length)[None, :]
    # Resize only the frames used (a UCF101 video has ~190 frames of 256x256).
    used, inverse = np.unique(frames, return_inverse=True)
    small = _resize_frames(video[used], image_size)[inverse.reshape(frames.shape)]
    clips = small.astype(np.float32) / 255.0
    return {"image": clips[0] if num_clips == 1 else clips,
            "label": np.asarray(example["label"], np.int32)}

  return preprocess


def _open(name: str, split: str, data_dir: str | None, preprocess: Preprocess) -> TfdsDataset:
  """Opens the TFDS source (the one function that needs TFDS, TensorFlow and the data)."""
  try:
    import tensorflow_datasets.video.ucf101  # noqa: F401  (registers the builder "ucf101")
    import tensorflow  # noqa: F401
  except ImportError:
    raise JaxnetsError("reading TFDS ucf101 needs TensorFlow (TFDS's Video feature imports it); "
                       "`pip install tensorflow-cpu` (or jaxnets' [video] extra), or use the "
                       "embedded 'moving' video data") from None
  return load_tfds(name, split, data_dir=data_dir, preprocess=preprocess)


def load(split: str, *, data_dir: str | None = None, clip_length: int = 10,
         image_size: int = 64, frame_stride: int = 1, num_clips: int = 1,
         config: str = "ucf101_1_256") -> TfdsDataset:
  """Opens ``split`` of ``ucf101/<config>`` as clips (see :func:`clip_preprocess`).

  Raises:
    JaxnetsError: TensorFlow missing (TFDS's Video feature needs it), the dataset not prepared
      in ``data_dir`` (with how to prepare it), or bad clip options.
  """
  preprocess = clip_preprocess(clip_length, image_size, frame_stride, num_clips)
  return _open(f"ucf101/{config}", split, data_dir, preprocess)
