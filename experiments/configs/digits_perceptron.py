r"""The perceptron (one-vs-rest threshold units) on scikit-learn's digits, by gradient descent.

    python -m experiments.train --config=experiments/configs/digits_perceptron.py --workdir=workdirs/digits_perceptron

The trainer minimises cross-entropy on the units' fields ``<w_c, x> + b_c`` (softmax
regression on the same architecture). Rosenblatt's own rule (updates only on mistakes, stops on
a mistake-free pass) is ``jaxnets.models.perceptron_rule.rosenblatt_one_vs_rest``, which
``python -m experiments.digits_ladder`` runs.
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.name = "digits"
  config.model.name = "perceptron"
  config.batch_size = 64
  config.eval_batch_size = 360  # the 359 test images in one batch (padded, masked)
  config.num_steps = 2000
  config.log_every = 250
  config.eval_every = 1000
  config.checkpoint_every = 1000
  return config
