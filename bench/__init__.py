"""Benchmarks: commands that print figures and ratios (never timed assertions in tests)."""
