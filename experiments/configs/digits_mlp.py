r"""A deep MLP (4 hidden layers of 256, ReLU) on scikit-learn's digits.

    python -m experiments.train --config=experiments/configs/digits_mlp.py --workdir=workdirs/digits_mlp

For a two-layer net (one hidden layer of width m) use ``--config.model.name=two_layer``
and drop ``depth``; ``parametrization`` may be "standard", "ntk" or "mup".
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "mlp"
  config.model.kwargs.width = 256
  config.model.kwargs.depth = 4
  config.model.kwargs.act = "relu"  # a name in jaxnets.models.ACTIVATIONS
  config.model.kwargs.parametrization = "standard"
  config.optimizer.learning_rate = 3e-3
  return config
