r"""LeNet-5 on TFDS MNIST (LeCun et al. 1998 report 0.95% test error without distortions).

    tfds build mnist --data_dir=$HOME/tensorflow_datasets --file_format=array_record  # once
    python -m experiments.train --config=experiments/configs/mnist_lenet5.py --workdir=workdirs/mnist_lenet5 \
        --config.dataset.data_dir=$HOME/tensorflow_datasets

The classic net: 28x28 padded by 2 (the paper's 32x32 input), 61,706 parameters. Adam rather
than the paper's stochastic diagonal Levenberg-Marquardt; 20 epochs of batch 128.
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.name = "mnist"
  config.dataset.augment = "none"  # MNIST is not flipped or cropped: digits are not symmetric
  config.model.name = "lenet5"
  config.model.kwargs.act = "tanh"
  config.optimizer.learning_rate = 1e-3
  config.optimizer.schedule = "cosine"
  config.batch_size = 128
  config.eval_batch_size = 1000
  config.num_steps = 20 * 60_000 // 128  # 20 epochs
  config.log_every = 500
  config.eval_every = 4685
  config.checkpoint_every = 2000
  return config
