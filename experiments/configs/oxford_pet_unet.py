r"""U-Net on Oxford-IIIT Pet trimaps (TFDS ``oxford_iiit_pet``, prepared in ``data_dir``).

    python -m experiments.segmentation --config=experiments/configs/oxford_pet_unet.py \
        --workdir=workdirs/oxford_pet_unet --config.dataset.data_dir=/path/to/tensorflow_datasets

3 classes (background, pet, border), images and masks resized to 128x128. Not run here (no
data offline); ``tests/experiments_dense_test.py`` runs it on TFDS mock data.
"""

import ml_collections

from experiments.configs import shapes_unet


def get_config() -> ml_collections.ConfigDict:
  config = shapes_unet.get_config()
  config.dataset.name = "oxford_iiit_pet"
  config.dataset.data_dir = None  # where `tfds build oxford_iiit_pet` put the ArrayRecords
  config.dataset.train_split = "train"  # 3680 images
  config.dataset.eval_split = "test"  # 3669 images
  # Pad-and-crop plus horizontal flip, applied identically to image and mask
  # (jaxnets.data.augment).
  config.dataset.augment = "flip_crop"
  config.dataset.options = ml_collections.ConfigDict({"image_size": 128})
  config.model.kwargs = ml_collections.ConfigDict({"width": 32, "depth": 4})
  config.optimizer.learning_rate = 1e-3
  config.batch_size = 32
  config.eval_batch_size = 64
  config.num_steps = 10_000
  config.log_every = 200
  config.eval_every = 2000
  config.checkpoint_every = 2000
  return config
