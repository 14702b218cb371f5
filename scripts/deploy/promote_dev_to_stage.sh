#!/usr/bin/env bash
# ./scripts/deploy/promote_dev_to_stage.sh --client lai_weekly --validate [--dry-run]
# Promotion dev -> stage: gates, pre_promotion snapshot of stage, dev's assembly and configs, smoke test.
# A thin wrapper: the implementation is scripts/deploy/promote.py (vectora_ops.promotion); --help lists the
# options. It runs this checkout's own code with its .venv (PYTHONPATH: the checkout's packages).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ ! -x "$root/.venv/bin/python" ]]; then
  echo "error: $root/.venv is missing: run \`make install\` first" >&2
  exit 1
fi
export PYTHONPATH="$root:$root/layers/vectora_core/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$root/.venv/bin/python" "$root/scripts/deploy/promote.py" dev stage "$@"
