"""Kernel-regime checks at initialisation: the empirical NTK of a jaxnets MLP against its limit.

* ``ntk_width_convergence``: ``||Theta_n - Theta_inf||_F / ||Theta_inf||_F ~ n^{-1/2}``.
* ``ntk_sphere_diagonal``: with ``b_std = 0``, ``W_std^2 = 2`` and inputs on the sphere of
  radius ``sqrt(d)``, the NTK recursion gives ``Theta(x, x) = 2 (L + 1)`` exactly.
* ``ntk_init_fluctuations``: the seed-to-seed relative std of ``Theta_n(x, x')`` shrinks like
  ``n^{-1/2}`` and grows with depth (Hanin & Nica 2020).

Shared pieces of the kernel-regime checks (inputs on the sphere, slope fits, figures) live
here too.
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

from experiments.checks.result import CheckResult, above, at_most, contains, save_figure, within  # noqa: E402
from theory.rates import fit_power_law  # noqa: E402
from jaxnets.models.mlp import MLP  # noqa: E402
from theory import kernels as K  # noqa: E402
from theory import ntk  # noqa: E402


def sphere_points(n: int, d: int, seed: int) -> np.ndarray:
  """``(n, d)`` points uniform on the sphere of radius ``sqrt(d)`` (so ``x.x / d = 1``)."""
  x = np.random.default_rng(seed).normal(size=(n, d))
  return x / np.linalg.norm(x, axis=1, keepdims=True) * math.sqrt(d)


def log_slope(x, y) -> float:
  """Least-squares slope of ``log y`` against ``log x``: the exponent of a power law."""
  return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def mlp_ntks(width: int, depth: int, x: np.ndarray, seeds: list[int], w_std: float,
             b_std: float, act=jax.nn.relu) -> np.ndarray:
  """Empirical NTKs ``(S, N, N)`` of fresh ``MLP(parametrization="ntk")``s, one per seed.

  Initialisation and kernel run in one compiled ``lax.map`` over the seeds: the loop costs one
  compilation per architecture instead of one Python dispatch of every flax op per seed.
  """
  net = MLP(num_outputs=1, width=width, depth=depth, act=act, parametrization="ntk",
            w_std=w_std, b_std=b_std)
  x = jnp.asarray(x, jnp.float32)
  ntk_fn = ntk.empirical_ntk_fn(lambda p, x: net.apply(p, x),
                                implementation="jacobian_contraction")
  one = lambda key: ntk_fn(x, None, net.init(key, x[:1]))
  keys = jnp.stack([jax.random.key_data(jax.random.key(s)) for s in seeds])
  return np.asarray(jax.jit(lambda ks: jax.lax.map(
      lambda k: one(jax.random.wrap_key_data(k)), ks))(keys))


def ntk_width_convergence(outdir: pathlib.Path, *, quick: bool = False,
                          seed: int = 0) -> CheckResult:
  """Relative Frobenius error of the empirical NTK vs width, fitted as a power law."""
  depth, d, w_std, b_std = 2, 16, 1.5, 0.05
  widths = [64, 128, 256] if quick else [64, 128, 256, 512, 1024, 2048]
  seeds = 3 if quick else 4
  x = sphere_points(8, d, seed)
  with jax.enable_x64(True):
    exact = np.asarray(K.from_model(MLP(num_outputs=1, depth=depth, parametrization="ntk",
                                        w_std=w_std, b_std=b_std))[2](x, None, "ntk"))
  seed_list = [seed * 1000 + s for s in range(seeds)]
  errors = np.array([np.linalg.norm(mlp_ntks(n, depth, x, seed_list, w_std, b_std) - exact,
                                    axis=(1, 2)) / np.linalg.norm(exact) for n in widths])
  rms = np.sqrt((errors ** 2).mean(1))
  slope = log_slope(widths, rms)
  fit = fit_power_law(widths, errors)  # every seed a replicate at each width
  comparisons = [contains("width exponent -0.5", -0.5, fit.exponent_ci,
                          f"95% t-interval of the slope over {seeds} seeds x {len(widths)} widths")]
  fig, ax = plt.subplots(figsize=(4.5, 3.5))
  ax.loglog(widths, errors, "o", color="tab:blue", alpha=0.4, ms=3)
  ax.loglog(widths, rms, "o-", color="tab:blue", label=f"measured, slope {slope:.2f}")
  ax.loglog(widths, rms[0] * (np.array(widths) / widths[0]) ** -0.5, "k--",
            label="n^-1/2")
  ax.set(xlabel="width n", ylabel="||Θ_n − Θ_∞||_F / ||Θ_∞||_F",
         title=f"ReLU MLP depth {depth}, NTK param.")
  ax.legend()
  return CheckResult(
      name="ntk_width_convergence",
      claim="The empirical NTK of an NTK-parameterised MLP converges to the analytic kernel "
            "with fluctuations of order n^-1/2 (Jacot et al. 2018, Thm. 1; Hanin & Nica 2020)",
      prediction="relative error ~ width^-0.5",
      measured=f"slope {slope:.3f} (error {rms[0]:.3f} at n={widths[0]}, {rms[-1]:.4f} at "
               f"n={widths[-1]})",
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "ntk_width_convergence"),
      values=dict(widths=widths, errors=errors, rms=rms, slope=slope, depth=depth, d=d,
                  w_std=w_std, b_std=b_std))


def ntk_sphere_diagonal(outdir: pathlib.Path, *, quick: bool = False,
                        seed: int = 0) -> CheckResult:
  """``Theta(x, x) = 2 (L + 1)`` on the sphere: analytic to round-off, empirical within noise."""
  d, width = 16, 512 if quick else 1024
  depths = [1, 2, 3]
  seeds = 8 if quick else 16
  x = sphere_points(16, d, seed)
  analytic_err, z_scores, means, sems = [], [], [], []
  for depth in depths:
    predicted = 2.0 * (depth + 1)
    with jax.enable_x64(True):
      diag = np.diag(np.asarray(K.from_model(MLP(num_outputs=1, depth=depth,
                                                 parametrization="ntk"))[2](
          x, None, "ntk")))
    analytic_err.append(float(np.abs(diag / predicted - 1).max()))
    ks = mlp_ntks(width, depth, x, [seed * 1000 + s for s in range(seeds)], math.sqrt(2), 0.0)
    # entries of one network are correlated: the independent samples are the per-seed means
    per_seed = np.diagonal(ks, axis1=1, axis2=2).mean(1)
    sem = per_seed.std(ddof=1) / math.sqrt(seeds)
    means.append(float(per_seed.mean()))
    z_scores.append(abs(per_seed.mean() - predicted) / sem)
    sems.append(float(sem))
  comparisons = [at_most("analytic max rel. error", max(analytic_err), 1e-12,
                         "float64 round-off (eps 2.2e-16) over a few layers' recursion")]
  comparisons += [within(f"empirical Theta(x,x), L={L}", mu, 2.0 * (L + 1), 4 * se,
                         f"4 standard errors over {seeds} seeds (two-sided 6e-5 each)")
                  for L, mu, se in zip(depths, means, sems)]
  fig, ax = plt.subplots(figsize=(4.5, 3.5))
  ax.plot(depths, [2 * (L + 1) for L in depths], "k--", label="2(L+1)")
  ax.plot(depths, means, "o", label=f"empirical mean, n={width}")
  ax.set(xlabel="hidden layers L", ylabel="Θ(x, x)", title="NTK diagonal on the sphere")
  ax.legend()
  return CheckResult(
      name="ntk_sphere_diagonal",
      claim="For |x|^2 = d, b_std = 0, W_std^2 = 2 the ReLU NTK recursion keeps the NNGP "
            "diagonal at 2 and adds 2 per layer: Theta(x, x) = 2 (L + 1) (Jacot et al. 2018)",
      prediction="Theta(x,x) = " + ", ".join(f"{2 * (L + 1)} (L={L})" for L in depths),
      measured=f"analytic max rel. error {max(analytic_err):.1e}; empirical means "
               + ", ".join(f"{m:.3f}" for m in means) + f" (max |z| {max(z_scores):.2f})",
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "ntk_sphere_diagonal"),
      values=dict(depths=depths, width=width, analytic_max_rel_error=analytic_err,
                  empirical_means=means, z_scores=z_scores))


def ntk_init_fluctuations(outdir: pathlib.Path, *, quick: bool = False,
                          seed: int = 0) -> CheckResult:
  """Seed-to-seed relative std of ``Theta_n(x, x)`` and ``Theta_n(x, x')`` vs width and depth."""
  d = 16
  depths = [1, 2, 3]
  widths = [64, 128, 256] if quick else [64, 128, 256, 512, 1024]
  seeds = 12 if quick else 48
  x = sphere_points(6, d, seed)
  upper = np.triu_indices(len(x))  # 6 diagonal and 15 off-diagonal entries
  rel_std = np.zeros((len(depths), len(widths)))
  # (depth, width, seed, entry) kernels, kept for the bootstrap over seeds below
  samples = np.zeros((len(depths), len(widths), seeds, len(upper[0])))
  scales = np.zeros((len(depths), len(widths), len(upper[0])))
  for i, depth in enumerate(depths):
    for j, n in enumerate(widths):
      ks = mlp_ntks(n, depth, x, [seed * 1000 + s for s in range(seeds)], math.sqrt(2), 0.0)
      # std of each entry in units of sqrt(Theta_ii Theta_jj): off-diagonal entries can have
      # a mean near zero, which would make a ratio to their own mean meaningless
      diag = np.diagonal(ks, axis1=1, axis2=2).mean(0)
      scales[i, j] = np.sqrt(diag[upper[0]] * diag[upper[1]])
      samples[i, j] = ks[:, upper[0], upper[1]]
      rel_std[i, j] = float(np.mean(samples[i, j].std(0, ddof=1) / scales[i, j]))
  slopes = [log_slope(widths, r) for r in rel_std]
  # n * Var / mean^2 at the widest widths: the depth-dependent constant of the 1/n law
  scaled = (rel_std ** 2 * np.array(widths)).mean(1)
  # The slope's uncertainty is that of the std estimates: resample the seeds (the networks
  # are the independent draws) and refit, 400 times; percentile interval at the Bonferroni
  # level for the family of depths.
  level = 1 - 0.05 / len(depths)
  boot_rng = np.random.default_rng(seed)
  boot = np.zeros((400, len(depths)))
  for b in range(len(boot)):
    pick = boot_rng.integers(0, seeds, seeds)
    r = (samples[:, :, pick].std(2, ddof=1) / scales).mean(-1)
    boot[b] = [log_slope(widths, r[i]) for i in range(len(depths))]
  intervals = [tuple(np.quantile(boot[:, i], [(1 - level) / 2, (1 + level) / 2]))
               for i in range(len(depths))]
  comparisons = [contains(f"width exponent -0.5, L={L}", -0.5, ci,
                          f"{100 * level:.1f}% bootstrap interval over the {seeds} seeds "
                          "(Bonferroni over depths)")
                 for L, ci in zip(depths, intervals)]
  comparisons += [above(f"n Var/mean^2, L={depths[i + 1]} - L={depths[i]}",
                        scaled[i + 1] - scaled[i], 0.0,
                        "Hanin & Nica 2020 Thm 1: the constant grows with depth")
                  for i in range(len(depths) - 1)]
  fig, ax = plt.subplots(figsize=(4.5, 3.5))
  for depth, r, s in zip(depths, rel_std, slopes):
    ax.loglog(widths, r, "o-", label=f"L={depth}: slope {s:.2f}")
  ax.loglog(widths, rel_std[0, 0] * (np.array(widths) / widths[0]) ** -0.5, "k--",
            label="n^-1/2")
  ax.set(xlabel="width n", ylabel="std(Θ_n(x,x')) / √(Θ(x,x)Θ(x',x'))",
         title="NTK fluctuations at init")
  ax.legend(fontsize=8)
  return CheckResult(
      name="ntk_init_fluctuations",
      claim="At initialisation Var(Theta_n)/E[Theta_n]^2 ~ c_L / n with c_L growing with depth "
            "(Hanin & Nica 2020, 'Finite depth and width corrections to the NTK', Thm. 1)",
      prediction="relative std ~ width^-0.5 for each depth; n Var/mean^2 increasing in depth",
      measured="slopes " + ", ".join(f"{s:.2f} (L={L})" for s, L in zip(slopes, depths))
               + "; n Var/mean^2 = " + ", ".join(f"{c:.2f}" for c in scaled),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "ntk_init_fluctuations"),
      values=dict(depths=depths, widths=widths, seeds=seeds, rel_std=rel_std, slopes=slopes,
                  slope_intervals=intervals, scaled_variance=scaled))
