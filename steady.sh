#!/usr/bin/env bash
# Run Steady: set up the environment, build the index, serve the app on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/steady ingest
exec .venv/bin/steady serve "$@"
