#!/usr/bin/env bash
# nginx, which tests/test_slow_clients.py runs in front of gunicorn with deploy/nginx.conf (Debian's package).
set -euo pipefail
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "The slow-client test of make web needs nginx. Install it with:" >&2
    echo "    sudo apt-get install -y nginx-light" >&2
    exit 1
fi
apt-get update -qq
# Installed only, never started as a service: the test starts its own.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends nginx-light
