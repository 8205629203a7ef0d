r"""ResNet-20 on CIFAR-10, He et al. (2016, sec. 4.2): they report 8.75% test error (91.25%).

    tfds build cifar10 --data_dir=$HOME/tensorflow_datasets --file_format=array_record  # once
    python -m experiments.train --config=experiments/configs/cifar10_resnet20.py --workdir=workdirs/cifar10_resnet20 \
        --config.dataset.data_dir=$HOME/tensorflow_datasets

Their recipe: SGD with momentum 0.9, weight decay 1e-4, batch 128, learning rate 0.1 divided by
10 at 32k and 48k iterations, 64k iterations; 4-pixel padding, random 32x32 crops and
horizontal flips. Differences: they train on 45k images (5k held out) and subtract the
per-pixel mean; we train on all 50k and feed pixels in [0, 1] (BatchNorm follows the stem).
"""

from experiments.configs import default


def get_config():
  config = default.get_config()
  config.dataset.name = "cifar10"
  config.dataset.augment = "flip_crop"  # pad 4, random 32x32 crop, horizontal flip
  config.model.name = "resnet20"
  config.loss = "cross_entropy"
  config.optimizer.name = "momentum"
  config.optimizer.momentum = 0.9
  config.optimizer.learning_rate = 0.1
  config.optimizer.schedule = "step"  # x0.1 at 50% and 75% of training: 32k and 48k of 64k
  config.optimizer.weight_decay = 1e-4
  config.batch_size = 128
  config.eval_batch_size = 1000
  config.num_steps = 64_000
  config.log_every = 500
  config.eval_every = 4000
  config.checkpoint_every = 4000
  return config
