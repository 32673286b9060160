# Shared by scripts/demo and scripts/test: finds or starts the PostgreSQL they use.
# With DATABASE_URL set, that server is used as it is. Otherwise a private cluster lives
# under .pg/ in the repository (git-ignored), run as the postgres user (PostgreSQL refuses
# root), on 127.0.0.1:${CINEVAULT_PG_PORT:-55432}. A second run reuses a running cluster.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
PG_PORT="${CINEVAULT_PG_PORT:-55432}"

log() { printf '==> %s\n' "$*" >&2; }

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$d" ] || [ ! -x "$d/pg_ctl" ]; then
        return 1
    fi
    printf '%s\n' "$d"
}

install_postgres() {
    if pg_bindir >/dev/null; then
        return 0
    fi
    log "installing PostgreSQL (Debian's postgresql package)"
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL server binaries are missing; run as root or install the postgresql package" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    APT_UPDATED=1
    apt-get install -y -qq postgresql >/dev/null
    pg_bindir >/dev/null || { echo "postgresql installed but pg_ctl not found" >&2; exit 1; }
}

# Installs a Debian package when the command it provides is missing.
ensure_command() {
    local cmd="$1" pkg="$2"
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "$cmd is missing; install Debian's $pkg package" >&2
        exit 1
    fi
    log "installing $pkg (for $cmd)"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    command -v "$cmd" >/dev/null 2>&1 || { echo "$pkg installed but $cmd not found" >&2; exit 1; }
}

# Runs a command as the postgres user when we are root; as ourselves otherwise.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# The cluster lives under .pg/ unless the postgres user cannot reach the repository
# (a checkout under /root, say): then under /var/tmp, keyed by the repository path.
pg_home() {
    local dir="$REPO/.pg"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        if ! (cd / && runuser -u postgres -- test -w "$dir"); then
            dir="/var/tmp/cinevault-analytics-pg/$(printf '%s' "$REPO" | cksum | cut -d' ' -f1)"
            mkdir -p "$dir"
            chown postgres: "$dir"
            chmod 755 /var/tmp/cinevault-analytics-pg
        fi
    fi
    printf '%s\n' "$dir"
}

# Sets BASE_URL to a URL of the server's maintenance database (for creating databases).
ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then
        BASE_URL="$DATABASE_URL"
        return 0
    fi
    install_postgres
    local bin home
    bin=$(pg_bindir)
    home=$(pg_home)
    if [ ! -f "$home/data/PG_VERSION" ]; then
        log "creating a private PostgreSQL cluster in $home/data"
        as_pg "$bin/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 --no-locale >"$home/initdb.log" 2>&1 \
            || { cat "$home/initdb.log" >&2; exit 1; }
    fi
    mkdir -p "$home/socket"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$home/socket"
    if ! as_pg "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        as_pg "$bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $home/socket -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
            || { tail -n 30 "$home/postgres.log" >&2; exit 1; }
    fi
    BASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

# psql against BASE_URL's server.
pg_sql() {
    psql "$BASE_URL" -v ON_ERROR_STOP=1 -qtAX -c "$1"
}
