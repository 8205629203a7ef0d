r"""Single-frame baseline (Karpathy et al. 2014): a 2-D CNN on the middle frame only.

Acceptance (issue 6): test accuracy within chance (1/8 = 12.5%) +- 5 points, because one frame
of the ``moving`` clips has the same distribution for every class.

    python -m experiments.video --config=experiments/configs/moving_singleframe.py \
        --workdir=workdirs/moving_singleframe

Data, optimiser and budget as ``moving_slowfusion.py``; only the model differs.
"""

import ml_collections

from experiments.configs import moving_slowfusion


def get_config() -> ml_collections.ConfigDict:
  config = moving_slowfusion.get_config()
  config.model.name = "single_frame"
  config.model.kwargs = ml_collections.ConfigDict({"channels": (16, 32, 32), "hidden": 64})
  return config
