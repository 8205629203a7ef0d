r"""FCN-8s-style net (Long et al. 2015) on the procedural shapes segmentation data (embedded).

    python -m experiments.segmentation --config=experiments/configs/shapes_fcn.py \
        --workdir=workdirs/shapes_fcn

Acceptance (issue 6): mean IoU >= 0.75 on the test split in under 10 minutes on 2 CPU cores.
Same data, loss and optimiser as ``shapes_unet.py``; only the model differs.
"""

import ml_collections

from experiments.configs import shapes_unet


def get_config() -> ml_collections.ConfigDict:
  config = shapes_unet.get_config()
  config.model.name = "fcn"
  # Backbone stages (stride 2, 4, 8), the conv head, and two skips (FCN-8s: scores at stride 2
  # after the skips, then bilinear up-sampling).
  config.model.kwargs = ml_collections.ConfigDict(
      {"channels": (16, 32, 64), "head_features": 128, "num_skips": 2})
  config.num_steps = 5000  # a step costs ~1/4 of the U-Net's
  return config
