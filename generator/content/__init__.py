"""The content stage: what a content file must hold (schema, fields), the content kinds (kinds),
reading and checking a tree (loading, references, translating, yamlfiles) into a ContentTree
(tree), logos (logos, svg_allowlist), the translation overlay format (translations), consent
hashes, brand contrast, and changes from outside (changes)."""
