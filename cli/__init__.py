"""The `carepress` command line: a thin front-end over generator/."""
