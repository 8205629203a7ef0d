r"""Logistic (softmax) regression on scikit-learn's digits: the linear rung of the ladder.

    python -m experiments.train --config=experiments/configs/digits_logistic.py --workdir=workdirs/digits_logistic
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "logistic"  # softmax(W x + b) on the 64 pixels
  config.optimizer.learning_rate = 1e-2
  return config
