r"""Trains a video classifier by config, then writes its metrics table and a picture.

    python -m experiments.video --config=experiments/configs/moving_slowfusion.py \
        --workdir=workdirs/moving_slowfusion
    python -m experiments.video --config=experiments/configs/moving_singleframe.py \
        --workdir=workdirs/moving_singleframe

Training is ``jaxnets.train.train_and_evaluate`` (rerunning resumes); its final evaluation is
the clip accuracy on the test split. Then, for the embedded ``moving`` data, longer test videos
(``config.video_eval.num_frames``) are classified by averaging the predictions of
``config.video_eval.num_clips`` evenly spaced clips (:mod:`jaxnets.eval.video`). Writes to
``--workdir``: ``video.md`` (table with the command and wall-clock time), ``video.json`` and
``predictions.png`` (frames of test clips with true and predicted class).

``--table=workdirs/moving_*`` instead merges the ``video.json`` of finished runs into one
markdown table (printed, and written to ``--workdir``/``video_table.md``).
"""

from __future__ import annotations

import glob
import json
import pathlib
import time

from absl import flags, logging
import jax
import numpy as np
from ml_collections import config_flags

from jaxnets import cli

_CONFIG = config_flags.DEFINE_config_file("config", "experiments/configs/moving_slowfusion.py",
                                          "Training config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdirs/moving_slowfusion",
                               "Checkpoints, metrics, the table and the picture go here.")
_NUM_SHOWN = flags.DEFINE_integer("num_shown", 6, "Test clips in predictions.png.")
_TABLE = flags.DEFINE_list("table", None, "Workdirs (globs) of finished runs to tabulate "
                           "instead of training.")


def class_names(config, num_classes: int) -> list[str]:
  """Legend names of the classes of ``config``'s dataset."""
  if config.dataset.name == "moving":
    from jaxnets.data import moving

    return moving.class_names(tuple(config.dataset.options.get("speeds", (1, 2))))
  return [str(k) for k in range(num_classes)]


def save_picture(path: pathlib.Path, clips: np.ndarray, labels: np.ndarray,
                 predictions: np.ndarray, names: list[str], num_frames_shown: int = 5) -> None:
  """One row per clip: ``num_frames_shown`` evenly spaced frames, titled truth / prediction."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  n, t = clips.shape[:2]
  frames = np.round(np.linspace(0, t - 1, num_frames_shown)).astype(int)
  fig, axes = plt.subplots(n, len(frames), figsize=(1.5 * len(frames), 1.7 * n),
                           squeeze=False)
  for i in range(n):
    for j, f in enumerate(frames):
      frame = clips[i, f]
      ax = axes[i, j]
      ax.imshow(frame[..., 0] if frame.shape[-1] == 1 else frame, cmap="gray", vmin=0, vmax=1,
                interpolation="nearest")
      ax.set_xticks([])
      ax.set_yticks([])
      ax.set_xlabel(f"t={f}", fontsize=7)
    ok = "ok" if labels[i] == predictions[i] else "WRONG"
    axes[i, 0].set_title(f"true {names[labels[i]]} | predicted {names[predictions[i]]} ({ok})",
                         fontsize=8, loc="left")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def metrics_table(summaries: list[dict]) -> str:
  """A markdown table with one row per run."""
  lines = ["| model | test clip accuracy | video accuracy (clips averaged) | chance | steps | "
           "train s | wall s | command |", "|---|---|---|---|---|---|---|---|"]
  for s in summaries:
    video = s.get("video_accuracy")
    lines.append(f"| `{s['model']}` | {s['clip_accuracy']:.4f} | "
                 f"{'-' if video is None else f'{video:.4f}'} | {s['chance']:.4f} | "
                 f"{s['steps']} | {s['train_seconds']:.0f} | {s['wall_seconds']:.0f} | "
                 f"`{s['command']}` |")
  return "\n".join(lines) + "\n"


def run(config, workdir: str | pathlib.Path, *, num_shown: int = 6, command: str = "") -> dict:
  """Trains ``config``, evaluates clips and videos, writes table, JSON and picture."""
  from jaxnets.data import get_dataset
  from jaxnets.eval import video as video_eval
  from jaxnets.train import parallel, train_and_evaluate
  from jaxnets.train.supervised import load_datasets

  t0 = time.perf_counter()
  state = train_and_evaluate(config, workdir)
  results = json.loads((pathlib.Path(workdir) / "results.json").read_text())
  options = dict(config.dataset.get("options", {}) or {})
  eval_split, data_dir = config.dataset.get("eval_split", "test"), config.dataset.get("data_dir")
  _, clips = load_datasets(config)
  workdir = pathlib.Path(workdir)
  variables = parallel.host_copy(state.variables())
  shown = clips.get_batch(np.arange(min(num_shown, len(clips))))
  shown_logits = jax.jit(state.apply_fn, static_argnames="train")(variables, shown["image"],
                                                                  train=False)
  summary = {"command": command, "model": config.model.name, "dataset": config.dataset.name,
             "eval_split": eval_split, "eval_examples": len(clips),
             "clip_accuracy": results["eval_accuracy"], "chance": 1.0 / clips.num_classes,
             "steps": results["step"], "train_seconds": results["seconds"],
             "devices": jax.device_count()}
  video_config = config.get("video_eval")
  if video_config is not None and "num_frames" in options:
    # Longer videos of the same kind; each classified from several clips.
    long_options = {**options, "num_frames": video_config.num_frames}
    videos = get_dataset(config.dataset.name, eval_split, data_dir=data_dir, **long_options)
    batch = videos.get_batch(np.arange(len(videos)))
    per_video = video_eval.evaluate_videos(
        state.apply_fn, variables, batch["image"], batch["label"],
        clip_length=options["num_frames"], num_clips=video_config.num_clips,
        batch_size=config.get("eval_batch_size", config.batch_size) // video_config.num_clips)
    summary.update(video_frames=video_config.num_frames, num_clips=video_config.num_clips,
                   video_clip_accuracy=per_video["clip_accuracy"],
                   video_accuracy=per_video["video_accuracy"])
  summary["wall_seconds"] = time.perf_counter() - t0
  if jax.process_index() == 0:
    (workdir / "video.json").write_text(json.dumps(summary, indent=2) + "\n")
    (workdir / "video.md").write_text(metrics_table([summary]))
    save_picture(workdir / "predictions.png", shown["image"], shown["label"],
                 np.asarray(shown_logits).argmax(-1), class_names(config, clips.num_classes))
  return summary


def main(argv: list[str]) -> None:
  from jaxnets.errors import JaxnetsError

  logging.set_verbosity(logging.ERROR)  # orbax's notes on every save/restore are noise here
  workdir = pathlib.Path(_WORKDIR.value)
  if _TABLE.value:
    paths = sorted({p for pattern in _TABLE.value for p in glob.glob(pattern)})
    summaries = [json.loads((pathlib.Path(p) / "video.json").read_text()) for p in paths
                 if (pathlib.Path(p) / "video.json").exists()]
    if not summaries:
      raise JaxnetsError(f"no video.json in {', '.join(_TABLE.value)}; run the configs first")
    table = metrics_table(summaries)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "video_table.md").write_text(table)
    print(table)
    return
  summary = run(cli.load_config(_CONFIG), workdir, num_shown=_NUM_SHOWN.value,
                command=cli.command_line("experiments.video"))
  if jax.process_index() == 0:
    print((workdir / "video.md").read_text())
    print(f"picture: {workdir / 'predictions.png'}  (train {summary['train_seconds']:.0f} s, "
          f"total {summary['wall_seconds']:.0f} s)")


if __name__ == "__main__":
  cli.run(main)
