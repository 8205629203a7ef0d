r"""A small 3-D convolutional net (3x3x3 filters, C3D-style; Tran et al. 2015).

Acceptance (issue 6): > 90% test accuracy on the motion-defined clips.

    python -m experiments.video --config=experiments/configs/moving_conv3d.py \
        --workdir=workdirs/moving_conv3d

Data, optimiser and budget as ``moving_slowfusion.py``; only the model differs.
"""

import ml_collections

from experiments.configs import moving_slowfusion


def get_config() -> ml_collections.ConfigDict:
  config = moving_slowfusion.get_config()
  config.model.name = "conv3d"
  config.model.kwargs = ml_collections.ConfigDict({"channels": (16, 32, 32), "hidden": 64})
  return config
