#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on a throwaway PostgreSQL cluster started here
# (or on the server named by TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_ALLOW_ASYNC_UNSAFE=true

echo "=== tests on SQLite ==="
DATABASE_URL= "$BIN/pytest" "$@"

echo "=== tests on PostgreSQL ==="
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  DATABASE_URL="$TEST_POSTGRES_URL" "$BIN/pytest" "$@"
  exit
fi

initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
[ -n "$initdb" ] || { echo "PostgreSQL is not installed (run 'make system-deps')." >&2; exit 1; }
pgbin=$(dirname "$initdb")
port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pgdir=$(mktemp -d /tmp/clientela-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then  # initdb refuses to run as root
  chown postgres:postgres "$pgdir"
  as_pg=(runuser -u postgres --)
fi
stop_pg() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_pg EXIT
"${as_pg[@]}" "$initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w start -o \
  "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
DATABASE_URL="postgres://postgres@127.0.0.1:$port/clientela" "$BIN/pytest" "$@"
