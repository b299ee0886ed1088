#!/usr/bin/env bash
# Run every test: set up the environment with the test extras, then pytest (pass pytest options through).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
