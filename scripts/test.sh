#!/usr/bin/env bash
# Run the whole suite on SQLite and on PostgreSQL, the two at once (one per core; set
# TEST_SERIAL=1 to run them one after the other). PostgreSQL is a throwaway cluster started here,
# or the server named by TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_ALLOW_ASYNC_UNSAFE=true

start_throwaway_postgres() {
  local initdb port  # pgbin, pgdir and as_pg stay global: stop_pg runs at exit
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
  TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/clientela"
}

[ -n "${TEST_POSTGRES_URL:-}" ] || start_throwaway_postgres

if [ -n "${TEST_SERIAL:-}" ]; then
  echo "=== tests on SQLite ==="
  DATABASE_URL= "$BIN/pytest" "$@"
  echo "=== tests on PostgreSQL ==="
  DATABASE_URL="$TEST_POSTGRES_URL" "$BIN/pytest" "$@"
  exit
fi

# Both at once: each writes its own log, shown whole when it ends, so the two never interleave.
logs=$(mktemp -d /tmp/clientela-test-logs.XXXXXX)
DATABASE_URL= "$BIN/pytest" "$@" >"$logs/sqlite" 2>&1 &
sqlite_pid=$!
DATABASE_URL="$TEST_POSTGRES_URL" "$BIN/pytest" "$@" >"$logs/postgresql" 2>&1 &
postgresql_pid=$!
echo "Running the suite on SQLite and PostgreSQL at once (logs in $logs)..."
status=0
wait "$sqlite_pid" || status=1
echo "=== tests on SQLite ==="
cat "$logs/sqlite"
wait "$postgresql_pid" || status=1
echo "=== tests on PostgreSQL ==="
cat "$logs/postgresql"
rm -rf "$logs"
exit $status
