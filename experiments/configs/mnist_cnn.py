r"""A 2-D CNN on TFDS MNIST, read from a prepared ``data_dir`` (no download here).

    tfds build mnist --data_dir=$HOME/tensorflow_datasets --file_format=array_record  # once
    python -m experiments.train --config=experiments/configs/mnist_cnn.py --workdir=workdirs/mnist_cnn \
        --config.dataset.data_dir=$HOME/tensorflow_datasets
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.name = "mnist"
  config.model.name = "cnn2d"
  config.model.kwargs.channels = (32, 64)
  config.optimizer.learning_rate = 1e-3
  config.batch_size = 128
  config.eval_batch_size = 1000
  config.num_steps = 5000
  config.log_every = 500
  config.eval_every = 2500
  config.checkpoint_every = 1000
  return config
