"""Segmentation and video configs end to end for a few steps, data-parallel on 8 devices.

Two subprocesses run at once (``XLA_FLAGS=--xla_force_host_platform_device_count=8`` must be
set before JAX starts; each experiment module defines its own absl flags), with tiny models
and data: the shapes U-Net and the moving-clip slow fusion through the experiment scripts
(table, JSON and picture written), and the ``oxford_iiit_pet`` and ``ucf101`` configs on TFDS
mock data (``tfds.testing.mock_data``; TFDS's Video feature needs TensorFlow, which the
``[test]`` extra installs). One model per family: the FCN and the other video nets share
every code path but the model, which ``tests/models_dense_test.py`` covers.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

PRELUDE = r"""
import json, pathlib, sys
import jax
import numpy as np
import ml_collections

out = pathlib.Path(sys.argv[1])
results = {"devices": jax.device_count()}


def tiny(config, **kwargs):
  config.batch_size = 16  # 2 examples on each of 8 devices
  config.eval_batch_size = 24
  config.num_steps = 2
  config.log_every = 1
  config.model.kwargs = ml_collections.ConfigDict(kwargs)
  return config
"""

SEGMENTATION = PRELUDE + r"""
import tensorflow_datasets as tfds

from experiments import segmentation
from experiments.configs import oxford_pet_unet, shapes_unet


c = tiny(shapes_unet.get_config(), width=4, depth=2)
c.dataset.options.num_examples = 40
s = segmentation.run(c, out / "unet", num_shown=3, command="unet")
results["unet"] = {"mean_iou": s["test"]["mean_iou"], "pixels": float(np.sum(s["confusion"])),
                   "steps": s["steps"]}

with tfds.testing.mock_data(num_examples=24):
  c = tiny(oxford_pet_unet.get_config(), width=4, depth=2)
  c.dataset.options.image_size = 32
  s = segmentation.run(c, out / "pet", num_shown=2, command="pet")
  results["pet"] = {"mean_iou": s["test"]["mean_iou"], "pixels": float(np.sum(s["confusion"])),
                    "steps": s["steps"]}
print("RESULTS " + json.dumps(results))
"""

VIDEO = PRELUDE + r"""
import tensorflow_datasets as tfds

from experiments import video
from experiments.configs import moving_slowfusion, ucf101_slowfusion
from jaxnets.train import train_and_evaluate

for name, module, kwargs in [
    ("slow_fusion", moving_slowfusion, dict(channels=(4, 4, 4), temporal_kernels=(4, 2, 2),
                                            temporal_strides=(2, 2, 2), hidden=8))]:
  c = tiny(module.get_config(), **kwargs)
  c.dataset.options.num_examples = 40
  c.video_eval.num_frames = 14
  c.video_eval.num_clips = 3
  s = video.run(c, out / name, num_shown=2, command=name)
  results[name] = {k: s[k] for k in ("clip_accuracy", "video_accuracy", "steps", "chance")}


c = tiny(ucf101_slowfusion.get_config(), channels=(4, 4, 4), temporal_kernels=(4, 2, 2),
         temporal_strides=(2, 2, 2), hidden=8)
c.dataset.options.image_size = 16
# The real opening path (TFDS builder with its Video feature, which imports TensorFlow) on
# random examples that TFDS generates from the dataset's feature spec.
with tfds.testing.mock_data(num_examples=24):
  train_and_evaluate(c, out / "ucf101")
results["ucf101"] = json.loads((out / "ucf101" / "results.json").read_text())
print("RESULTS " + json.dumps(results))
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
  out = tmp_path_factory.mktemp("dense")
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
             JAX_PLATFORMS="cpu", PYTHONPATH=str(REPO))
  procs = [subprocess.Popen([sys.executable, "-c", script, str(out)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for script in (SEGMENTATION, VIDEO)]
  merged = {}
  for proc in procs:
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    line = [l for l in stdout.splitlines() if l.startswith("RESULTS ")][-1]
    merged.update(json.loads(line[len("RESULTS "):]))
    assert merged["devices"] == 8
  return out, merged


def test_runs_on_eight_devices(results):
  assert results[1]["devices"] == 8


@pytest.mark.parametrize("name,pixels", [("unet", 40 * 32 * 32), ("pet", 24 * 32 * 32)])
def test_segmentation_configs_train_and_count_every_pixel(results, name, pixels):
  out, r = results
  # Eval batches are padded to 24 with masked repeats: each test pixel counts exactly once.
  assert r[name]["pixels"] == pixels
  assert 0.0 <= r[name]["mean_iou"] <= 1.0
  for f in ("segmentation.md", "segmentation.json", "predictions.png"):
    assert (out / name / f).stat().st_size > 0
  assert "mean IoU" in (out / name / "segmentation.md").read_text()


@pytest.mark.parametrize("name", ["slow_fusion"])
def test_video_configs_train_and_evaluate_videos(results, name):
  out, r = results
  assert r[name]["steps"] == 2 and r[name]["chance"] == pytest.approx(1 / 8)
  assert 0.0 <= r[name]["clip_accuracy"] <= 1.0 and 0.0 <= r[name]["video_accuracy"] <= 1.0
  for f in ("video.md", "video.json", "predictions.png"):
    assert (out / name / f).stat().st_size > 0


def test_ucf101_config_on_tfds_mock_data(results):
  r = results[1]["ucf101"]
  assert r["step"] == 2 and r["devices"] == 8
  assert np.isfinite(r["eval_loss"]) and 0.0 <= r["eval_accuracy"] <= 1.0
