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
wanted="$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16) ${extras}"
have="$(cat "$stamp" 2>/dev/null || true)"
# An install with the test extras also serves a plain run: no reinstall when switching commands.
if [ "$have" != "$wanted" ] && { [ -n "$extras" ] || [ "${have%% *}" != "${wanted%% *}" ]; }; then
  echo "Installing Steady and its dependencies (a few minutes the first time) ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # torch first and pinned: 2.13.0 is the CPU build found on local disk; an unpinned torch
  # would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
  find_links=()
  if [[ "$extras" == *test* ]]; then
    # llama-cpp-python ships no wheel: compile it once per machine (about 10 minutes on 2 cores)
    # into a cache that later installs reuse.
    wheels="${STEADY_WHEEL_CACHE:-$HOME/.cache/steady/wheels}"
    if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
      echo "Building llama-cpp-python once for the model tests (about 10 minutes) ..." >&2
      mkdir -p "$wheels"
      CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip wheel --quiet --no-deps -w "$wheels" llama-cpp-python==0.3.36
    fi
    find_links=(--find-links "$wheels")
  fi
  # requirements.lock pins every package to the version the tests passed with (as constraints: a plain
  # install still leaves the test tools out).
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${find_links[@]}" -c requirements.lock \
    -e ".${extras:+[$extras]}"
  echo "$wanted" > "$stamp"
fi
# The browser tests drive Debian's chromium (Playwright's own browser download can't be used here); the
# team-deployment tests (-m deploy) start Debian's PostgreSQL and nginx in temporary folders.
if [[ "$extras" == *test* ]]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian's ${missing[*]} for the tests ..." >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    # The packages start their own services; the tests run private ones on free ports instead.
    $sudo systemctl disable --now nginx postgresql >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
  fi
fi
# The page's accessibility checks inject axe-core (the npm package) into the page under test.
axe=.venv/axe/node_modules/axe-core/axe.min.js
if [[ "$extras" == *test* ]] && [ ! -f "$axe" ]; then
  echo "Installing axe-core for the accessibility tests ..." >&2
  if ! command -v npm >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm >/dev/null
  fi
  npm install --silent --no-audit --no-fund --prefix .venv/axe axe-core@4.14.1
fi
