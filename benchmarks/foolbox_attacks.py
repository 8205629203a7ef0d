r"""jaxnets' attacks beside foolbox 3.3.4's on the same trained model and the same inputs.

    python -m benchmarks.foolbox_attacks --outdir=reports/foolbox_attacks

The driver trains the standard digits CNN (``experiments/configs/digits_cnn.py`` through
``jaxnets.train.fit``), writes its parameters and the inputs (``--split`` of digits, pixels in
[0, 1]) to ``model.npz``, then runs every (framework, attack) in a **fresh subprocess**:
jaxnets in this interpreter (``--worker``), foolbox in its own virtualenv
(``benchmarks/foolbox_worker.py``, ``--foolbox_python``), where the model is rebuilt from the
``.npz`` in plain ``jax.lax`` and wrapped in ``foolbox.JAXModel``. Both run the same settings:
FGSM and L-inf PGD-40 (step 0.01/0.3 eps, foolbox's default, one random start) at each eps,
DeepFool-L2 (50 steps, overshoot 0.02) and CW-L2 (5 x 100 Adam steps, lr 0.01, c0 = 1).

Like with like: foolbox counts an input the model already misclassifies as a success; the
driver scores both frameworks' per-example results with the same functions
(``jaxnets.eval.robustness``): robust accuracy ``1 - mean(success)`` over all inputs, and the
median rho over the clean-correct inputs with failures as inf. Throughput: examples/s of one
attack call (all eps for FGSM/PGD) after a warm-up call (compilation), median of ``--repeats``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from absl import flags
import numpy as np

from jaxnets import cli

REPO = pathlib.Path(__file__).resolve().parents[1]
ATTACKS = ("fgsm", "pgd", "deepfool", "cw")
SETTINGS = {"eps": [0.05, 0.1, 0.2, 0.3], "pgd_steps": 40, "pgd_rel_step": 0.01 / 0.3,
            "deepfool_steps": 50, "overshoot": 0.02, "cw_search": 5, "cw_steps": 100,
            "cw_lr": 0.01, "cw_const": 1.0}

_FOOLBOX_PYTHON = flags.DEFINE_string("foolbox_python", "/work/venvs/foolbox/bin/python",
                                      "Interpreter of a virtualenv with foolbox 3.3.4 and jax.")
_SPLIT = flags.DEFINE_enum("split", "test", ["test", "train", "all"], "Digits inputs attacked.")
_REPEATS = flags.DEFINE_integer("repeats", 1, "Timed calls per attack after warm-up (median).")
_STEPS = flags.DEFINE_integer("train_steps", 0, "Training steps (0: the config's).")
_WORKER = flags.DEFINE_string("worker", "", "Internal: run one jaxnets attack, print JSON.")
_DATA = flags.DEFINE_string("data", "", "Internal: the worker's .npz.")


def save_npz(path, variables: dict, x: np.ndarray, y: np.ndarray, meta: dict) -> None:
  """Parameters under ``params/<Module>/<name>``, the inputs and the settings, in one file."""
  import jax

  flat = {}
  for keys, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]:
    flat["params/" + "/".join(k.key for k in keys)] = np.asarray(leaf)
  np.savez(path, x=x, y=y, meta=json.dumps(meta), **flat)


def load_variables(path) -> tuple[dict, np.ndarray, np.ndarray, dict]:
  """The inverse of :func:`save_npz`: Flax ``{"params": ...}``, x, y, meta."""
  data = np.load(path)
  params: dict = {}
  for k in data.files:
    if k.startswith("params/"):
      node = params
      *parents, leaf = k[len("params/"):].split("/")
      for p in parents:
        node = node.setdefault(p, {})
      node[leaf] = data[k]
  return {"params": params}, data["x"], data["y"], json.loads(str(data["meta"]))


def jaxnets_worker(attack: str, path: str, repeats: int) -> dict:
  """One jaxnets attack on the ``.npz`` model and inputs (in its own process)."""
  import jax
  import jax.numpy as jnp

  from benchmarks.timing import median_seconds
  from jaxnets import adversarial as adv
  from jaxnets.models import get_model

  variables, x_np, y_np, meta = load_variables(path)
  kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["model_kwargs"].items()}
  model = get_model("cnn2d", num_outputs=10, **kwargs)  # tuples: a Flax module must hash
  apply = adv.flax_apply(model)
  variables = jax.tree.map(jnp.asarray, variables)
  x, y = jnp.asarray(x_np), jnp.asarray(y_np)
  s, bounds, holder = meta["settings"], tuple(meta["bounds"]), {}
  if attack in ("fgsm", "pgd"):
    def call():
      results = [adv.fgsm(apply, variables, x, y, eps=e, bounds=bounds) if attack == "fgsm"
                 else adv.pgd(apply, variables, x, y, eps=e, steps=s["pgd_steps"],
                              rel_step=s["pgd_rel_step"], bounds=bounds) for e in s["eps"]]
      holder["results"] = jax.device_get(results)
    calls = len(s["eps"])
  else:
    def call():
      res = adv.deepfool(apply, variables, x, y, steps=s["deepfool_steps"],
                         overshoot=s["overshoot"], bounds=bounds) if attack == "deepfool" \
          else adv.carlini_wagner(apply, variables, x, y, steps=s["cw_steps"],
                                  binary_search_steps=s["cw_search"], learning_rate=s["cw_lr"],
                                  initial_const=s["cw_const"], bounds=bounds)
      holder["results"] = [jax.device_get(res)]
    calls = 1
  seconds = median_seconds(call, repeats, warmup=call)
  res = holder["results"]
  out = {"examples_per_s": calls * len(x_np) / seconds, "jax": jax.__version__,
         "logits": np.asarray(apply(variables, x)).tolist()}
  if attack in ("fgsm", "pgd"):
    out["success"] = [np.asarray(r.success).tolist() for r in res]
    out["linf"] = [float(np.max(r.linf)) for r in res]
  else:
    out["success"], out["rho"] = np.asarray(res[0].success).tolist(), np.asarray(
        res[0].rho).tolist()
  return out


def _run_json(cmd: list[str]) -> dict:
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600, env=env)
  if proc.returncode != 0:
    lines = proc.stderr.strip().splitlines() or ["no output"]
    errors = [l for l in lines if "Error" in l or l.startswith("error:")]
    return {"error": (errors or lines)[-1]}
  return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours: dict, theirs: dict, y: np.ndarray, eps: list[float]) -> tuple[list[str], dict]:
  """Markdown rows and the acceptance verdicts from both frameworks' per-example results.

  ``ours``/``theirs`` map attack -> worker JSON (``theirs`` may be ``{}``: jaxnets only). Both
  are scored by ``jaxnets.eval.robustness`` on the same clean-correct set (each framework's own
  logits of the same model; they agree, see ``logit_gap``).
  """
  from jaxnets.eval import robustness as rb

  rows, verdicts = [], {}
  clean = {}
  for name, side in (("jaxnets", ours), ("foolbox", theirs)):
    any_result = next((v for v in side.values() if "logits" in v), None)
    if any_result is not None:
      clean[name] = np.argmax(np.asarray(any_result["logits"]), 1) == y
  if len(clean) == 2:
    a = np.asarray(next(v for v in ours.values() if "logits" in v)["logits"])
    b = np.asarray(next(v for v in theirs.values() if "logits" in v)["logits"])
    verdicts["logit_gap"] = float(np.max(np.abs(a - b)))
  for attack in ("fgsm", "pgd"):
    label = "FGSM" if attack == "fgsm" else "PGD-40"
    for i, e in enumerate(eps):
      cells = []
      accs = {}
      for name, side in (("jaxnets", ours), ("foolbox", theirs)):
        r = side.get(attack, {})
        if "success" in r:
          accs[name] = 100 * rb.robust_accuracy(r["success"][i])
          cells.append(f"{accs[name]:.2f}")
        else:
          cells.append(r.get("error", "—") if r else "—")
      diff = accs["jaxnets"] - accs["foolbox"] if len(accs) == 2 else float("nan")
      ok = abs(diff) <= 0.5 if np.isfinite(diff) else None
      verdicts[f"{label} eps={e}"] = ok
      rows.append(f"| {label} | eps = {e} | robust accuracy (%) | {cells[0]} | {cells[1]} | "
                  f"{diff:+.2f} | {'yes' if ok else ('no' if ok is False else '—')} (within 0.5) |")
  for attack, label in (("deepfool", "DeepFool-L2"), ("cw", "CW-L2")):
    meds = {}
    for name, side in (("jaxnets", ours), ("foolbox", theirs)):
      r = side.get(attack, {})
      if "rho" in r and name in clean:
        meds[name] = rb.median_rho(r["success"], r["rho"], clean[name])
    ok = meds["jaxnets"] <= meds["foolbox"] if len(meds) == 2 else None
    verdicts[f"{label} median rho"] = ok
    cell = lambda n: f"{meds[n]:.4f}" if n in meds else "—"
    rows.append(f"| {label} | minimal | median rho | {cell('jaxnets')} | {cell('foolbox')} | "
                + (f"{meds['jaxnets'] / meds['foolbox']:.3f}x" if len(meds) == 2 else "—")
                + f" | {'yes' if ok else ('no' if ok is False else '—')} (ours <=) |")
  for attack, label in (("fgsm", "FGSM"), ("pgd", "PGD-40"), ("deepfool", "DeepFool-L2"),
                        ("cw", "CW-L2")):
    rates = {n: side[attack]["examples_per_s"] for n, side in (("jaxnets", ours),
                                                              ("foolbox", theirs))
             if "examples_per_s" in side.get(attack, {})}
    ok = rates["jaxnets"] >= rates["foolbox"] if len(rates) == 2 else None
    verdicts[f"{label} examples/s"] = ok
    cell = lambda n: f"{rates[n]:,.0f}" if n in rates else "—"
    rows.append(f"| {label} | throughput | examples/s | {cell('jaxnets')} | {cell('foolbox')} | "
                + (f"{rates['jaxnets'] / rates['foolbox']:.1f}x" if len(rates) == 2 else "—")
                + f" | {'yes' if ok else ('no' if ok is False else '—')} (ours >=) |")
  return rows, verdicts


def main(argv: list[str]) -> None:
  del argv
  if _WORKER.value:
    if _WORKER.value not in ATTACKS:
      cli.fail(f"unknown attack {_WORKER.value!r}; known: {', '.join(ATTACKS)}")
    print(json.dumps(jaxnets_worker(_WORKER.value, _DATA.value, _REPEATS.value)))
    return
  if _REPEATS.value < 1:
    cli.fail(f"--repeats must be >= 1, got {_REPEATS.value}")
  import importlib

  import jax

  from jaxnets.data import get_dataset
  from jaxnets.train import fit

  outdir = cli.outdir("reports/foolbox_attacks")
  if outdir.exists() and not outdir.is_dir():
    cli.fail(f"--outdir {outdir} is a file; name a directory")
  outdir.mkdir(parents=True, exist_ok=True)
  config = importlib.import_module("experiments.configs.digits_cnn").get_config()
  if _STEPS.value:
    config.num_steps = _STEPS.value
  variables = fit(config).state.variables()
  splits = ["train", "test"] if _SPLIT.value == "all" else [_SPLIT.value]
  data = [get_dataset("digits", s) for s in splits]
  x = np.concatenate([d.image for d in data])
  y = np.concatenate([d.label for d in data])
  meta = {"bounds": [0.0, 1.0], "settings": SETTINGS,
          "model_kwargs": {"channels": list(config.model.kwargs.channels)}}
  path = outdir / "model.npz"
  save_npz(path, jax.device_get(variables), x, y, meta)
  ours, theirs = {}, {}
  have_foolbox = pathlib.Path(_FOOLBOX_PYTHON.value).exists()
  for attack in ATTACKS:  # alternate frameworks attack by attack
    ours[attack] = _run_json([sys.executable, "-m", "benchmarks.foolbox_attacks",
                              f"--worker={attack}", f"--data={path}",
                              f"--repeats={_REPEATS.value}"])
    print(f"jaxnets {attack}: {ours[attack].get('examples_per_s', ours[attack])}", flush=True)
    if have_foolbox:
      theirs[attack] = _run_json([_FOOLBOX_PYTHON.value, "benchmarks/foolbox_worker.py",
                                  f"--data={path}", f"--attack={attack}",
                                  f"--repeats={_REPEATS.value}"])
      print(f"foolbox {attack}: {theirs[attack].get('examples_per_s', theirs[attack])}",
            flush=True)
  rows, verdicts = compare(ours, theirs, y, SETTINGS["eps"])
  header = ["| attack | budget | measure | jaxnets | foolbox 3.3.4 | difference | acceptance |",
            "|---|---|---|---|---|---|---|"]
  fb_version = next((v.get("foolbox") for v in theirs.values() if "foolbox" in v), None)
  notes = [f"\n{len(y)} digits inputs ({_SPLIT.value} split), standard digits CNN; "
           f"jax {jax.__version__}" + (f", foolbox {fb_version}" if fb_version else "")
           + (f"; max |logit difference| between the two rebuilt models "
              f"{verdicts['logit_gap']:.2e}" if "logit_gap" in verdicts else "")]
  if not have_foolbox:
    notes.append(f"\n(no interpreter at --foolbox_python={_FOOLBOX_PYTHON.value}: jaxnets "
                 "column only)")
  command = cli.command_line("benchmarks.foolbox_attacks")
  text = "\n".join(header + rows + notes) + f"\n\n`{command}`\n"
  (outdir / "table.md").write_text(text)
  (outdir / "results.json").write_text(json.dumps(
      {"verdicts": verdicts, "settings": SETTINGS, "split": _SPLIT.value,
       "jaxnets": {k: {kk: vv for kk, vv in v.items() if kk != "logits"}
                   for k, v in ours.items()},
       "foolbox": {k: {kk: vv for kk, vv in v.items() if kk != "logits"}
                   for k, v in theirs.items()}}, indent=1) + "\n")
  print(text)


if __name__ == "__main__":
  cli.run(main)
