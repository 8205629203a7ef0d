r"""A two-layer MLP (one hidden layer of 256 ReLU units) on digits.

    python -m experiments.train --config=experiments/configs/digits_two_layer.py --workdir=workdirs/digits_two_layer
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "two_layer"
  config.model.kwargs.width = 256  # m hidden units
  config.optimizer.learning_rate = 3e-3
  return config
