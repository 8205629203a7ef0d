r"""A small 2-D CNN (global average pooling) on scikit-learn's 8x8 digits.

    python -m experiments.train --config=experiments/configs/digits_cnn.py --workdir=workdirs/digits_cnn
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.name = "digits"
  config.model.name = "cnn2d"
  config.model.kwargs.channels = (32, 64)
  config.optimizer.learning_rate = 3e-3
  config.batch_size = 64
  config.eval_batch_size = 360
  config.num_steps = 1500
  config.log_every = 250
  config.eval_every = 500
  config.checkpoint_every = 500
  return config
