#!/usr/bin/env bash
# Create .venv and install Steady into it. Idempotent: a second run with an unchanged
# pyproject.toml installs nothing. Usage: scripts/setup.sh [EXTRAS], e.g. "test".
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "Creating the Python environment in .venv ..." >&2
  "$python" -m venv .venv
fi
stamp=.venv/.steady-installed
wanted="$(sha256sum pyproject.toml | cut -c1-16) ${extras}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing Steady and its dependencies (a few minutes the first time) ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # torch first and pinned: 2.13.0 is the CPU build found on local disk; an unpinned torch
  # would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$wanted" > "$stamp"
fi
