#!/usr/bin/env bash
# Chromium and its driver for the browser tests, from Debian's packages.
# dash[testing] pins selenium 4.2, which cannot download a driver itself.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "The browser tests need Chromium and ChromeDriver. Install them with:" >&2
    echo "    sudo apt-get install -y chromium chromium-driver" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
