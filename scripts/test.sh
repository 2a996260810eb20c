#!/usr/bin/env bash
# Run maskroom's tests from a clean clone: installs the system packages the tests
# need (PostgreSQL, exiftool, Qt's offscreen libraries), a virtualenv with the
# package and its test extras, then runs the whole suite on SQLite and the catalog
# tests a second time against a throw-away PostgreSQL on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql libimage-exiftool-perl libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libxcb-cursor0 fonts-dejavu-core)
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=${MASKROOM_TEST_VENV:-.venv-test}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q -e '.[test]'

export QT_QPA_PLATFORM=offscreen
status=0
# The house plan (docs/architecture.md): imports go one way.
python -m tools.lint_imports || status=$?
python -m pytest -q "$@" || status=$?

# PostgreSQL: the catalog tests once more against a real server.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$PG_BIN" ] && [ -z "${MASKROOM_SKIP_PG:-}" ]; then
  PGDIR=$(mktemp -d /tmp/maskroom-pg.XXXXXX)
  PGPORT=${MASKROOM_PG_PORT:-54329}
  RUNAS=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDIR"; RUNAS=(runuser -u postgres --); fi
  "${RUNAS[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -U maskroom --auth=trust >/dev/null
  "${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGDIR -c fsync=off" start >/dev/null
  trap '"${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U maskroom maskroom_test
  echo "catalog tests on PostgreSQL (port $PGPORT)"
  MASKROOM_TEST_DB="postgresql+psycopg://maskroom@127.0.0.1:$PGPORT/maskroom_test" \
    python -m pytest -q -m catalog "$@" || status=$?
else
  echo "PostgreSQL not available: catalog tests ran on SQLite only" >&2
  [ -n "${CI:-}" ] && status=1
fi
exit $status
