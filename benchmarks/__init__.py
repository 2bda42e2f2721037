"""Benchmarks: ``python -m benchmarks.NAME`` (see benchmarks/README.md); results/ holds their reports."""
