#!/usr/bin/env bash
# Run Steady: set up the environment, build the index, serve the app on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")"
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then  # help, not a ten-minute install
  echo "usage: ./steady.sh [steady serve options]"
  echo "Sets up .venv (first run only), builds the index, then serves Steady on http://127.0.0.1:7860."
  if [[ -x .venv/bin/steady ]]; then .venv/bin/steady serve --help; else echo "Options (e.g. --port 7861) go to 'steady serve'; run once to see them all."; fi
  exit 0
fi
scripts/setup.sh
.venv/bin/steady ingest
exec .venv/bin/steady serve "$@"
