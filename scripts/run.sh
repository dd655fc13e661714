#!/usr/bin/env bash
# Set up (if needed) and run the whole platform with embedded defaults: `bash scripts/run.sh`
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vigil up "$@"
