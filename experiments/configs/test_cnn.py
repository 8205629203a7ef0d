r"""The test config with the MNIST-1D CNN instead of the MLP (convolutions in tests).

    python -m experiments.train --config=experiments/configs/test_cnn.py --workdir=/tmp/jaxnets_test_cnn
"""

import ml_collections

from experiments.configs import test


def get_config():
  config = test.get_config()
  config.model.name = "cnn_mnist1d"
  config.model.kwargs = ml_collections.ConfigDict()
  return config
