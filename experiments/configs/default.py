r"""Default training config: the MNIST-1D paper's CNN on MNIST-1D (the embedded default).

    python -m experiments.train --config=experiments/configs/default.py --workdir=workdirs/default

Greydanus & Kobak (2020), "Scaling down deep learning", sec. 3: Adam, learning rate 1e-2,
batch 100, 6000 steps; they report 94% test accuracy for this CNN.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.task = "supervised"  # a key of jaxnets.train.tasks.TASKS: what kind of training
  config.seed = 0  # root of every PRNG stream (init, data order, augmentation, dropout)

  config.dataset = ml_collections.ConfigDict()  # what to train on
  config.dataset.name = "mnist1d"  # a key of jaxnets.data.DATASETS
  # TFDS data directory (TFDS datasets only); a typed placeholder so --config.dataset.data_dir=...
  # can override it.
  config.dataset.data_dir = ml_collections.config_dict.placeholder(str)
  config.dataset.train_split = "train"  # the split trained on
  config.dataset.eval_split = "test"  # the split evaluated every eval_every steps and at the end
  config.dataset.augment = "none"  # a key of jaxnets.data.augment.AUGMENTATIONS
  config.dataset.options = ml_collections.ConfigDict()  # dataset-specific, e.g. shuffle_seq

  config.model = ml_collections.ConfigDict()  # what to train
  config.model.name = "cnn_mnist1d"  # a key of jaxnets.models.MODELS
  config.model.kwargs = ml_collections.ConfigDict()  # constructor arguments of the model

  config.loss = "cross_entropy"  # a key of jaxnets.train.losses.LOSSES
  config.optimizer = ml_collections.ConfigDict()  # how: optax, built by jaxnets.train.optim
  config.optimizer.name = "adam"  # sgd | momentum | adam | adamw
  config.optimizer.learning_rate = 1e-2  # peak learning rate of the schedule (paper: 1e-2)
  config.optimizer.schedule = "constant"  # constant | cosine | warmup_cosine | step
  config.optimizer.warmup_steps = 0  # linear warmup steps (warmup_cosine only)
  config.optimizer.weight_decay = 0.0  # decoupled for adamw, an L2 gradient term otherwise
  config.optimizer.momentum = 0.9  # sgd with momentum only

  config.batch_size = 100  # global: split over all devices of all processes
  config.eval_batch_size = 1000  # global; the last eval batch is padded and masked
  config.num_steps = 6000  # optimiser steps in total (a rerun resumes towards this)
  config.log_every = 500  # train metrics (incl. learning rate and norms) and the console line
  config.eval_every = 2000  # eval-split metrics; 0: only at the end
  config.checkpoint_every = 2000  # orbax checkpoint; 0: only at the end
  config.dtype = "float32"  # compute dtype: "bfloat16" on GPU/TPU; params stay float32
  return config
