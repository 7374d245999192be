# Shared set-up for scripts/demo and scripts/test: a virtual environment with gasguard,
# and (as root, on Debian) the system packages that are missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APT_UPDATED=0

say() { printf '[gasguard setup] %s\n' "$*"; }
die() { printf '[gasguard setup] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

apt_install() {
  is_root && command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# require_binary BINARY PACKAGE: install PACKAGE when BINARY is missing, or fail saying so.
require_binary() {
  have "$1" && return 0
  apt_install "$2" || die "$1 is missing and cannot be installed here: run 'apt-get install -y $2' as root"
  have "$1" || die "$1 still missing after installing $2"
}

# require_package PACKAGE: install a Debian package that provides no binary (fonts).
require_package() {
  dpkg -s "$1" >/dev/null 2>&1 && return 0
  apt_install "$1" || say "WARNING: $1 is missing and cannot be installed here"
}

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

ensure_venv() {
  local extras="$1" python="${PYTHON:-python3}"
  command -v "$python" >/dev/null 2>&1 || apt_install python3 python3-venv || die "python3 (3.11+) is missing"
  python_ok "$python" || die "gasguard needs Python 3.11 or newer ($python is $("$python" -V 2>&1))"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      apt_install python3-venv python3-pip || die "cannot create a virtual environment: install python3-venv"
      "$python" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.gasguard-installed" want
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)$extras"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing gasguard${extras:+ with [$extras]} into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}"
    echo "$want" > "$stamp"
  fi
}

postgres_reachable() {
  "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys, psycopg
with psycopg.connect(sys.argv[1], connect_timeout=3) as c:
    c.execute("SELECT 1")
PY
}

# ensure_postgres: GASGUARD_TEST_PG_URL reachable, or (root, Debian) a local server made so.
ensure_postgres() {
  export GASGUARD_TEST_PG_URL="${GASGUARD_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
  postgres_reachable "$GASGUARD_TEST_PG_URL" && return 0
  say "PostgreSQL not reachable at $GASGUARD_TEST_PG_URL; setting up a local server"
  have pg_ctlcluster || apt_install postgresql \
    || die "PostgreSQL is required: run 'apt-get install -y postgresql' as root or set GASGUARD_TEST_PG_URL"
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'gasguard-test'" >/dev/null
  runuser -u postgres -- psql -qtc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || runuser -u postgres -- createdb test
  export GASGUARD_TEST_PG_URL="postgresql://postgres:gasguard-test@127.0.0.1:5432/test"
  postgres_reachable "$GASGUARD_TEST_PG_URL" || die "PostgreSQL still not reachable at $GASGUARD_TEST_PG_URL"
}
