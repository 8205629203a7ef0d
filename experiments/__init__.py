"""Entry points (absl) and their ml_collections configs."""
