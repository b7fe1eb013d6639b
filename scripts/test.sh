#!/usr/bin/env bash
# Lint, type-check and run the whole test suite. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-redis.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest "$@"
