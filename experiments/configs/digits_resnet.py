r"""ResNet-8 (He et al. 2016's CIFAR family with n = 1, BatchNorm) on scikit-learn's digits.

    python -m experiments.train --config=experiments/configs/digits_resnet.py --workdir=workdirs/digits_resnet

8x8 maps with 16, 32, 64 filters at 8x8, 4x4, 2x2, global average pooling;
``python -m experiments.digits_ladder`` reports about 99% test accuracy for this recipe.
"""

from experiments.configs import digits_perceptron


def get_config():
  config = digits_perceptron.get_config()
  config.model.name = "resnet8"
  config.optimizer.learning_rate = 3e-3
  config.num_steps = 800
  config.eval_every = 400
  config.checkpoint_every = 400
  return config
