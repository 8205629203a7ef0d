r"""Logistic (softmax) regression on MNIST-1D; Greydanus & Kobak (2020, Table 1) report 32%.

    python -m experiments.train --config=experiments/configs/mnist1d_logistic.py --workdir=workdirs/mnist1d_logistic

The paper's recipe, as for their MLP and CNN: Adam, learning rate 1e-2, batch 100, 6000 steps.
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.model.name = "logistic"  # the MLP with no hidden layer: softmax(W x + b)
  return config
