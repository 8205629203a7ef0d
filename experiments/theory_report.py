r"""Runs the theory checks and writes a report: a markdown table, one JSON and one PNG per check.

    python -m experiments.theory_report --outdir=reports/theory
    python -m experiments.theory_report --seeds=0,1,2
    python -m experiments.theory_report --only=ntk_width_convergence,distance_concentration

Each check states a theorem's prediction, measures it, and passes or fails by named
comparisons whose tolerances state their source (``experiments/checks/result.py``). With
several seeds every check runs once per seed (``<outdir>/seed<k>/``) and the pass count of
each seed is printed. The exit status is 1 when any check fails, 2 for bad flags.
"""

from __future__ import annotations

import importlib
import json
import time
from typing import Callable

from absl import flags

from experiments.checks.result import CheckResult, write_result
from jaxnets import cli

# Topic -> module defining a literal CHECKS dict. Modules are imported only when one of their
# checks runs, so a report of one topic does not pay for the others' imports.
CHECK_MODULES = {
    "kernel_regime": "experiments.checks.kernel_regime",
    "generalization": "experiments.checks.generalization",
    "approximation": "experiments.checks.approximation",
    "dimensionality": "experiments.checks.dimensionality",
    "density": "experiments.checks.density",
    "adversarial": "experiments.checks.adversarial",
}

_ONLY = flags.DEFINE_list("only", [], "Check names or topic names to run (default: all).")
_QUICK = flags.DEFINE_bool("quick", False, "Smaller sizes, as in the test suite.")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Root seed(s) of every check, e.g. 0,1,2.")


def available_checks() -> dict[str, tuple[str, Callable[..., CheckResult]]]:
  """Returns ``{check name: (topic, check function)}`` for every importable topic."""
  checks = {}
  for topic, module_name in CHECK_MODULES.items():
    try:
      module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
      if e.name != module_name:
        raise
      continue  # topic not written yet
    for name, fn in module.CHECKS.items():
      checks[name] = (topic, fn)
  return checks


def select_checks(only: list[str]) -> dict[str, tuple[str, Callable[..., CheckResult]]]:
  """The checks named in ``only`` (by check or topic name); all of them if empty."""
  checks = available_checks()
  if not only:
    return checks
  unknown = [n for n in only if n not in checks and n not in CHECK_MODULES]
  if unknown:
    raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: "
                     f"{', '.join(sorted(checks))} or topics {', '.join(CHECK_MODULES)}")
  return {n: tc for n, tc in checks.items() if n in only or tc[0] in only}


def _cell(text: str) -> str:
  # Tolerances such as |slope + 0.5| would otherwise split the markdown cell.
  return str(text).replace("|", "\\|")


def markdown_table(results: list[tuple[str, int, CheckResult, float]]) -> str:
  """A markdown table with one row per (check, seed): prediction, measurement, tolerance,
  verdict and a link to the check's figure (written next to the table)."""
  rows = ["| topic | check | seed | prediction | measured | tolerance | result | s |",
          "|---|---|---|---|---|---|---|---|"]
  multi = len({seed for _, seed, _, _ in results}) > 1
  for topic, seed, r, seconds in results:
    verdict = "pass" if r.passed else "**FAIL**: " + _cell("; ".join(
        c.name for c in r.failed))
    link = f"seed{seed}/{r.name}.png" if multi else f"{r.name}.png"
    rows.append(f"| {topic} | [{r.name}]({link}) | {seed} | {_cell(r.prediction)} "
                f"| {_cell(r.measured)} | {_cell(r.tolerance)} | {verdict} | {seconds:.0f} |")
  return "\n".join(rows) + "\n"


def pass_counts(results: list[tuple[str, int, CheckResult, float]]) -> dict[int, tuple[int, int]]:
  """``{seed: (passed, run)}``."""
  counts: dict[int, tuple[int, int]] = {}
  for _, seed, r, _ in results:
    p, n = counts.get(seed, (0, 0))
    counts[seed] = (p + int(r.passed), n + 1)
  return counts


def main(argv: list[str]) -> int:
  del argv  # cli.run rejects positional arguments
  try:
    checks = select_checks(_ONLY.value)
  except ValueError as e:
    cli.fail(str(e))
  try:
    seeds = [int(x) for x in _SEEDS.value]
  except ValueError:
    cli.fail(f"--seeds takes integers, e.g. --seeds=0,1,2; got {','.join(_SEEDS.value)}")
  if not seeds:
    cli.fail("--seeds is empty; give at least one seed, e.g. --seeds=0")
  outdir = cli.outdir("reports/theory")
  if outdir.exists() and not outdir.is_dir():
    cli.fail(f"--outdir {outdir} is a file; name a directory")
  outdir.mkdir(parents=True, exist_ok=True)
  results = []
  run_start = time.perf_counter()
  for seed in seeds:
    seed_dir = outdir / f"seed{seed}" if len(seeds) > 1 else outdir
    seed_dir.mkdir(parents=True, exist_ok=True)
    for name, (topic, fn) in checks.items():
      start = time.perf_counter()
      result = fn(seed_dir, quick=_QUICK.value, seed=seed)
      seconds = time.perf_counter() - start
      write_result(result, seed_dir)
      results.append((topic, seed, result, seconds))
      print(f"[{'pass' if result.passed else 'FAIL'}] seed {seed} {name}: {result.measured} "
            f"({seconds:.0f}s)", flush=True)
      for c in result.failed:
        print(f"    failed: {c.text()}", flush=True)
  table = markdown_table(results)
  command = cli.command_line("experiments.theory_report")
  counts = pass_counts(results)
  summary = "; ".join(f"seed {s}: {p}/{n} passed" for s, (p, n) in counts.items())
  table += (f"\n{summary}; `{command}` ({time.perf_counter() - run_start:.0f} s for the "
            "checks).\n")
  (outdir / "report.md").write_text(table)
  (outdir / "report.json").write_text(json.dumps(
      [dict(topic=t, seed=sd, seconds=s, **r.to_json()) for t, sd, r, s in results],
      indent=2) + "\n")
  print(table)
  return 0 if all(r.passed for _, _, r, _ in results) else 1


if __name__ == "__main__":
  cli.run(main)
