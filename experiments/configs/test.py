r"""A tiny config for tests and debugging: a small MLP on MNIST-1D for a few steps.

    python -m experiments.train --config=experiments/configs/test.py --workdir=/tmp/jaxnets_test
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.model.name = "mlp"
  config.model.kwargs.width = 32
  config.model.kwargs.depth = 1
  config.optimizer.learning_rate = 1e-2
  config.batch_size = 32
  config.eval_batch_size = 200
  config.num_steps = 20
  config.log_every = 5
  config.eval_every = 10
  config.checkpoint_every = 10
  return config
