r"""Slow fusion (Karpathy et al. 2014) on motion-defined video clips (embedded ``moving`` data).

    python -m experiments.video --config=experiments/configs/moving_slowfusion.py \
        --workdir=workdirs/moving_slowfusion

The clips (10 frames of 16x16, 8 classes = 4 directions x 2 speeds) are built so that one
frame carries no information about the class; acceptance (issue 6): > 90% test accuracy.
The other ``moving_*`` configs change only the model.
"""

import ml_collections

from experiments.configs import default


def get_config() -> ml_collections.ConfigDict:
  config = default.get_config()
  config.dataset.name = "moving"  # jaxnets.data.moving: 4000 train / 1000 test clips
  config.dataset.augment = "none"
  # Clip length T, frame side S and speeds (pixels per frame) of jaxnets.data.moving.load.
  config.dataset.options = ml_collections.ConfigDict(
      {"num_frames": 10, "image_size": 16, "speeds": (1, 2)})
  config.model.name = "slow_fusion"
  # Temporal extents 4, 2, 2 with stride 2: 10 -> 4 -> 2 -> 1 frames, as in the paper.
  config.model.kwargs = ml_collections.ConfigDict(
      {"channels": (16, 32, 32), "temporal_kernels": (4, 2, 2), "temporal_strides": (2, 2, 2),
       "hidden": 64})
  config.optimizer.name = "adam"
  config.optimizer.learning_rate = 2e-3
  config.optimizer.schedule = "warmup_cosine"
  config.optimizer.warmup_steps = 50
  config.batch_size = 64
  config.eval_batch_size = 500
  config.num_steps = 600  # ~10 epochs
  config.log_every = 100
  config.eval_every = 0  # the final evaluation only
  config.checkpoint_every = 0
  # Per-video evaluation (jaxnets.eval.video): longer test videos, clip predictions averaged.
  config.video_eval = ml_collections.ConfigDict({"num_frames": 20, "num_clips": 3})
  return config
