"""The content stage: the schema, loading a tree, its references, logos, translations and
changes from outside."""
