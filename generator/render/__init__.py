"""The render stage: one planned document to its files (HTML, print HTML, PDF)."""
