"""The quality checks beside the pipeline: reading grade, doorway pages, redlines."""
