"""Importable theory utilities: pure functions of arrays or of ``(apply_fn, params, x)``."""
