"""Per-video prediction from several clips: sample clips, average their class probabilities.

A clip model sees ``T`` frames; a video has ``F >= T``. Following Karpathy et al. (CVPR 2014,
sec. 4.1: "we randomly sample 20 clips ... and average the individual clip predictions"), the
video's class probabilities are the mean of the softmax outputs over ``M`` clips. We space the
clips evenly over the video instead of at random, so that evaluation is deterministic.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError

ApplyFn = Callable[..., jax.Array]


def clip_starts(num_frames: int, clip_length: int, num_clips: int) -> np.ndarray:
  """First frames ``(num_clips,)`` of evenly spaced clips of ``clip_length`` frames.

  One clip is centred; several span the video from its first to its last frame.
  """
  if clip_length > num_frames:
    raise JaxnetsError(f"clips of {clip_length} frames do not fit in a video of {num_frames} "
                       f"frames; use shorter clips or longer videos")
  if num_clips < 1:
    raise JaxnetsError(f"num_clips must be >= 1, got {num_clips}")
  last = num_frames - clip_length
  if num_clips == 1:
    return np.array([last // 2])
  return np.round(np.linspace(0, last, num_clips)).astype(int)


def sample_clips(videos: np.ndarray, clip_length: int, num_clips: int) -> np.ndarray:
  """``(N, F, H, W, C)`` videos -> ``(N, num_clips, clip_length, H, W, C)`` evenly spaced clips."""
  videos = np.asarray(videos)
  starts = clip_starts(videos.shape[1], clip_length, num_clips)
  frames = starts[:, None] + np.arange(clip_length)[None, :]  # (M, T)
  return videos[:, frames]


def clip_probabilities(apply_fn: ApplyFn, variables: Any, clips: jax.Array) -> jax.Array:
  """Softmax class probabilities of every clip: ``(N, M, T, H, W, C) -> (N, M, K)``."""
  n, m = clips.shape[:2]
  logits = apply_fn(variables, clips.reshape((n * m,) + clips.shape[2:]), train=False)
  return jax.nn.softmax(logits.astype(jnp.float32), axis=-1).reshape(n, m, -1)


def video_probabilities(apply_fn: ApplyFn, variables: Any, clips: jax.Array) -> jax.Array:
  """Mean over clips of the softmax class probabilities: ``(N, M, T, H, W, C) -> (N, K)``."""
  return clip_probabilities(apply_fn, variables, clips).mean(axis=1)


def evaluate_videos(apply_fn: ApplyFn, variables: Any, videos: np.ndarray, labels: np.ndarray,
                    *, clip_length: int, num_clips: int, batch_size: int = 100
                    ) -> dict[str, float | np.ndarray]:
  """Clip-level and video-level accuracy of a clip classifier on whole videos.

  Args:
    apply_fn, variables: the model (``module.apply`` and its variables).
    videos: ``(N, F, H, W, C)``; labels: ``(N,)`` int.
    clip_length: frames T the model takes; num_clips: clips M per video.
    batch_size: videos per jitted call.

  Returns:
    ``clip_accuracy`` (mean over all N * M clips of the single-clip accuracy),
    ``video_accuracy`` (argmax of the clip-averaged probabilities) and ``predictions (N,)``.
  """
  labels = np.asarray(labels)

  @jax.jit
  def predict(variables, clips):
    probabilities = clip_probabilities(apply_fn, variables, clips)
    return probabilities.argmax(-1), probabilities.mean(axis=1).argmax(-1)

  clip_hits, video_predictions = [], []
  for start in range(0, len(videos), batch_size):
    clips = sample_clips(videos[start:start + batch_size], clip_length, num_clips)
    per_clip, per_video = predict(variables, clips)
    clip_hits.append(np.asarray(per_clip) == labels[start:start + batch_size, None])
    video_predictions.append(np.asarray(per_video))
  predictions = np.concatenate(video_predictions)
  return {"clip_accuracy": float(np.concatenate(clip_hits).mean()),
          "video_accuracy": float(np.mean(predictions == labels)),
          "predictions": predictions}
