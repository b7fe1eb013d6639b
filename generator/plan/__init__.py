"""The plan stage: which documents exist, what each reads, and its inputs hash."""
