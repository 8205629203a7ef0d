r"""ReLU random features (2048) + a trained linear head on digits: the arc-cosine kernel's
random-feature approximation (Cho & Saul 2009), a two-layer net with its first layer frozen.

    python -m experiments.train --config=experiments/configs/digits_relu_features.py --workdir=workdirs/digits_relu_features
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "relu_features_classifier"
  config.model.kwargs.num_features = 2048  # D random ReLU units, fixed by feature_seed
  config.model.kwargs.feature_seed = 0
  config.optimizer.learning_rate = 3e-3
  return config
