r"""ResNet-50 on ImageNet (ILSVRC 2012); Flax's ``examples/imagenet`` reports 76.5% top-1.

    tfds build imagenet2012 --data_dir=$DATA --file_format=array_record  # needs the manual download
    python -m experiments.train --config=experiments/configs/imagenet_resnet50.py --workdir=workdirs/imagenet_resnet50 \
        --config.dataset.data_dir=$DATA

That recipe: SGD with Nesterov momentum 0.9, learning rate 0.1 x batch / 256 with 5 warm-up
epochs and cosine decay, weight decay 1e-4, 100 epochs, random-resized crops and flips, bfloat16
compute on accelerators. Difference: our pipeline centre-crops and resizes every image to 224
on the host, so the random-resized crop is taken from that 224x224 image.
"""

from experiments.configs import default

TRAIN_EXAMPLES = 1_281_167
EPOCHS = 100


def get_config():
  config = default.get_config()
  config.dataset.name = "imagenet2012"
  config.dataset.eval_split = "validation"
  config.dataset.augment = "imagenet"  # random-resized crop (8%-100% of the area) + flip
  config.model.name = "resnet50"
  config.optimizer.name = "momentum"
  config.optimizer.momentum = 0.9
  config.optimizer.nesterov = True
  config.batch_size = 1024
  config.optimizer.learning_rate = 0.1 * config.batch_size / 256  # linear scaling rule
  config.optimizer.schedule = "warmup_cosine"
  steps_per_epoch = TRAIN_EXAMPLES // config.batch_size
  config.optimizer.warmup_steps = 5 * steps_per_epoch
  config.optimizer.weight_decay = 1e-4
  config.eval_batch_size = 1000  # divides the 50,000 validation images
  config.num_steps = EPOCHS * steps_per_epoch
  config.log_every = 100
  config.eval_every = 5 * steps_per_epoch
  config.checkpoint_every = steps_per_epoch
  config.dtype = "bfloat16"  # on GPU/TPU; use --config.dtype=float32 on CPU
  return config
