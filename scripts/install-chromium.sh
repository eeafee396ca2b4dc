#!/usr/bin/env bash
# Install headless Chromium from Debian's packages for the HTML report's browser test
# (tests/report/test_browser.py). Does nothing when /usr/bin/chromium already exists.
# Needs root (or passwordless sudo); non-interactive.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
    echo "[chromium] present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "[chromium] $CHROMIUM is missing and this is not root: run 'apt-get install chromium' as root" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "[chromium] installing Debian's chromium package (apt-get; about 100 MB)"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
"$CHROMIUM" --version
