#!/usr/bin/env bash
# The tests use PostgreSQL (127.0.0.1:5432, database "test", trust auth) for the
# task store and the scaled-out mode, and Redis (127.0.0.1:6379) as Celery's
# broker. Start each if it is installed but stopped.
set -euo pipefail

start_postgres() {
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && return 0
    if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
        for _ in $(seq 1 30); do
            pg_isready -h 127.0.0.1 -p 5432 -q && return 0
            sleep 1
        done
    fi
    echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it, or point PI_TEST_POSTGRES_URL at one." >&2
    return 1
}

start_redis() {
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
    if command -v redis-server >/dev/null; then
        mkdir -p /var/lib/redis /var/log/redis
        # As this machine's own Redis runs: nothing kept on disk.
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log
        for _ in $(seq 1 30); do
            redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
            sleep 1
        done
    fi
    echo "Redis is not answering on 127.0.0.1:6379: install redis-server (Debian's package) or start it." >&2
    return 1
}

start_postgres
start_redis
