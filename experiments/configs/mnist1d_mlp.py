r"""The MNIST-1D paper's MLP (40-100-100-10, ReLU) on MNIST-1D; they report 68%.

    python -m experiments.train --config=experiments/configs/mnist1d_mlp.py --workdir=workdirs/mnist1d_mlp
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.model.name = "mlp_mnist1d"
  return config
