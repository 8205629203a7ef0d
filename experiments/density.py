r"""Density estimation: a flow and a kernel density estimate, side by side, with figures.

    python -m experiments.density                                       # ring, two moons, checkerboard
    python -m experiments.density --targets=ring --config.num_steps=2000
    python -m experiments.density --config=experiments/configs/flow_digits.py   # digits, bits/dim
    python -m experiments.density --data=points.npy --bandwidth=0.3     # your own 2-D points

2-D mode (``experiments/configs/flow_2d.py``): for each target of ``jaxnets.data.densities`` (or
the ``(n, 2)`` array of ``--data``), a RealNVP flow and a Gaussian KDE (bandwidth by likelihood
cross-validation, or ``--bandwidth`` times each coordinate's std) are fitted to the same points;
with a known target, ``KL(p || q)`` of both by Monte Carlo; contours of true, KDE and flow.
Digits mode (``flow_digits.py``): the flow on dequantized, logit-transformed digits, test bits
per dimension beside the KDE's, and a grid of samples. Writes ``<outdir>/density.md``,
``results.json`` and PNGs (default ``reports/density``).
"""

from __future__ import annotations

import json
import pathlib

from absl import flags
from ml_collections import config_flags

from jaxnets import cli
from jaxnets.errors import JaxnetsError

_CONFIG = config_flags.DEFINE_config_file(
    "config", str(pathlib.Path(__file__).parent / "configs" / "flow_2d.py"),
    "A flow config: experiments/configs/flow_2d.py (2-D targets) or flow_digits.py.")
_TARGETS = flags.DEFINE_list("targets", ["ring", "two_moons", "checkerboard"],
                             "2-D targets (names in jaxnets.data.densities.TARGETS_2D).")
_DATA = flags.DEFINE_string("data", None, "A .npy file of (n, 2) points to fit instead of the "
                            "targets (no KL: the true density is unknown).")
_BANDWIDTH = flags.DEFINE_float("bandwidth", None, "KDE bandwidth as a multiple of each "
                                "coordinate's std (default: likelihood cross-validation).")
_SEED = flags.DEFINE_integer("seed", 0, "Root seed (data, initialisation, Monte Carlo).")


def _load_points(path: str):
  import numpy as np
  file = pathlib.Path(path)
  if not file.is_file():
    raise JaxnetsError(f"--data={path} is not a file; give a .npy array of (n, 2) points")
  try:
    points = np.load(file, allow_pickle=False)
  except (ValueError, OSError) as e:
    raise JaxnetsError(f"--data={path} is not a readable .npy array ({e})") from None
  if points.ndim != 2 or points.shape[1] != 2:
    raise JaxnetsError(f"--data must hold (n, 2) points for the 2-D flow, got shape "
                       f"{points.shape}; for digits use --config=experiments/configs/"
                       "flow_digits.py")
  return points


def _bandwidth(train):
  from theory import density as D
  if _BANDWIDTH.value is None:
    return D.cross_validated_bandwidth(train)
  if not _BANDWIDTH.value > 0:
    raise JaxnetsError(f"--bandwidth must be > 0 (a multiple of each coordinate's std), got "
                       f"{_BANDWIDTH.value}")
  return _BANDWIDTH.value * train.std(axis=0, ddof=1)


def two_d(config, outdir: pathlib.Path) -> list[dict]:
  import jax
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np

  from jaxnets.data import densities
  from jaxnets.train import likelihood
  from theory import density as D
  if _DATA.value:
    cases = [("data", None, _load_points(_DATA.value))]
  else:
    cases = []
    for j, name in enumerate(_TARGETS.value):
      target = densities.target_2d(name)
      key = jax.random.fold_in(jax.random.key(_SEED.value), j)
      cases.append((name, target, np.asarray(target.sample(key, config.train_size))))
  # every input is validated before the first (long) training starts
  bandwidths = [_bandwidth(points[:4000]) for _, _, points in cases]
  rows = []
  fig, axes = plt.subplots(len(cases), 3, figsize=(9, 3 * len(cases)), squeeze=False)
  for i, ((name, target, points), h) in enumerate(zip(cases, bandwidths)):
    key = jax.random.fold_in(jax.random.key(_SEED.value + 1), i)
    model, params, result = likelihood.train_flow(config, points, key)
    lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
    pad = 0.1 * (hi - lo)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 121)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], 121)
    mesh = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2).astype(np.float32)
    flow_density = np.exp(np.asarray(jax.jit(model.apply)({"params": params}, mesh)))
    kde_points = points
    kde_density = np.exp(np.asarray(D.kde_log_density(mesh, kde_points, h)))
    row = {"target": name, "n": len(points), "flow_steps": int(config.num_steps),
           "flow_seconds": round(result.seconds, 1),
           "bandwidth": [float(v) for v in h]}
    panels = [(kde_density, "KDE"), (flow_density, "RealNVP")]
    if target is not None:
      x = target.sample(jax.random.fold_in(key, 7), config.kl_samples)
      log_p = np.asarray(target.log_prob(x))
      flow_kl = float(np.mean(log_p - np.asarray(jax.jit(model.apply)({"params": params}, x))))
      kde_kl = float(np.mean(log_p[:20000] - np.asarray(D.kde_log_density(
          np.asarray(x[:20000]), kde_points, h))))
      row.update(flow_kl=flow_kl, kde_kl=kde_kl)
      panels = [(np.exp(np.asarray(target.log_prob(mesh))), "true p"),
                (kde_density, f"KDE, KL {kde_kl:.3f}"), (flow_density, f"RealNVP, KL {flow_kl:.3f}")]
    else:
      panels = [(np.zeros(len(mesh)), "")] + panels
      axes[i, 0].scatter(points[:2000, 0], points[:2000, 1], s=1)
    for j, (dens, title) in enumerate(panels):
      if title:
        axes[i, j].imshow(dens.reshape(len(gy), len(gx)), origin="lower", cmap="magma",
                          extent=(gx[0], gx[-1], gy[0], gy[-1]), aspect="auto")
      axes[i, j].set(title=f"{name}: {title}" if j == 0 else title, xticks=[], yticks=[])
    rows.append(row)
    print(json.dumps(row), flush=True)
  fig.tight_layout()
  fig.savefig(outdir / "density_2d.png", dpi=90)
  plt.close(fig)
  return rows


def digits_mode(config, outdir: pathlib.Path) -> list[dict]:
  import jax
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np

  from jaxnets.data import densities
  from jaxnets.train import likelihood
  from theory import density as D
  logit = densities.LogitTransform(config.logit_alpha)
  train = densities.dequantized_digits("train", jax.random.key(0))
  test = densities.dequantized_digits("test", jax.random.key(1))
  h = _bandwidth(train)
  order = np.random.default_rng(0).permutation(len(train))
  n_val = int(round(config.validation_fraction * len(train)))
  y = np.asarray(logit.forward(train))
  model, params, result = likelihood.train_flow(config, y[order[n_val:]],
                                                jax.random.key(_SEED.value),
                                                validation=y[order[:n_val]])
  log_px = (np.asarray(jax.jit(model.apply)({"params": params}, logit.forward(test)))
            + np.asarray(logit.log_det(test)))
  kde = np.asarray(D.kde_log_density(test, train, h))
  row = {"target": "digits (dequantized)", "n": len(train), "flow": config.flow.name,
         "flow_steps": int(config.num_steps), "flow_seconds": round(result.seconds, 1),
         "best_validation_step": int(result.state.best_step),
         "flow_bits_per_dim": densities.bits_per_dim(log_px, 64),
         "kde_bits_per_dim": densities.bits_per_dim(kde, 64),
         "bandwidth_factor": float(h[0] / train[:, 0].std(ddof=1))
         if train[:, 0].std() > 0 else None}
  samples = np.asarray(logit.inverse(jax.jit(
      lambda p, k: model.apply({"params": p}, k, 64, method="sample"))(params,
                                                                      jax.random.key(5))))
  fig, axes = plt.subplots(8, 8, figsize=(5, 5))
  for ax, img in zip(axes.ravel(), np.clip(samples, 0, 1)):
    ax.imshow(img.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
  fig.suptitle(f"{config.flow.name} samples, test {row['flow_bits_per_dim']:.2f} bits/dim")
  fig.savefig(outdir / "density_digits.png", dpi=90)
  plt.close(fig)
  print(json.dumps(row), flush=True)
  return [row]


def markdown(rows: list[dict]) -> str:
  lines = ["| data | n | flow KL or bits/dim | KDE KL or bits/dim | flow steps | flow s |",
           "|---|---|---|---|---|---|"]
  for r in rows:
    flow = r.get("flow_kl", r.get("flow_bits_per_dim"))
    kde = r.get("kde_kl", r.get("kde_bits_per_dim"))
    unit = " bits/dim" if "flow_bits_per_dim" in r else " nats" if "flow_kl" in r else ""
    show = lambda v: "—" if v is None else f"{v:.3f}{unit}"
    lines.append(f"| {r['target']} | {r['n']} | {show(flow)} | {show(kde)} | "
                 f"{r['flow_steps']} | {r['flow_seconds']} |")
  return "\n".join(lines)


def main(argv: list[str]) -> int:
  del argv
  config = cli.load_config(_CONFIG)
  outdir = cli.outdir("reports/density")
  outdir.mkdir(parents=True, exist_ok=True)
  rows = digits_mode(config, outdir) if "logit_alpha" in config else two_d(config, outdir)
  table = markdown(rows) + f"\n\n`{cli.command_line('experiments.density')}`\n"
  (outdir / "density.md").write_text(table)
  (outdir / "results.json").write_text(json.dumps(rows, indent=1))
  print(table)
  return 0


if __name__ == "__main__":
  cli.run(main)
