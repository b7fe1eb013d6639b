"""carepress benchmark: `python bench/run.py [--quick]` (see bench/README.md)."""
