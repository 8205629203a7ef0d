r"""PGD adversarial training (Madry et al. 2018) of the digits CNN, L-inf eps = 0.2.

    python -m experiments.train --config=experiments/configs/digits_cnn_adversarial.py --workdir=workdirs/digits_cnn_adversarial

Variant of ``digits_cnn.py`` (pixels in [0, 1]); every step trains on PGD examples of the
current model. Evaluation adds the PGD robust accuracy of the eval split.
"""

import ml_collections

from experiments.configs import digits_cnn


def get_config():
  config = digits_cnn.get_config()
  config.task = "adversarial"  # jaxnets.train.adversarial.AdversarialTask
  config.adversarial = ml_collections.ConfigDict()  # the inner maximisation (PGDTraining)
  config.adversarial.eps = 0.2  # L-inf radius the model is trained against
  config.adversarial.steps = 10  # PGD steps per training step
  config.adversarial.rel_step = 0.25  # step size / eps: 10 steps can cross the ball 2.5 times
  config.adversarial.norm = "linf"  # linf | l2
  config.adversarial.lo = 0.0  # the input box: digits pixels are scaled to [0, 1]
  config.adversarial.hi = 1.0
  return config
