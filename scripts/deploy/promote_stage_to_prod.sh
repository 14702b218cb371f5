#!/usr/bin/env bash
# ./scripts/deploy/promote_stage_to_prod.sh --client lai_weekly --approve [--dry-run]
# Promotion stage -> prod: the same, plus stage stable 14 days, a formal approval and the 48-hour watch.
# A thin wrapper: the implementation is scripts/deploy/promote.py (vectora_ops.promotion); --help lists the
# options. It runs this checkout's own code with its .venv (PYTHONPATH: the checkout's packages).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ ! -x "$root/.venv/bin/python" ]]; then
  echo "error: $root/.venv is missing: run \`make install\` first" >&2
  exit 1
fi
export PYTHONPATH="$root:$root/layers/vectora_core/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$root/.venv/bin/python" "$root/scripts/deploy/promote.py" stage prod "$@"
