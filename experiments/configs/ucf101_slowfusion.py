r"""Slow fusion (Karpathy et al. 2014) on UCF101 split 1 (TFDS ``ucf101/ucf101_1_256``).

    python -m experiments.video --config=experiments/configs/ucf101_slowfusion.py \
        --workdir=workdirs/ucf101_slowfusion --config.dataset.data_dir=/path/to/tensorflow_datasets

Clips of 10 frames (every 2nd frame) resized to 64x64. Reading TFDS video needs TensorFlow
installed (see jaxnets/data/ucf101.py). Not run here (no data offline);
``tests/experiments_dense_test.py`` runs it on a mock source.
"""

import ml_collections

from experiments.configs import moving_slowfusion


def get_config() -> ml_collections.ConfigDict:
  config = moving_slowfusion.get_config()
  config.dataset.name = "ucf101"
  config.dataset.data_dir = None  # where `tfds build ucf101` put the ArrayRecords
  config.dataset.train_split = "train"  # 9537 videos of split 1
  config.dataset.eval_split = "test"  # 3783 videos
  # clip_length T, frame side S, temporal subsampling (jaxnets.data.ucf101.load).
  config.dataset.options = ml_collections.ConfigDict(
      {"clip_length": 10, "image_size": 64, "frame_stride": 2})
  config.model.kwargs = ml_collections.ConfigDict(
      {"channels": (32, 64, 128), "temporal_kernels": (4, 2, 2), "temporal_strides": (2, 2, 2),
       "hidden": 256})
  config.optimizer.learning_rate = 1e-3
  config.batch_size = 32
  config.eval_batch_size = 64
  config.num_steps = 20_000
  config.log_every = 200
  config.eval_every = 5000
  config.checkpoint_every = 5000
  config.video_eval = None  # per-video: load with num_clips > 1, see jaxnets.eval.video
  return config
