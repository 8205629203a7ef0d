r"""Writes a trained model's predictions on a dataset split to CSV, and scores them.

    python -m experiments.predict --config=experiments/configs/default.py \
        --workdir=workdirs/default --output=workdirs/default/predictions.csv

Give the ``--config`` the model was trained with (and the same ``--config.*`` overrides). The
latest checkpoint of ``--workdir`` is loaded. One CSV row per example, in dataset order:
``index, label, prediction, p_0, ..., p_{K-1}`` (softmax probabilities). The mean risk
(1/n) sum_i r(y~_i, y_i) of each ``--risks`` is printed, as ``jaxnets.eval.scoring.score`` computes
it for a data-challenge submission.
"""

from __future__ import annotations

import pathlib

from absl import flags, logging
from ml_collections import config_flags

from jaxnets import cli

_CONFIG = config_flags.DEFINE_config_file("config", "experiments/configs/default.py",
                                          "The training config of the model.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", "workdirs/default", "Workdir with checkpoints/.")
_OUTPUT = flags.DEFINE_string("output", None, "CSV path (default: <workdir>/predictions.csv).")
_SPLIT = flags.DEFINE_string("split", None, "Split to predict (default: the config's "
                             "dataset.eval_split).")
_RISKS = flags.DEFINE_list("risks", ["zero_one", "cross_entropy", "squared"],
                           "Risks to score the predictions with (jaxnets.eval.scoring.RISKS).")


def main(argv: list[str]) -> None:
  from jaxnets.eval.predictions import predict, write_csv
  from jaxnets.eval.scoring import score

  logging.set_verbosity(logging.ERROR)  # orbax logs every restore step
  probs, labels = predict(cli.load_config(_CONFIG), _WORKDIR.value, _SPLIT.value)
  output = _OUTPUT.value or str(pathlib.Path(_WORKDIR.value) / "predictions.csv")
  write_csv(output, probs, labels)
  print(f"wrote {len(labels)} predictions to {output}")
  for risk in _RISKS.value:
    print(f"{risk}: {score(probs, labels, risk):.6f}")


if __name__ == "__main__":
  cli.run(main)
