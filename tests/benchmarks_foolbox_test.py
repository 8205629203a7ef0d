"""The foolbox benchmark's own logic, without foolbox: the model file, the rebuilt model and
the like-with-like scoring (no timing is asserted)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import foolbox_attacks as fa
from benchmarks import foolbox_worker as fw
from jaxnets.models import get_model


def test_npz_round_trip_and_the_plain_jax_rebuild_match_the_flax_model(tmp_path):
  model = get_model("cnn2d", num_outputs=10, channels=(4, 8), hidden=16)
  x = np.random.default_rng(0).uniform(0, 1, size=(5, 8, 8, 1)).astype(np.float32)
  variables = model.init(jax.random.key(0), jnp.asarray(x))
  y = np.arange(5, dtype=np.int32)
  fa.save_npz(tmp_path / "m.npz", jax.device_get(variables), x, y, {"bounds": [0, 1]})
  back, x2, y2, meta = fa.load_variables(tmp_path / "m.npz")
  want = model.apply(variables, jnp.asarray(x))
  np.testing.assert_allclose(model.apply(back, jnp.asarray(x2)), want, rtol=1e-6)
  params, x3, _, _ = fw.load(tmp_path / "m.npz")
  np.testing.assert_allclose(fw.cnn2d_apply(params, jnp.asarray(x3)), want, rtol=1e-5,
                             atol=1e-6)
  assert meta == {"bounds": [0, 1]} and (y2 == y).all()


def test_compare_scores_both_frameworks_on_the_same_footing():
  y = np.array([0, 1, 1, 0])
  logits = np.eye(2)[[0, 1, 0, 0]].tolist()  # input 2 is misclassified already
  ours = {"fgsm": {"success": [[False, False, True, True]], "examples_per_s": 100.0,
                   "logits": logits},
          "deepfool": {"success": [True, True, True, False], "rho": [0.1, 0.3, 0.0, 0.05],
                       "examples_per_s": 10.0}}
  theirs = {"fgsm": {"success": [[False, True, True, True]], "examples_per_s": 50.0,
                     "logits": logits},
            "deepfool": {"success": [True, True, True, True], "rho": [0.2, 0.3, 0.0, 0.4],
                         "examples_per_s": 20.0}}
  rows, verdicts = fa.compare(ours, theirs, y, [0.1])
  assert verdicts["logit_gap"] == 0.0
  assert verdicts["FGSM eps=0.1"] is False  # 50% vs 25%
  fgsm_row = next(r for r in rows if r.startswith("| FGSM | eps"))
  assert "| 50.00 | 25.00 | +25.00 |" in fgsm_row
  # clean-correct inputs 0, 1, 3; our failure on 3 counts as inf: median(0.1, 0.3, inf) = 0.3,
  # foolbox's median(0.2, 0.3, 0.4) = 0.3 -> ours <= theirs
  assert verdicts["DeepFool-L2 median rho"] is True
  assert verdicts["FGSM examples/s"] is True and verdicts["DeepFool-L2 examples/s"] is False
  rows_only, verdicts_only = fa.compare(ours, {}, y, [0.1])
  assert verdicts_only["FGSM eps=0.1"] is None and len(rows_only) == len(rows)
