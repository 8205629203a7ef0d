r"""A kernel classifier on scikit-learn's digits: 2048 random Fourier features (RBF kernel,
Rahimi & Recht 2007) and a trained linear layer.

    python -m experiments.train --config=experiments/configs/digits_rff.py --workdir=workdirs/digits_rff

``python -m experiments.digits_ladder`` reports about 99% test accuracy for this recipe.
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "rff_classifier"
  config.model.kwargs.num_features = 2048  # D: <Phi(x), Phi(x')> -> k(x, x') as D grows
  config.model.kwargs.gamma = 0.05  # RBF kernel exp(-gamma |x - x'|^2), pixels in [0, 1]
  config.model.kwargs.feature_seed = 0  # the random map is fixed by this seed
  return config
