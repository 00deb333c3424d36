#!/usr/bin/env bash
# Makes sure a local PostgreSQL 15 runs and holds a role and a database for distmt's cluster tests,
# then prints the URL to use on stdout (the only thing printed on stdout; messages go to stderr):
#
#   DISTMT_TEST_DB="$(tools/postgres.sh)" npm test
#
# Idempotent: installs Debian's `postgresql` package only when missing (needs root), starts the
# cluster `15 main` only when it is down, creates the role and the database only when absent.
# When it cannot (not root and not installed, no apt, the server does not start) it prints one line
# saying why to stderr and exits 1.
#
# Settings (environment): DISTMT_PG_ROLE (distmt), DISTMT_PG_PASSWORD (distmt-test),
# DISTMT_PG_DATABASE (distmt_test), DISTMT_PG_PORT (5432). The password is a test password for a
# server that listens on 127.0.0.1 only (Debian's default `listen_addresses = 'localhost'`).
set -uo pipefail

role="${DISTMT_PG_ROLE:-distmt}"
password="${DISTMT_PG_PASSWORD:-distmt-test}"
database="${DISTMT_PG_DATABASE:-distmt_test}"
port="${DISTMT_PG_PORT:-5432}"
version=15
cluster=main

fail() { echo "tools/postgres.sh: $*" >&2; exit 1; }
say() { echo "tools/postgres.sh: $*" >&2; }

url="postgres://$role:$password@127.0.0.1:$port/$database"
login_ok() {
  command -v psql >/dev/null 2>&1 &&
    PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 psql -X -q -h 127.0.0.1 -p "$port" -U "$role" -d "$database" -tAc "SELECT 1" >/dev/null 2>&1
}

# 0. Already set up and running: nothing to do, and no rights needed.
if login_ok; then echo "$url"; exit 0; fi

# Everything below needs root, or the `postgres` OS user (peer authentication over the Unix socket).
if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
  fail "PostgreSQL is not ready for distmt at 127.0.0.1:$port and I am not root: run 'sudo tools/postgres.sh'"
fi
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# 1. Installed?
if ! [ -x "/usr/lib/postgresql/$version/bin/postgres" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || fail "PostgreSQL $version is not installed and I am not root: run 'sudo tools/postgres.sh' (or 'sudo apt-get install -y postgresql')"
  command -v apt-get >/dev/null 2>&1 || fail "PostgreSQL $version is not installed and there is no apt-get: install PostgreSQL $version yourself, then rerun"
  say "installing PostgreSQL (apt-get install -y postgresql)…"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 \
    || fail "apt-get install postgresql failed (no network or no package?); install PostgreSQL $version yourself, then rerun"
  [ -x "/usr/lib/postgresql/$version/bin/postgres" ] || fail "apt installed a PostgreSQL other than $version; set up $version or adapt this script"
fi

# 2. Cluster exists and is running? (`pg_lsclusters` columns: Ver Cluster Port Status …)
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
  [ "$(id -u)" -eq 0 ] || fail "no PostgreSQL cluster $version/$cluster and I am not root: run 'sudo pg_createcluster $version $cluster'"
  say "creating cluster $version/$cluster…"
  pg_createcluster "$version" "$cluster" >&2 || fail "pg_createcluster $version $cluster failed"
fi
status="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
actual_port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"
[ "$actual_port" = "$port" ] || fail "cluster $version/$cluster listens on port $actual_port, not $port: set DISTMT_PG_PORT=$actual_port"
if [ "$status" != online ]; then
  say "starting PostgreSQL $version/$cluster…"
  # --skip-systemctl-redirect: there is no systemd in containers; pg_ctlcluster starts it directly.
  if [ "$(id -u)" -eq 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2
  else
    as_postgres pg_ctlcluster "$version" "$cluster" start >&2
  fi || fail "PostgreSQL $version/$cluster did not start; see /var/log/postgresql/postgresql-$version-$cluster.log"
fi

# 3. Ready to accept connections (bounded wait: 30 × 0.5 s).
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || fail "PostgreSQL does not accept connections on 127.0.0.1:$port; see /var/log/postgresql/postgresql-$version-$cluster.log"

# 4. Role and database (CREATEDB is not needed; the role owns its database, so it may run the
#    cluster's migrations, which create tables).
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
has_role="$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" || fail "cannot query PostgreSQL as the postgres user"
if [ "$has_role" != 1 ]; then
  say "creating role $role…"
  psql_admin -c "CREATE ROLE \"$role\" LOGIN PASSWORD '$password'" >&2 || fail "cannot create role $role"
else
  # Keep the password in step with the one we print (idempotent).
  psql_admin -c "ALTER ROLE \"$role\" LOGIN PASSWORD '$password'" >&2 || fail "cannot set the password of role $role"
fi
has_db="$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")"
if [ "$has_db" != 1 ]; then
  say "creating database $database…"
  psql_admin -c "CREATE DATABASE \"$database\" OWNER \"$role\"" >&2 || fail "cannot create database $database"
fi

# Check the URL really works over TCP with a password (what the runners do).
login_ok || fail "cannot log in as $role over TCP (check that pg_hba.conf allows md5/scram-sha-256 for 127.0.0.1)"
echo "$url"
