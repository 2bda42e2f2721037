"""The benchmarks: their figures and reports."""
