"""Benchmarks of the advisor against baselines measured in the same run: ``python -m bench.run``."""
