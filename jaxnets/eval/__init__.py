"""Evaluation of trained models: scoring (mean risk), segmentation metrics, video evaluation,
predictions to CSV. Pure functions of predictions, labels or ``(apply_fn, variables, x)``."""
