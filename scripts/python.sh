#!/usr/bin/env bash
# Create the virtualenv with Python 3.12+: pyenv's choice from .python-version when pyenv is there,
# otherwise the newest python3.1x on PATH.
set -euo pipefail
venv=$1
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv which python 2>/dev/null || true)")
fi
candidates+=(python3.14 python3.13 python3.12 python3)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "Creating $venv with $("$candidate" --version)"
    "$candidate" -m venv "$venv"
    exit 0
  fi
done
echo "Clientela needs Python 3.12 or newer (Django 6). Install it (e.g. 'pyenv install 3.12') and retry." >&2
exit 1
