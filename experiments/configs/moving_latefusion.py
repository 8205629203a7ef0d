r"""Late fusion (Karpathy et al. 2014): a shared 2-D tower on the first and last frame, fused
by the dense head.

    python -m experiments.video --config=experiments/configs/moving_latefusion.py \
        --workdir=workdirs/moving_latefusion

Data, optimiser and budget as ``moving_slowfusion.py``; only the model differs.
"""

import ml_collections

from experiments.configs import moving_slowfusion


def get_config() -> ml_collections.ConfigDict:
  config = moving_slowfusion.get_config()
  config.model.name = "late_fusion"
  config.model.kwargs = ml_collections.ConfigDict({"channels": (16, 32, 32), "hidden": 64})
  return config
