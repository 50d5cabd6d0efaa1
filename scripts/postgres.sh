#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on loopback, in a folder of its own.
#
#   bash scripts/postgres.sh start FOLDER   # installs PostgreSQL with apt if missing; prints the URL
#                                           # (port 5433, or the next free one)
#   bash scripts/postgres.sh stop FOLDER
#
# The suite runs on it when ADVENT_TEST_POSTGRES_URL holds the URL printed by `start`
# (see tests/postgres_mode.py). Durability is switched off: the server holds test data only,
# and the crash tests kill clients, never the server.
set -euo pipefail
action=${1:?start or stop}
folder=${2:?a folder for the server}
port=${ADVENT_TEST_POSTGRES_PORT:-5433}

free_port() {
    # The first port from $port up that nothing listens on (a developer's own server, another run).
    local candidate=$1
    while (exec 3<> "/dev/tcp/127.0.0.1/${candidate}") 2> /dev/null; do
        candidate=$((candidate + 1))
    done
    echo "${candidate}"
}

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
    [[ -n ${found} && -x ${found}/postgres ]] && echo "${found}"
}

as_owner() {
    # initdb and postgres refuse to run as root; the apt package makes the postgres user.
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case ${action} in
start)
    if ! bin_dir > /dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq > /dev/null && apt-get install -y -qq postgresql < /dev/null > /dev/null
    fi
    bin=$(bin_dir)
    port=$(free_port "${port}")
    mkdir -p "${folder}"
    [[ $(id -u) == 0 ]] && chown postgres "${folder}"
    as_owner "${bin}/initdb" -D "${folder}/data" -U postgres -A trust -E UTF8 --locale C.UTF-8 > /dev/null
    as_owner "${bin}/pg_ctl" -D "${folder}/data" -l "${folder}/server.log" -w start -o \
        "-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=200" > /dev/null
    as_owner "${bin}/createdb" -h 127.0.0.1 -p "${port}" -U postgres advent_test
    echo "postgresql://postgres@127.0.0.1:${port}/advent_test"
    ;;
stop)
    bin=$(bin_dir)
    as_owner "${bin}/pg_ctl" -D "${folder}/data" -m immediate stop > /dev/null || true
    ;;
*)
    echo "usage: $0 start|stop FOLDER" >&2
    exit 2
    ;;
esac
