r"""Early fusion (Karpathy et al. 2014): the first convolution spans all 10 frames.

    python -m experiments.video --config=experiments/configs/moving_earlyfusion.py \
        --workdir=workdirs/moving_earlyfusion

Data, optimiser and budget as ``moving_slowfusion.py``; only the model differs.
"""

import ml_collections

from experiments.configs import moving_slowfusion


def get_config() -> ml_collections.ConfigDict:
  config = moving_slowfusion.get_config()
  config.model.name = "early_fusion"
  config.model.kwargs = ml_collections.ConfigDict({"channels": (16, 32, 32), "hidden": 64})
  return config
