r"""The MNIST-1D paper's CNN on MNIST-1D (same as default.py; named for the feature table).

    python -m experiments.train --config=experiments/configs/mnist1d_cnn.py --workdir=workdirs/mnist1d_cnn
"""

from experiments.configs import default


def get_config():
  return default.get_config()
