"""A trained model's predictions on a dataset split: class probabilities and a CSV of them.

``predict(config, workdir)`` loads the latest checkpoint of ``workdir`` for the model of
``config`` and returns its softmax probabilities on the config's eval split (or any split);
``write_csv`` writes one row per example. Score the probabilities with
``jaxnets.eval.scoring.score``.
"""

from __future__ import annotations

import csv
import pathlib

import numpy as np


def predict(config, workdir: str, split: str | None = None, step: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
  """Class probabilities ``(n, K)`` of the checkpointed model on ``split``, and labels ``(n,)``.

  Raises:
    JaxnetsError: no checkpoint in ``workdir``, or a checkpoint of a different model.
  """
  import flax.errors
  import jax
  import jax.numpy as jnp

  from jaxnets.data import get_dataset
  from jaxnets.errors import JaxnetsError
  from jaxnets.models import get_model
  from jaxnets.train.checkpoint import load_arrays

  options = dict(config.dataset.get("options", {}) or {})
  dataset = get_dataset(config.dataset.name, split or config.dataset.get("eval_split", "test"),
                        data_dir=config.dataset.get("data_dir"), **options)
  kwargs = dict(config.model.get("kwargs", {}) or {})
  if config.get("dtype", "float32") != "float32":
    kwargs["dtype"] = config.dtype
  model = get_model(config.model.name, num_outputs=dataset.num_classes, **kwargs)
  saved = load_arrays(workdir, step)
  variables = {"params": saved["params"]}
  if saved.get("batch_stats"):
    variables["batch_stats"] = saved["batch_stats"]

  @jax.jit
  def probabilities(variables, x):
    return jax.nn.softmax(model.apply(variables, x).astype(jnp.float32), axis=-1)

  batch_size = config.get("eval_batch_size", config.batch_size)
  probs, labels = [], []
  for start in range(0, len(dataset), batch_size):
    batch = dataset.get_batch(np.arange(start, min(start + batch_size, len(dataset))))
    try:
      probs.append(np.asarray(probabilities(variables, jnp.asarray(batch["image"]))))
    except (flax.errors.FlaxError, ValueError, TypeError, KeyError) as e:
      raise JaxnetsError(f"the checkpoint in {workdir} does not fit model "
                         f"{config.model.name!r} of this config ({type(e).__name__}); "
                         f"give the --config it was trained with") from None
    labels.append(batch["label"])
  return np.concatenate(probs), np.concatenate(labels)


def write_csv(path: str | pathlib.Path, probs: np.ndarray, labels: np.ndarray) -> None:
  """``index, label, prediction, p_0..p_{K-1}``, one row per example."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with path.open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["index", "label", "prediction"] + [f"p_{k}" for k in range(probs.shape[1])])
    for i, (p, y) in enumerate(zip(probs, labels)):
      writer.writerow([i, int(y), int(p.argmax())] + [f"{v:.7g}" for v in p])
