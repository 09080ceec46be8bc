#!/usr/bin/env bash
# Makes sure the local RabbitMQ (with its management API on 15672) and PostgreSQL that the
# services and the tests use are up: starts whichever is stopped, and enables RabbitMQ's
# management plugin. Quick and idempotent when both already run.
#
#   bash scripts/infra/ensure-services.sh            # start what is installed but stopped
#   bash scripts/infra/ensure-services.sh --install  # also install what is missing (apt, Debian
#                                                    # or Ubuntu; as root), as CI does
#
# A PostgreSQL this script installs is set up for local development: the user postgres may
# connect from 127.0.0.1 without a password (trust), as the default DATABASE_URL expects. An
# existing PostgreSQL is never reconfigured; the script says what to change instead.
set -u
log() { printf '[services] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }
install=0
[ "${1:-}" = "--install" ] && install=1
cd /tmp || exit 1 # the rabbitmq wrappers switch user and need a readable directory
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
ls /etc/postgresql/*/main >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$install" = 0 ]; then
    fail "not installed: ${missing[*]}. Install with: bash scripts/infra/ensure-services.sh --install (apt-get install ${missing[*]})"
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq >&2 || fail "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
    fail "apt-get install ${missing[*]} failed"
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      log "letting postgres connect from 127.0.0.1 without a password (development) in $hba"
      as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
fi

if ! timeout 20 rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting RabbitMQ"
  as_root rabbitmq-server -detached >/dev/null 2>&1
  ok=0
  for _ in $(seq 1 60); do
    timeout 60 rabbitmqctl -q await_startup >/dev/null 2>&1 && { ok=1; break; }
    sleep 2
  done
  [ "$ok" = 1 ] || fail "RabbitMQ did not start; see /var/log/rabbitmq/"
fi
if ! curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1; then
  log "enabling the management plugin"
  as_root rabbitmq-plugins -q enable rabbitmq_management >/dev/null 2>&1
  for _ in $(seq 1 30); do
    curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
  curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 ||
    fail "RabbitMQ's management API does not answer on 127.0.0.1:15672"
fi

if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  log "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -q || fail "PostgreSQL does not answer on 127.0.0.1:5432"
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
  fail "PostgreSQL answers, but user postgres cannot connect from 127.0.0.1 without a password: set DATABASE_URL (and TEST_DATABASE_ADMIN_URL for the tests) with a password, or allow trust for 127.0.0.1 in pg_hba.conf on a development machine"
fi
log "RabbitMQ and PostgreSQL are up"
