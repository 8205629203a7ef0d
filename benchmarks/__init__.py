"""Side-by-side performance measurements, each with its own command (not tests)."""
