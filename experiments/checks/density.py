"""Density-estimation checks (issue 16): the curse for kernel density estimates, exact flows.

    python -m experiments.theory_report --only=density --seeds=0,1,2

* ``silverman_table``: the sample size at which the Gaussian KDE of N(0, I_d) reaches relative
  MSE 0.1 at 0, from the exact MSE, equals Silverman 1986 Table 4.2 for d = 1..10.
* ``kde_rate``: the Monte-Carlo MSE of the KDE at 0 with the optimal bandwidth falls as
  ``n^(-4/(4+d))``, d = 1..5: the fit's interval contains the exponent.
* ``flow_log_det``: a coupling's and an autoregressive layer's log-determinant formula equals
  ``log |det J|`` by autodiff.
* ``flow_kl``: a RealNVP flow trained by maximum likelihood on 2-D targets with known
  log-density reaches ``KL(p || q) <= 0.05`` nats.
* ``density_curse``: on Gaussian mixtures in d = 2..64 at fixed n, the KDE's test-NLL gap to the
  truth grows with d, and a flow's gap stays below the KDE's.
"""

from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402

from experiments.checks.result import (CheckResult, above, at_most, below, contains,  # noqa: E402
                                      holds, save_figure, within)
from experiments.configs import flow_2d as flow_2d_config  # noqa: E402
from jaxnets.data import densities  # noqa: E402
from jaxnets.models import flows  # noqa: E402
from jaxnets.train import likelihood  # noqa: E402
from theory import density as D  # noqa: E402

# Silverman 1986, Table 4.2: sample size for relative MSE < 0.1 at 0, N(0, I_d), normal kernel.
SILVERMAN_TABLE_4_2 = {1: 4, 2: 19, 3: 67, 4: 223, 5: 768, 6: 2790, 7: 10700, 8: 43700,
                       9: 187000, 10: 842000}


def silverman_table(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Silverman's Table 4.2 from the exact MSE at 0 (closed form; no randomness, any seed)."""
  del seed  # the table is exact
  dims = sorted(SILVERMAN_TABLE_4_2)
  exact = {d: D.silverman_sample_size(d) for d in dims}
  # Silverman prints n exactly up to d = 5 and to three significant figures beyond.
  shown = {d: exact[d] if d <= 5 else D.round_significant(exact[d], 3) for d in dims}
  comparisons = [within(f"n(d={d})", shown[d], SILVERMAN_TABLE_4_2[d], 0,
                        "Silverman 1986 Table 4.2 (exact for d <= 5, three figures beyond)")
                 for d in dims]
  # The exact n is the boundary: one fewer point must miss the 0.1 target.
  comparisons += [holds(f"n(d={d}) - 1 misses 0.1",
                        D.optimal_bandwidth_at_zero(exact[d] - 1, d)[1] >= 0.1
                        if exact[d] > 1 else True,
                        "definition of the least sample size") for d in dims]
  fig, ax = plt.subplots(figsize=(4.8, 3.6))
  ax.semilogy(dims, [exact[d] for d in dims], "o-", label="exact MSE at 0 (this code)")
  ax.semilogy(dims, [SILVERMAN_TABLE_4_2[d] for d in dims], "kx", ms=9,
              label="Silverman 1986, Table 4.2")
  ax.set(xlabel="dimension d", ylabel="n for relative MSE < 0.1 at 0",
         title="the curse for kernel density estimates")
  ax.legend(fontsize=8)
  return CheckResult(
      name="silverman_table",
      claim="For n draws of N(0, I_d) and the Gaussian kernel with the MSE-optimal bandwidth, "
            "the sample size for relative mean squared error < 0.1 at 0 grows from 4 (d=1) to "
            "842,000 (d=10) (Silverman 1986, sec. 4.5, Table 4.2)",
      prediction="; ".join(f"d={d}: {SILVERMAN_TABLE_4_2[d]}" for d in dims),
      measured="; ".join(f"d={d}: {exact[d]}" for d in dims),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "silverman_table"),
      values=dict(dims=dims, exact=[exact[d] for d in dims], shown=[shown[d] for d in dims],
                  silverman=[SILVERMAN_TABLE_4_2[d] for d in dims]))


def _weighted_fit(design: np.ndarray, y: np.ndarray, var: np.ndarray):
  """Generalized least squares with known per-point variances: ``(coef, cov, chi2/dof)``.

  When the residuals exceed the stated variances (chi2/dof > 1) the covariance is inflated by
  chi2/dof, the usual correction for an imperfect model.
  """
  w = 1.0 / var
  normal = design.T @ (design * w[:, None])
  cov = np.linalg.inv(normal)
  coef = cov @ (design.T @ (w * y))
  dof = len(y) - design.shape[1]
  chi2 = float(np.sum(w * (y - design @ coef) ** 2) / max(dof, 1))
  return coef, cov * max(1.0, chi2), chi2


def kde_rate(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Monte-Carlo MSE of the KDE at 0 versus n with the optimal bandwidth, d = 1..5."""
  dims = [1, 2, 3, 4, 5]
  ns = np.unique(np.round(np.geomspace(100, 1000 if quick else 100_000, 4 if quick else 10)))
  replicates = 100 if quick else 1000
  z = scipy.stats.norm.ppf(1 - 0.05 / (2 * len(dims)))  # 95%, Bonferroni over the dimensions
  key = jax.random.key(seed)
  comparisons, fits, slopes, ses = [], {}, {}, {}
  fig, ax = plt.subplots(figsize=(4.8, 3.6))
  for d in dims:
    f0 = (2 * math.pi) ** (-d / 2)
    mse, log_var = [], []
    for n in ns:
      h = D.optimal_bandwidth_at_zero(int(n), d)[0]
      values = D.sample_kde_at_zero(jax.random.fold_in(key, 1000 * d + int(n)), int(n), h, d,
                                    replicates)
      sq = (values - f0) ** 2
      mse.append(sq.mean())
      # delta method: var(log mean) = var(sq) / (R mean^2)
      log_var.append(sq.var(ddof=1) / (replicates * sq.mean() ** 2))
    mse, log_var = np.array(mse), np.array(log_var)
    coef, cov, chi2 = _weighted_fit(D.kde_rate_design(ns, d), np.log(mse), log_var)
    slope, se = coef[1], math.sqrt(cov[1, 1])
    design_bias = D.kde_rate_design_bias(ns, d)
    predicted = -4.0 / (4 + d)
    half = z * se + abs(design_bias)
    slopes[d], ses[d] = slope, se
    fits[d] = dict(slope=slope, se=se, half_width=half, design_bias=design_bias,
                   chi2_per_dof=chi2, mse=mse.tolist())
    comparisons.append(contains(f"exponent d={d}", predicted, (slope - half, slope + half),
                                "95% interval of the fit (Bonferroni over d = 1..5) + the "
                                "truncated expansion's error on the exact MSE"))
    if not quick:
      comparisons.append(below(f"interval half-width d={d}", half, 1 + predicted,
                               "informative: the interval excludes the parametric rate n^-1"))
    line = ax.loglog(ns, mse, "o", ms=4, label=f"d={d}: {slope:.3f} +- {half:.3f} "
                     f"(pred. {predicted:.3f})")[0]
    exact = [sum(D.kde_mse_at_zero(int(n), D.optimal_bandwidth_at_zero(int(n), d)[0], d))
             for n in ns]
    ax.loglog(ns, exact, "-", color=line.get_color(), lw=0.8)
  weaker = slopes[dims[-1]] - slopes[dims[0]]
  comparisons.append(above(f"exponent d={dims[-1]} - exponent d={dims[0]}", weaker,
                           z * math.hypot(ses[dims[0]], ses[dims[-1]]),
                           "the rate weakens with d: 95% (Bonferroni) of the two fits' s.e."))
  ax.set(xlabel="n", ylabel="MSE of f_h(0)", title="KDE at 0: Monte Carlo (dots), exact (lines)")
  ax.legend(fontsize=6)
  return CheckResult(
      name="kde_rate",
      claim="With the MSE-optimal bandwidth h ~ n^(-1/(d+4)), the Gaussian KDE's mean squared "
            "error at a point falls as n^(-4/(d+4)) (Silverman 1986, sec. 4.3.1): the rate "
            "weakens with the dimension",
      prediction="; ".join(f"d={d}: {-4 / (4 + d):.3f}" for d in dims),
      measured="; ".join(f"d={d}: {f['slope']:.3f} +- {f['half_width']:.3f}"
                         for d, f in fits.items()),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "kde_rate"),
      values=dict(ns=ns.tolist(), replicates=replicates, fits=fits))


def _perturbed(variables, key: jax.Array, scale: float):
  """Every parameter plus ``scale`` N(0, 1) noise: zero-initialised output layers become
  non-trivial, so the log-determinants are not all 0."""
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(tree, [v + scale * jax.random.normal(k, v.shape, v.dtype)
                                   for v, k in zip(leaves, keys)])


def flow_log_det(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Each flow's log-determinant formula against ``slogdet`` of its autodiff Jacobian."""
  dims = [2] if quick else [2, 8, 64]
  points = 4 if quick else 32
  layers = 2 if quick else 4
  tolerance = 1e-5
  rows, comparisons = [], []
  key = jax.random.key(seed)
  for name in ("realnvp", "maf"):
    for d in dims:
      k_init, k_x, k_noise = jax.random.split(jax.random.fold_in(key, 97 * d + len(name)), 3)
      model = flows.get_flow(name, d, num_layers=layers, hidden=(64, 64))
      x = jax.random.normal(k_x, (points, d))
      variables = _perturbed(model.init(k_init, x), k_noise, 0.05)
      forward = jax.jit(lambda v, x: model.apply(v, x, method="forward"))
      z, log_det = forward(variables, x)
      jac = jax.jit(jax.vmap(jax.jacfwd(lambda xi, v: forward(v, xi[None])[0][0]),
                             in_axes=(0, None)))(x, variables)
      autodiff = jnp.linalg.slogdet(jac)[1]
      err = float(jnp.max(jnp.abs(autodiff - log_det)))
      inverse = jax.jit(lambda v, z: model.apply(v, z, method="inverse"))
      back = float(jnp.max(jnp.abs(inverse(variables, z) - x)))
      rows.append(dict(flow=name, d=d, max_abs_error=err, inverse_error=back,
                       log_det_range=[float(log_det.min()), float(log_det.max())]))
      comparisons.append(at_most(f"{name} d={d}: max |formula - autodiff|", err, tolerance,
                                 "issue 16's 1e-5 (float32: ~100 ulp of |log det| ~ 1)"))
      comparisons.append(at_most(f"{name} d={d}: max |f^-1(f(x)) - x|", back, tolerance,
                                 "exact invertibility, to float32 rounding (1e-5)"))
  fig, ax = plt.subplots(figsize=(4.8, 3.4))
  for name, marker in (("realnvp", "o"), ("maf", "s")):
    sel = [r for r in rows if r["flow"] == name]
    ax.semilogy([r["d"] for r in sel], [max(r["max_abs_error"], 1e-9) for r in sel],
                marker, label=f"{name}: log-det error")
    ax.semilogy([r["d"] for r in sel], [max(r["inverse_error"], 1e-9) for r in sel],
                marker, mfc="none", label=f"{name}: inverse error")
  ax.axhline(tolerance, color="k", ls="--", lw=0.8, label="1e-5")
  ax.set(xscale="log", xlabel="dimension d", ylabel="max abs error (float32)",
         title="log|det J|: formula vs autodiff")
  ax.legend(fontsize=7)
  worst = max(r["max_abs_error"] for r in rows)
  return CheckResult(
      name="flow_log_det",
      claim="A coupling layer's Jacobian is triangular with diagonal (1, exp s), so log|det J| = "
            "sum s (Dinh et al. 2017, eq. 6); a MADE layer's is triangular with diagonal "
            "exp(-alpha), log|det J| = -sum alpha (Papamakarios et al. 2017, eq. 3)",
      prediction="the formulas equal slogdet of the autodiff Jacobian; f^-1(f(x)) = x",
      measured=f"worst |formula - autodiff| {worst:.2e} over RealNVP and MAF, d = "
               f"{', '.join(map(str, dims))}, {points} points each",
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "flow_log_det"),
      values=dict(rows=rows, tolerance=tolerance))


def kl_estimate(target, model, params, key: jax.Array, num: int) -> tuple[float, float]:
  """``KL(p || q) = E_p[log p - log q]`` by Monte Carlo: ``(estimate, standard error)``."""
  x = target.sample(key, num)
  diff = np.asarray(target.log_prob(x)) - np.asarray(jax.jit(model.apply)({"params": params}, x))
  return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(num))


def flow_kl(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """RealNVP (``experiments/configs/flow_2d.py``) on each 2-D target: ``KL(p || q)``."""
  targets = ["ring", "two_moons", "checkerboard"]
  threshold = 0.05
  comparisons, rows = [], {}
  fig, axes = plt.subplots(2, len(targets), figsize=(3.2 * len(targets), 6.2))
  grid = np.linspace(-4, 4, 161)
  mesh = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2).astype(np.float32)
  for j, name in enumerate(targets):
    config = flow_2d_config.get_config()
    config.target = name
    if quick:
      config.num_steps, config.train_size, config.kl_samples = 100, 1000, 1000
      config.flow.num_layers, config.flow.hidden = 2, (16,)
    key = jax.random.fold_in(jax.random.key(seed), j)
    k_data, k_init, k_kl = jax.random.split(key, 3)
    target = densities.target_2d(name)
    x = np.asarray(target.sample(k_data, config.train_size))
    model, params, result = likelihood.train_flow(config, x, k_init)
    kl, se = kl_estimate(target, model, params, k_kl, config.kl_samples)
    rows[name] = dict(kl=kl, se=se, steps=config.num_steps, seconds=result.seconds,
                      final_nll=float(result.history[-1]["loss"]))
    comparisons.append(at_most(f"KL {name} (nats)", kl, threshold,
                               "issue 16: a flow fits a smooth 2-D density to 0.05 nats"))
    comparisons.append(below(f"KL {name} s.e.", se, threshold / 5,
                             "the Monte-Carlo estimate resolves the threshold (s.e. < 1/5 of it)"))
    true = np.exp(np.asarray(target.log_prob(mesh))).reshape(len(grid), len(grid))
    fitted = np.exp(np.asarray(jax.jit(model.apply)({"params": params}, mesh))).reshape(
        len(grid), len(grid))
    for i, (dens, title) in enumerate(((true, f"{name}: true p"),
                                       (fitted, f"RealNVP q, KL {kl:.3f}"))):
      axes[i, j].imshow(dens, origin="lower", extent=(-4, 4, -4, 4), cmap="magma")
      axes[i, j].set(title=title, xticks=[], yticks=[])
  return CheckResult(
      name="flow_kl",
      claim="Maximum likelihood minimises KL(p || q) = E_p log p - E_p log q; a RealNVP flow "
            "(16 affine couplings) trained on 50,000 draws reaches KL <= 0.05 nats on 2-D "
            "Gaussian-mixture targets (ring = FFJORD's 8 Gaussians, two moons, checkerboard)",
      prediction=f"KL(p || q) <= {threshold} nats on each target",
      measured="; ".join(f"{n}: {r['kl']:.4f} +- {r['se']:.4f}" for n, r in rows.items()),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "flow_kl"),
      values=dict(rows=rows, threshold=threshold))


def density_curse(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Test-NLL gap to the truth of a KDE (cross-validated) and of a flow, d = 2..64, fixed n."""
  dims = [2, 32] if quick else [2, 4, 8, 16, 32, 64]
  n_train, n_test = (300, 300) if quick else (2000, 2000)
  config = flow_2d_config.get_config()
  # A small flow (4 couplings, one hidden layer of 32): 2000 points do not support 8 x 128
  # (it overfits by thousands of nats in d = 32).
  config.flow.num_layers, config.flow.hidden = (2 if quick else 4), (32,)
  config.num_steps, config.batch_size = (100 if quick else 1000), 256
  config.learning_rate = 1e-3
  z = scipy.stats.norm.ppf(1 - 0.05 / (2 * len(dims)))
  rows, comparisons = [], []
  for d in dims:
    key = jax.random.fold_in(jax.random.key(seed), d)
    k_mix, k_train, k_test, k_init = jax.random.split(key, 4)
    mixture = densities.random_mixture(k_mix, d)
    train = np.asarray(mixture.sample(k_train, n_train))
    test = np.asarray(mixture.sample(k_test, n_test))
    truth = np.asarray(mixture.log_prob(test))
    h = D.cross_validated_bandwidth(train)
    kde = np.asarray(D.kde_log_density(test, train, h))
    model, params, _ = likelihood.train_flow(config, train, k_init)
    flow = np.asarray(jax.jit(model.apply)({"params": params}, test))
    kde_gap, flow_gap = truth - kde, truth - flow
    rows.append(dict(d=d, kde_gap=float(kde_gap.mean()), flow_gap=float(flow_gap.mean()),
                     kde_se=float(kde_gap.std(ddof=1) / math.sqrt(n_test)),
                     flow_se=float(flow_gap.std(ddof=1) / math.sqrt(n_test)),
                     paired_se=float((kde_gap - flow_gap).std(ddof=1) / math.sqrt(n_test)),
                     bandwidth_factor=float(h[0] / train[:, 0].std(ddof=1))))
  for a, b in zip(rows[:-1], rows[1:]):
    comparisons.append(above(f"KDE gap d={b['d']} - d={a['d']}", b["kde_gap"] - a["kde_gap"],
                             z * math.hypot(a["kde_se"], b["kde_se"]),
                             "the curse: the KDE's gap grows with d (95%, Bonferroni over "
                             "the dimensions, test-sample s.e.)"))
  for r in rows:
    if r["d"] >= 32:
      comparisons.append(above(f"KDE gap - flow gap, d={r['d']}", r["kde_gap"] - r["flow_gap"],
                               z * r["paired_se"],
                               "a flow's parametric fit beats local averaging in high d "
                               "(95%, Bonferroni, paired test-sample s.e.)"))
  fig, ax = plt.subplots(figsize=(4.8, 3.6))
  ds = [r["d"] for r in rows]
  ax.errorbar(ds, [r["kde_gap"] for r in rows], [z * r["kde_se"] for r in rows], fmt="o-",
              label="Gaussian KDE (likelihood CV bandwidth)")
  ax.errorbar(ds, [r["flow_gap"] for r in rows], [z * r["flow_se"] for r in rows], fmt="s-",
              label="RealNVP (8 couplings)")
  ax.set(xscale="log", xlabel="dimension d", ylabel="test NLL - true NLL (nats)",
         title=f"4-component mixtures, n = {n_train}")
  ax.legend(fontsize=7)
  return CheckResult(
      name="density_curse",
      claim="A kernel density estimate's error grows with the dimension at fixed n (the rate "
            "n^(-4/(4+d)), Silverman 1986 sec. 4.3); a flow's parametric fit of a Gaussian "
            "mixture degrades more slowly",
      prediction="KDE test-NLL gap to the truth increases with d; flow gap < KDE gap for d >= 32",
      measured="; ".join(f"d={r['d']}: KDE {r['kde_gap']:.2f}, flow {r['flow_gap']:.2f}"
                         for r in rows),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "density_curse"),
      values=dict(rows=rows, n_train=n_train, n_test=n_test))


CHECKS = {
    "silverman_table": silverman_table,
    "kde_rate": kde_rate,
    "flow_log_det": flow_log_det,
    "flow_kl": flow_kl,
    "density_curse": density_curse,
}
