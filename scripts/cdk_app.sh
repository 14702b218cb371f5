#!/bin/sh
# What cdk.json runs: the CDK app (app.py) on the project's venv, or one line saying to install it.
#
# Without it, a cdk command before `make install` failed with the CLI's bare "Subprocess exited
# with error 127" (no .venv/bin/python). With the venv it replaces itself (exec) with the command
# cdk.json used to hold, `.venv/bin/python app.py` from the root, so the app gets the same
# arguments and the same environment and its output is unchanged. Plain sh, not python3: a
# version manager's python3 shim (pyenv) would change PATH and add variables before the app runs.
root=$(dirname -- "$(dirname -- "$0")")
if [ "$root" = . ]; then
    python=.venv/bin/python app=app.py
else
    python=$root/.venv/bin/python app=$root/app.py
fi
if [ ! -x "$python" ]; then
    echo "error: the project is not installed (no .venv/bin/python): run make install first" >&2
    exit 1
fi
exec "$python" "$app" "$@"
