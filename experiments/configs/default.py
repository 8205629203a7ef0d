r"""Default training config: the MNIST-1D paper's CNN on MNIST-1D (the embedded default).

    python -m experiments.train --config=experiments/configs/default.py --workdir=workdirs/default

Greydanus & Kobak (2020), "Scaling down deep learning", sec. 3: Adam, learning rate 1e-2,
batch 100, 6000 steps; they report 94% test accuracy for this CNN.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0  # root of every PRNG stream (init, per-step augmentation and dropout)

  config.dataset = ml_collections.ConfigDict()
  config.dataset.name = "mnist1d"  # a key of jaxnets.data.DATASETS
  # TFDS data directory (TFDS datasets only); a typed placeholder so --config.dataset.data_dir=...
  # can override it.
  config.dataset.data_dir = ml_collections.config_dict.placeholder(str)
  config.dataset.train_split = "train"
  config.dataset.eval_split = "test"
  config.dataset.augment = "none"  # a key of jaxnets.data.augment.AUGMENTATIONS
  config.dataset.options = ml_collections.ConfigDict()  # dataset-specific, e.g. shuffle_seq

  config.model = ml_collections.ConfigDict()
  config.model.name = "cnn_mnist1d"  # a key of jaxnets.models.MODELS
  config.model.kwargs = ml_collections.ConfigDict()  # constructor arguments of the model

  config.loss = "cross_entropy"  # a key of jaxnets.train.losses.LOSSES
  config.optimizer = ml_collections.ConfigDict()
  config.optimizer.name = "adam"  # sgd | momentum | adam | adamw
  config.optimizer.learning_rate = 1e-2
  config.optimizer.schedule = "constant"  # constant | cosine | warmup_cosine | step
  config.optimizer.warmup_steps = 0
  config.optimizer.weight_decay = 0.0
  config.optimizer.momentum = 0.9  # sgd with momentum only

  config.batch_size = 100  # global: split over all devices of all processes
  config.eval_batch_size = 1000
  config.num_steps = 6000
  config.log_every = 500  # train metrics and the console line
  config.eval_every = 2000
  config.checkpoint_every = 2000
  config.dtype = "float32"  # compute dtype: "bfloat16" on GPU/TPU; params stay float32
  return config
