r"""PGD adversarial training (Madry et al. 2018) of the MNIST-1D CNN, L-inf eps = 0.2.

    python -m experiments.train --config=experiments/configs/mnist1d_cnn_adversarial.py --workdir=workdirs/mnist1d_cnn_adversarial

Variant of ``mnist1d_cnn.py``. MNIST-1D is not an image: its values (train and test) lie in
[-5.5, 4.6], so the declared input box is [-6, 6]; eps = 0.2 is a fifth of the per-coordinate
standard deviation (about 1).
"""

import ml_collections

from experiments.configs import mnist1d_cnn


def get_config():
  config = mnist1d_cnn.get_config()
  config.task = "adversarial"  # jaxnets.train.adversarial.AdversarialTask
  config.num_steps = 3000  # each step costs 1 + adversarial.steps forward/backward passes
  config.eval_every = 1000
  config.checkpoint_every = 1000
  config.optimizer.learning_rate = 3e-3
  config.optimizer.schedule = "cosine"
  config.adversarial = ml_collections.ConfigDict()  # the inner maximisation (PGDTraining)
  config.adversarial.eps = 0.2  # L-inf radius the model is trained against
  config.adversarial.steps = 7  # PGD steps per training step
  config.adversarial.rel_step = 0.36  # step size / eps: 7 steps can cross the ball 2.5 times
  config.adversarial.norm = "linf"  # linf | l2
  config.adversarial.lo = -6.0  # the declared input box, containing every MNIST-1D value
  config.adversarial.hi = 6.0
  return config
