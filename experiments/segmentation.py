r"""Trains a segmentation net by config, then writes its test metrics table and a picture.

    python -m experiments.segmentation --config=experiments/configs/shapes_unet.py \
        --workdir=workdirs/shapes_unet
    python -m experiments.segmentation --config=experiments/configs/shapes_fcn.py \
        --workdir=workdirs/shapes_fcn

Training is ``jaxnets.train.train_and_evaluate`` (rerunning resumes from the workdir). Then
the evaluation split is predicted once more to sum a confusion matrix over all its pixels, from
which come pixel accuracy, per-class IoU, mean IoU and mean Dice
(:mod:`jaxnets.eval.segmentation`). Writes to ``--workdir``: ``segmentation.md`` (the
table with the command and wall-clock time), ``segmentation.json`` and ``predictions.png``
(test images, the true mask overlaid, the predicted mask overlaid).
"""

from __future__ import annotations

import json
import pathlib
import time

from absl import flags, logging
import jax
import numpy as np
from ml_collections import config_flags

from jaxnets import cli
from jaxnets.data import oxford_pet, shapes

_CONFIG = config_flags.DEFINE_config_file("config", "experiments/configs/shapes_unet.py",
                                          "Training config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdirs/shapes_unet",
                               "Checkpoints, metrics, the table and the picture go here.")
_NUM_SHOWN = flags.DEFINE_integer("num_shown", 8, "Test images in predictions.png.")

# Legend names of the datasets' classes (others are numbered).
CLASS_NAMES = {"shapes": shapes.CLASS_NAMES, "oxford_iiit_pet": oxford_pet.CLASS_NAMES}

# Class colours of the overlays (background stays transparent).
_PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48],
                     [145, 30, 180], [70, 240, 240], [240, 50, 230]], np.float32) / 255.0


def predict_confusion(apply_fn, variables, dataset, num_classes: int, batch_size: int
                      ) -> tuple[np.ndarray, np.ndarray]:
  """Sums the ``(K, K)`` confusion matrix over ``dataset``; also returns the first predictions.

  Returns ``(confusion, predictions of the first batch (B, H, W))``.
  """
  from jaxnets.data.sampling import eval_batches
  from jaxnets.train.metrics import confusion_matrix

  @jax.jit
  def step(variables, image, label, mask):
    logits = apply_fn(variables, image, train=False)
    return confusion_matrix(logits, label, num_classes, mask), logits.argmax(-1)

  confusion, first = 0.0, None
  for batch in eval_batches(dataset, batch_size):
    c, predictions = step(variables, batch["image"], batch["label"], batch["mask"])
    confusion = confusion + np.asarray(c, np.float64)
    if first is None:
      first = np.asarray(predictions)
  return confusion, first


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.6) -> np.ndarray:
  """Blends the class colours of ``mask (H, W)`` over a grey copy of ``image (H, W, 3)``.

  Grey, so that the class colours are not confused with the image's own; class 0 unblended.
  """
  grey = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)
  weight = alpha * (mask > 0)[..., None]
  return np.clip((1 - weight) * grey + weight * _PALETTE[mask % len(_PALETTE)], 0.0, 1.0)


def save_picture(path: pathlib.Path, images: np.ndarray, truth: np.ndarray,
                 predictions: np.ndarray, class_names: list[str]) -> None:
  """Rows: image, true mask overlaid, predicted mask overlaid; one column per example."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  from matplotlib.patches import Patch

  n = len(images)
  fig, axes = plt.subplots(3, n, figsize=(1.6 * n, 5.2), squeeze=False)
  rows = [("image", lambda i: images[i]), ("truth", lambda i: overlay(images[i], truth[i])),
          ("prediction", lambda i: overlay(images[i], predictions[i]))]
  for r, (title, picture) in enumerate(rows):
    for i in range(n):
      ax = axes[r, i]
      ax.imshow(picture(i), interpolation="nearest")
      ax.set_xticks([])
      ax.set_yticks([])
      if i == 0:
        ax.set_ylabel(title)
  handles = [Patch(color=_PALETTE[k % len(_PALETTE)], label=name)
             for k, name in enumerate(class_names) if k > 0]
  fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
  fig.tight_layout(rect=(0, 0.05, 1, 1))
  fig.savefig(path, dpi=100)
  plt.close(fig)


def metrics_table(summary: dict, class_names: list[str]) -> str:
  """A markdown table of the summary written by :func:`main`."""
  m = summary["test"]
  rows = [("mean IoU", f"{m['mean_iou']:.4f}"), ("mean Dice", f"{m['mean_dice']:.4f}"),
          ("pixel accuracy", f"{m['pixel_accuracy']:.4f}")]
  rows += [(f"IoU {name}", f"{m[f'iou_{k}']:.4f}") for k, name in enumerate(class_names)]
  rows += [("training steps", str(summary["steps"])),
           ("train seconds (this run)", f"{summary['train_seconds']:.1f}"),
           ("wall-clock seconds (data + train + eval)", f"{summary['wall_seconds']:.1f}"),
           ("devices", str(summary["devices"]))]
  lines = [f"`{summary['command']}`", "",
           f"model `{summary['model']}` on `{summary['dataset']}` ({summary['eval_split']} split, "
           f"{summary['eval_examples']} images)", "", "| metric | value |", "|---|---|"]
  return "\n".join(lines + [f"| {k} | {v} |" for k, v in rows]) + "\n"


def run(config, workdir: str | pathlib.Path, *, num_shown: int = 8,
        command: str = "") -> dict:
  """Trains ``config``, evaluates, and writes the table, JSON and picture to ``workdir``."""
  from jaxnets.eval import segmentation as segmentation_metrics
  from jaxnets.train import parallel, train_and_evaluate
  from jaxnets.train.supervised import load_datasets

  t0 = time.perf_counter()
  workdir = pathlib.Path(workdir)
  state = train_and_evaluate(config, workdir)
  results = json.loads((workdir / "results.json").read_text())
  eval_split = config.dataset.get("eval_split", "test")
  _, dataset = load_datasets(config)
  variables = parallel.host_copy(state.variables())
  batch_size = config.get("eval_batch_size", config.batch_size)
  confusion, predictions = predict_confusion(state.apply_fn, variables, dataset,
                                             dataset.num_classes, batch_size)
  class_names = list(CLASS_NAMES.get(config.dataset.name,
                                     [f"class {k}" for k in range(dataset.num_classes)]))
  summary = {
      "command": command, "model": config.model.name, "dataset": config.dataset.name,
      "eval_split": eval_split, "eval_examples": len(dataset),
      "test": segmentation_metrics.summarize_segmentation(confusion),
      "confusion": confusion.tolist(), "steps": results["step"],
      "train_seconds": results["seconds"], "wall_seconds": time.perf_counter() - t0,
      "devices": jax.device_count(),
  }
  if jax.process_index() == 0:
    (workdir / "segmentation.json").write_text(json.dumps(summary, indent=2) + "\n")
    (workdir / "segmentation.md").write_text(metrics_table(summary, class_names))
    shown = dataset.get_batch(np.arange(min(num_shown, len(dataset), len(predictions))))
    save_picture(workdir / "predictions.png", shown["image"], shown["label"],
                 predictions[:len(shown["image"])], class_names)
  return summary


def main(argv: list[str]) -> None:
  logging.set_verbosity(logging.ERROR)  # orbax's notes on every save/restore are noise here
  command = cli.command_line("experiments.segmentation")
  summary = run(cli.load_config(_CONFIG), _WORKDIR.value, num_shown=_NUM_SHOWN.value,
                command=command)
  if jax.process_index() == 0:
    print((pathlib.Path(_WORKDIR.value) / "segmentation.md").read_text())
    print(f"picture: {pathlib.Path(_WORKDIR.value) / 'predictions.png'}  "
          f"(train {summary['train_seconds']:.0f} s, total {summary['wall_seconds']:.0f} s)")


if __name__ == "__main__":
  cli.run(main)
