#!/usr/bin/env bash
# CLN's `pi` program (Debian package `pi`), one of the benchmark's peers.
# Optional: bench/engine.py leaves it out when it is not installed.
set -uo pipefail
command -v pi >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "bench: CLN's pi is not installed (sudo apt-get install -y pi); its row is left out." >&2
    exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pi >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pi >/dev/null 2>&1; } \
    || echo "bench: could not install CLN's pi; its row is left out." >&2
exit 0
