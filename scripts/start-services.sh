#!/usr/bin/env bash
# The task-store tests also run on PostgreSQL (127.0.0.1:5432, database "test",
# trust auth). Start the local cluster if it is installed but stopped.
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    exit 0
fi
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 30); do
        pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
        sleep 1
    done
fi
echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it, or point PI_TEST_POSTGRES_URL at one." >&2
exit 1
