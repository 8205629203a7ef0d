r"""LeNet-5 (LeCun et al. 1998) on scikit-learn's 8x8 digits, with "SAME" convolutions.

    python -m experiments.train --config=experiments/configs/digits_lenet5.py --workdir=workdirs/digits_lenet5

8x8 -> C1 8x8x6 -> S2 4x4 -> C3 4x4x16 -> S4 2x2 -> 120 -> 84 -> 10 (tanh, average pooling);
``python -m experiments.digits_ladder`` reports about 98% test accuracy for this recipe.
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "lenet5_small"
  config.model.kwargs.act = "tanh"  # LeCun's squashing function (up to constants)
  config.optimizer.learning_rate = 3e-3
  return config
