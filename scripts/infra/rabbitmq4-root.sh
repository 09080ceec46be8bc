#!/usr/bin/env bash
# Prints the path of a Debian trixie root holding RabbitMQ 4 (rabbitmq-server 4.0.x, Erlang 27),
# building it first when it is missing. Debian's current release (bookworm) ships 3.10 only;
# trixie's glibc is newer than bookworm's, so its Erlang runs in a chroot of its own, which the
# broker-node helper (libs/testing/src/broker-node.ts) starts nodes in. Needs root and about
# 700 MB; the first build takes one to two minutes, later calls print the path at once.
#
# Usage: bash scripts/infra/rabbitmq4-root.sh            # path on stdout, progress on stderr
#        RABBITMQ4_ROOT=/elsewhere bash scripts/infra/rabbitmq4-root.sh
set -euo pipefail
ROOT=${RABBITMQ4_ROOT:-/var/cache/commerce-events/rabbitmq4-trixie}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { printf '[rabbitmq4-root] %s\n' "$*" >&2; }

if [ -x "$ROOT/usr/lib/rabbitmq/bin/rabbitmq-server" ] && [ -f "$ROOT/.complete" ]; then
  echo "$ROOT"
  exit 0
fi
[ "$(id -u)" = 0 ] || { log "building $ROOT needs root"; exit 1; }
command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  apt-get update -qq >&2 && apt-get install -y -qq debootstrap >&2
}
rm -rf "$ROOT"
mkdir -p "$ROOT"
log "debootstrap trixie into $ROOT (about a minute)"
debootstrap --variant=minbase trixie "$ROOT" "$MIRROR" >&2
log "installing rabbitmq-server in the root"
chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends rabbitmq-server procps' >&2
# The package's own node must not start inside the root: nothing runs there but test nodes.
rm -f "$ROOT/etc/rabbitmq/enabled_plugins"
chroot "$ROOT" dpkg-query -W -f='${Version}\n' rabbitmq-server >"$ROOT/.complete"
log "RabbitMQ $(cat "$ROOT/.complete") ready in $ROOT"
echo "$ROOT"
