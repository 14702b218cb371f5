#!/usr/bin/env bash
# ./scripts/deploy/deploy_lambda.sh --env dev|stage [--dry-run]
# Guarded deploy: pre_deploy snapshot, cdk deploy of the commit's assembly, smoke test, rollback on failure.
# A thin wrapper: the implementation is scripts/deploy/deploy.py (vectora_ops.promotion); --help lists the
# options. It runs this checkout's own code with its .venv (PYTHONPATH: the checkout's packages).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ ! -x "$root/.venv/bin/python" ]]; then
  echo "error: $root/.venv is missing: run \`make install\` first" >&2
  exit 1
fi
export PYTHONPATH="$root:$root/layers/vectora_core/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$root/.venv/bin/python" "$root/scripts/deploy/deploy.py" "$@"
