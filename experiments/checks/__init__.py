"""Theory checks: each states a theorem's prediction, measures it, and passes or fails.

Every check module exposes a literal ``CHECKS`` dict mapping a check name to a function
``check(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult``.
``experiments/theory_report.py`` runs them; the fast ones also run in the test suite.
"""
