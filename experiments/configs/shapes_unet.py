r"""U-Net (Ronneberger et al. 2015) on the procedural shapes segmentation data (embedded).

    python -m experiments.segmentation --config=experiments/configs/shapes_unet.py \
        --workdir=workdirs/shapes_unet

Acceptance (issue 6): mean IoU >= 0.85 on the 500-image test split in under 10 minutes on 2
CPU cores. Per-pixel softmax cross-entropy plus soft Dice; Adam with cosine decay.
"""

import ml_collections

from experiments.configs import default


def get_config() -> ml_collections.ConfigDict:
  config = default.get_config()
  config.dataset.name = "shapes"  # jaxnets.data.shapes: 4000 train / 500 test, 32x32
  config.dataset.augment = "none"  # random shapes: flips add nothing the generator lacks
  config.dataset.options = ml_collections.ConfigDict({"image_size": 32})
  config.model.name = "unet"
  config.model.kwargs = ml_collections.ConfigDict({"width": 16, "depth": 3})
  config.loss = "cross_entropy+dice"  # Dice weighs the small shape classes up against background
  config.optimizer.name = "adam"
  config.optimizer.learning_rate = 3e-3
  config.optimizer.schedule = "warmup_cosine"
  config.optimizer.warmup_steps = 50
  config.batch_size = 16  # more updates for the same compute: CPU cost is per example
  config.eval_batch_size = 100
  config.num_steps = 2400
  config.log_every = 200
  config.eval_every = 0  # the final evaluation only: every pass over the test set costs time
  config.checkpoint_every = 0
  return config
