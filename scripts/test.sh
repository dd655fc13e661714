#!/usr/bin/env bash
# Set up (if needed), lint, type-check and run the whole test suite: `bash scripts/test.sh`
# Tests use the real PostgreSQL at 127.0.0.1:5432 (database `test` for administration; override
# with VIGIL_TEST_POSTGRES_URL) and SQLite; the other services start on loopback from fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
started=$(date +%s)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
.venv/bin/pytest "$@"
echo "lint + types + tests took $(( $(date +%s) - started )) s"
