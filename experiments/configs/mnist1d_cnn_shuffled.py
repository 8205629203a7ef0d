r"""The MNIST-1D CNN on shuffled MNIST-1D (40 positions permuted by one fixed permutation).

    python -m experiments.train --config=experiments/configs/mnist1d_cnn_shuffled.py --workdir=workdirs/mnist1d_cnn_shuffled

Shuffling destroys the spatial structure that shared filters exploit: Greydanus & Kobak (2020,
Table 1) report 56% instead of 94%, while the MLP and logistic regression do not change.
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.options.shuffle_seq = True  # mnist1d's fixed permutation of positions
  return config
