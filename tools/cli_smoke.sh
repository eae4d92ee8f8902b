#!/usr/bin/env bash
# A clean `pip install .` (no extras, so no click, no pytest) must give a working command line:
# help, a one-line usage error with exit code 2 and no traceback, and `cadence init`.
set -euo pipefail
PYTHON="${PYTHON:-python3.11}"
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# build from a copy: an in-tree build would leave build/ and *.egg-info in a tree others work in
mkdir "$tmp/src"
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$here" && git ls-files -z --cached --others --exclude-standard -- pyproject.toml README.md src \
    | xargs -0 cp --parents -t "$tmp/src")
else
  cp -r "$here/pyproject.toml" "$here/README.md" "$here/src" "$tmp/src/"
fi
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$tmp/src"
cadence="$tmp/venv/bin/cadence"

"$cadence" --help >/dev/null
if "$tmp/venv/bin/python" -c "import click" 2>/dev/null; then
  echo "cli-smoke: note: click is installed in the clean venv (typer older than 0.29?)"
fi
set +e
"$cadence" nosuch >"$tmp/out" 2>"$tmp/err"; status=$?
set -e
if [ "$status" -ne 2 ] || grep -q Traceback "$tmp/err" || ! grep -q "No such command" "$tmp/err"; then
  echo "cli-smoke: \`cadence nosuch\` should exit 2 with one line and the usage; got exit $status:"; cat "$tmp/err"
  exit 1
fi
"$cadence" init "$tmp/ws" --company "Smoke Test" >/dev/null
test -f "$tmp/ws/cadence.yml"
"$cadence" -w "$tmp/ws" check >/dev/null
echo "cli-smoke: a clean \`pip install .\` gives a working cadence (help, usage errors, init, check)"
