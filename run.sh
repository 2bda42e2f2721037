#!/usr/bin/env bash
# One entry point for people and CI. On first use (and whenever pyproject.toml or requirements/
# change) it builds .venv with Python 3.11 or 3.12, installs the library (editable) and the
# harness's pinned requirements into it, then runs the command.
#
#   ./run.sh train [flags]   train the byte-level language model (python -m train --help)
#   ./run.sh test            everything CI checks: ruff, mypy, the test suite, and the built
#                            wheel tested in clean venvs at the oldest and newest versions
#   ./run.sh test ARGS       only pytest, with ARGS (e.g. -m slow, or tests/warmup_jax -k cosine)
#   ./run.sh schedule ...    preview a schedule (python -m warmup_jax --help)
#   ./run.sh python ...      the project's Python, for anything else (python -m benchmarks.all)
set -euo pipefail
cd "$(dirname "$0")"

venv=.venv
stamp="$venv/.installed-from"

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "run.sh: needs Python 3.11 or 3.12 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

ensure_venv() {
  local want
  want=$(cat pyproject.toml requirements/*.txt | sha256sum | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "run.sh: setting up $venv (first run only; about a minute)..." >&2
  if [ ! -x "$venv/bin/python" ]; then
    "$(find_python)" -m venv "$venv"
  fi
  # pip's and setuptools' chatter goes to a log, shown only if the install fails.
  if ! { "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
    "$venv/bin/python" -m pip install --disable-pip-version-check \
      -r requirements/harness.txt -r requirements/dev.txt -e .; } >"$venv/install.log" 2>&1; then
    cat "$venv/install.log" >&2
    echo "run.sh: installing into $venv failed (log above, also in $venv/install.log)" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  train) ensure_venv; exec "$venv/bin/python" -m train "$@" ;;
  test)
    ensure_venv
    [ $# -eq 0 ] || exec "$venv/bin/python" -m pytest "$@"
    echo "run.sh: ruff (lint and format) on everything, mypy on warmup_jax/" >&2
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    "$venv/bin/mypy" -p warmup_jax
    echo "run.sh: the test suite" >&2
    "$venv/bin/python" -m pytest
    .ci/library-envs minimum newest
    ;;
  schedule) ensure_venv; exec "$venv/bin/python" -m warmup_jax "$@" ;;
  python) ensure_venv; exec "$venv/bin/python" "$@" ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$command" ] || { echo "run.sh: unknown command '$command'" >&2; exit 2; }
    ;;
esac
