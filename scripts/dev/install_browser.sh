#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium (/usr/bin/chromium), which the newsletter rendering
# tests drive. Does nothing when it is already there. Needs root (CI and the dev machines run as
# root); the browser comes from Debian's packages, never from a download of its own.
#
# Usage: scripts/dev/install_browser.sh
# Exit status: 0 = Chromium is there, 1 = it could not be installed, 2 = bad command line.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ $# -ne 0 ]]; then
    echo "error: install_browser.sh takes no argument (got: $*)" >&2
    exit 2
fi

if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi

fail() {
    echo "error: cannot install Chromium ($1); the browser tests (tests/render) will fail." \
        "Install Debian's 'chromium' package as root: apt-get update && apt-get install chromium" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || fail "not root"
command -v apt-get >/dev/null || fail "no apt-get: not a Debian machine"

export DEBIAN_FRONTEND=noninteractive
echo "Installing Chromium from Debian's packages (one-off, ~1-2 min)..."
# A fresh machine has no package lists yet: update first, or 'chromium' is not found.
apt-get update -qq >/dev/null || fail "apt-get update failed"
# fonts-liberation: metric-compatible Arial/Helvetica, so the page renders as in mail clients.
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null \
    || fail "apt-get install chromium failed"
[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM is missing after the install"
"$CHROMIUM" --version
