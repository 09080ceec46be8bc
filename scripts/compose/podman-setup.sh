#!/usr/bin/env bash
# =============================================================================
# podman-setup.sh -- build and run the project's Dockerfiles and compose files
# on this machine with rootful podman, without a container registry
# (npm run test:compose runs it; it came from the workplace's shared tools and
# now lives here, with a RabbitMQ 4.0 stand-in)
# =============================================================================
#
# WHAT IT DOES (as root; idempotent, safe to re-run):
#   1. apt-get installs podman, buildah, runc (+ crun, conmon, slirp4netns,
#      uidmap, fuse-overlayfs, CNI plugins with dnsname, catatonit,
#      debootstrap); with `infra` or INSTALL_COMPOSE=1 also docker-compose 1.29.
#   2. Writes /etc/containers/containers.conf and a registries.conf.d drop-in
#      that make rootful podman work in this VM:
#        runtime = runc (crun 1.8: "cgroups in hybrid mode not supported");
#        default_ulimits nofile=<hard limit>, nproc<=32768 (podman's 1048576:
#        "setrlimit RLIMIT_NOFILE: Operation not permitted");
#        cgroup_manager = cgroupfs, events_logger = file (no systemd);
#        short names ("node:20-slim") resolve to docker.io without a prompt.
#      Storage driver stays overlay; STORAGE_DRIVER=vfs forces vfs (~15x
#      slower; only applied while storage is empty).
#   3. No container registry is reachable, so it builds LOCAL STAND-IN base
#      images under the official names; Dockerfiles resolve them unmodified
#      with --pull=never:
#        debian:bookworm-slim (= debian:12-slim): debootstrap minbase, trimmed
#          like debian-slim.
#        node:<MAJOR>-slim (= node:<MAJOR>-bookworm-slim, node:<version>-slim):
#          the debian stand-in + the host's Node.js (node, npm, corepack,
#          headers) in /usr/local, yarn 1.22.22, user node 1000:1000,
#          docker-entrypoint.sh, CMD ["node"].
#      Not in the official images: the host's extra CA certificates
#      (/usr/local/share/ca-certificates/*.crt, e.g. a TLS-intercepting
#      proxy's) are baked in, and the node image sets NODE_EXTRA_CA_CERTS=
#      /usr/local/share/host-extra-ca.pem (inherited by images built FROM it).
#   4. `infra` (or INFRA=1) adds stand-ins for compose infrastructure, built
#      from Debian packages.  FOR LOCAL TESTING ONLY -- versions differ from
#      the official images a project runs elsewhere (RabbitMQ 4.0 from Debian
#      trixie, as compose names rabbitmq:4.0; PostgreSQL 15; a small fake
#      instead of Mailpit):
#        localhost/rabbitmq-standin:4.0-management (also :latest)
#        localhost/postgres-standin:15
#        localhost/mailpit-standin:latest
#   Images are built when missing, when FORCE=1, or when their recipe here
#   (or their base image) changed.
#
# USAGE (from the project root)
#   bash scripts/compose/podman-setup.sh           # podman + base images (~1 min)
#   bash scripts/compose/podman-setup.sh infra     # + compose and infra stand-ins
#   bash scripts/compose/podman-setup.sh service   # start the API for docker-compose
#   eval "$(bash scripts/compose/podman-setup.sh env)"  # DOCKER_HOST + *_IMAGE
#   bash scripts/compose/podman-setup.sh service-stop
#   FORCE=1 ...     rebuild the stand-in images      SKIP_IMAGES=1 ... podman only
#   EXTRA_NODE_TAGS="node:20 node:lts-slim" ...       more names for the node image
#   INSTALL_DOCKER_SHIM=1 ...  podman-docker: a `docker` command that runs podman
#   NPM_VERSION=10.8.2 FORCE=1 ...  npm from the registry instead of the host's
#     (official node:20 images ship npm 10.x)
#
# BUILD AND RUN A DOCKERFILE
#   podman build --pull=never --format docker -t myapp:test .
#     --format docker keeps HEALTHCHECK/SHELL/STOPSIGNAL (OCI format drops
#     them).  RUN steps reach the network through the default bridge (npm ci,
#     apt-get work); add --network=host if one needs a service on 127.0.0.1.
#   podman run -d --name myapp --network=host -e PORT=8080 myapp:test
#   curl -fsS http://127.0.0.1:8080/health; podman logs myapp; podman rm -f myapp
#   --network=host reaches host services on 127.0.0.1 (RabbitMQ, PostgreSQL).
#   Bridge mode (-p 18080:8080) works, but 127.0.0.1-only host services are
#   unreachable from it; --network slirp4netns:allow_host_loopback=true
#   reaches them as 10.0.2.2.  A FROM image without a stand-in fails fast:
#   "creating build container: alpine:3.20: image not known".
#   node as PID 1 ignores SIGTERM (as with docker): use `podman run --init`.
#   HEALTHCHECKs run only while `service` runs (see COMPOSE); otherwise run
#   one by hand: podman healthcheck run myapp (exit 0 = healthy).
#   "unable to get systemd connection to add healthchecks" is noise.
#
# COMPOSE (docker-compose 1.29 against podman's Docker-compatible API)
#   Take infrastructure images from variables whose defaults are the official
#   images, so the same file runs here and elsewhere:
#     rabbitmq:  image: ${RABBITMQ_IMAGE:-rabbitmq:4-management}
#     postgres:  image: ${POSTGRES_IMAGE:-postgres:16}
#     mailpit:   image: ${MAILPIT_IMAGE:-axllent/mailpit:latest}
#   `env` prints DOCKER_HOST=unix:///run/podman/podman.sock and
#   RABBITMQ_IMAGE=localhost/rabbitmq-standin:management,
#   POSTGRES_IMAGE=localhost/postgres-standin:15,
#   MAILPIT_IMAGE=localhost/mailpit-standin:latest; then
#     docker-compose up -d --build; docker-compose ps; docker-compose down -v -t 5
#   Works: config, build (multi-stage), bridge networks with service-name DNS,
#   ports, volumes, healthchecks, depends_on with condition: service_healthy,
#   network_mode: host.
#   Quirks:
#   - podman 4.3 runs healthchecks from systemd timers; there is no systemd
#     here, so `service` also starts a health runner that runs
#     `podman healthcheck run` for each running container at its interval.
#     Without it health stays "starting" and service_healthy waits forever.
#   - A healthcheck ["CMD", "node", "-e", "a b"] gets its arguments split on
#     spaces by the API: use ["CMD-SHELL", "..."] (or arguments without spaces).
#   - The host's own services hold 127.0.0.1:4369, 5432, 5672, 15672 and 25672:
#     publish stand-in ports on other host ports ("35672:15672") or not at all;
#     containers reach each other by service name.
#   - docker-compose 1.29 rejects newer compose keys: top-level name: and
#     include:, depends_on restart:/required:, healthcheck start_interval:.
#     (condition: service_healthy / service_completed_successfully work.)
#   - podman-compose 1.0.3 (apt) has no `config` and fails with network_mode:
#     host; use docker-compose.
#
# INFRASTRUCTURE STAND-INS (differences from the official images)
#   rabbitmq-standin: rabbitmq-server 4.0 (Debian trixie's, on the bookworm
#     base) + management and prometheus
#     plugins, entrypoint like the official image's: runs as rabbitmq (uid 999)
#     in the foreground as PID 1 (SIGTERM stops it cleanly); 5672 and 15672 on
#     all interfaces; RABBITMQ_DEFAULT_USER/_PASS/_VHOST (guest is allowed
#     from the network); reads mounted /etc/rabbitmq/rabbitmq.conf,
#     /etc/rabbitmq/conf.d/*.conf (so load_definitions = /etc/rabbitmq/
#     definitions.json works) and /etc/rabbitmq/enabled_plugins.  As in the
#     official image the node is rabbit@<hostname>: compose sets `hostname:`
#     (a cluster's nodes find each other by it, and a volume keeps its data).
#     Healthcheck: rabbitmq-diagnostics -q ping (the node is up; AMQP opens a
#     few seconds later, so clients should retry) or, stricter,
#     rabbitmq-diagnostics -q check_port_connectivity.  With load_definitions
#     RabbitMQ does not create RABBITMQ_DEFAULT_USER: define users there.
#     `down -t 5` may kill it before it stops; harmless for throwaway data.
#   postgres-standin: Debian postgresql-15, entrypoint modelled on the official
#     one: initdb into PGDATA=/var/lib/postgresql/data on first start with
#     POSTGRES_USER/_PASSWORD/_DB/_INITDB_ARGS (or *_FILE), runs
#     /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz once, then postgres as
#     user postgres (uid 999) as PID 1 (STOPSIGNAL SIGINT), listen_addresses
#     '*', non-local connections need a password (POSTGRES_HOST_AUTH_METHOD,
#     default scram-sha-256).  Healthcheck: pg_isready -U <user>; unlike the
#     official image it fails while the init scripts run (private socket).
#   mailpit-standin: small Node.js server, messages in memory: SMTP on 1025
#     (no TLS; no auth needed, any credentials accepted); HTTP on 8025:
#     GET /api/v1/messages (?start=&limit=), /api/v1/search?query= (to:,
#     from:, cc:, subject:, words), /api/v1/message/<ID|latest>[/raw],
#     DELETE /api/v1/messages ({"IDs":[...]} or all), /livez, /readyz; no
#     web UI.  `/mailpit readyz` works as a healthcheck; flags are ignored.
#
# DISK: /var/lib/containers/storage: ~0.26 GB with the base images, ~0.7 GB
#   with the stand-ins (own layers: rabbitmq 104 MB, postgres 310 MB, mailpit
#   9 MB; `podman images` counts the shared base layers in each image).
#   Remove everything: podman system reset -f
# TIME: first run ~1 min, `infra` ~1.5 min; re-run with all images ~3 s.
# =============================================================================
set -euo pipefail

FORCE=${FORCE:-0}
SKIP_IMAGES=${SKIP_IMAGES:-0}
INFRA=${INFRA:-0}
INSTALL_DOCKER_SHIM=${INSTALL_DOCKER_SHIM:-0}
STORAGE_DRIVER=${STORAGE_DRIVER:-}
SUITE=${SUITE:-bookworm}
YARN_VERSION=${YARN_VERSION:-1.22.22}
NPM_VERSION=${NPM_VERSION:-}          # empty = copy the host's npm
EXTRA_NODE_TAGS=${EXTRA_NODE_TAGS:-}
WORKDIR=${WORKDIR:-/var/tmp/podman-setup}
LABEL_NS=local.podman-setup
BASE_RECIPE=2                         # bump to rebuild the base images
RABBITMQ_STANDIN=localhost/rabbitmq-standin:4.0-management
POSTGRES_STANDIN=localhost/postgres-standin:15
MAILPIT_STANDIN=localhost/mailpit-standin:latest
SOCK=/run/podman/podman.sock
SVC_PID=/run/podman-setup-service.pid
HEALTH_PID=/run/podman-setup-health.pid
SELF=$(readlink -f "${BASH_SOURCE[0]}")

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
# pid_is PIDFILE TEXT: the pid in PIDFILE runs and its command line contains TEXT
pid_is() {
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [[ "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" == *"$2"* ]]
}

# Runs `podman healthcheck run` for every running container that has a
# healthcheck, once per its interval (first run one interval after it is seen,
# as docker does).  podman 4.3 would use systemd timers, absent here.
health_runner() {
  set +eu
  echo $$ > "$HEALTH_PID"
  declare -A due=() every=() job=() seen=()
  local now id iv j
  while :; do
    now=$(date +%s); seen=()
    for id in $(podman ps -q --filter health=starting --filter health=healthy \
                  --filter health=unhealthy 2>/dev/null); do
      seen[$id]=1
      if [ -z "${due[$id]:-}" ]; then
        iv=$(podman inspect --format '{{.Config.Healthcheck.Interval.Seconds}}' "$id" 2>/dev/null || echo 0)
        case $iv in 0|'') iv=30;; 0.*) iv=1;; *) iv=${iv%.*};; esac
        every[$id]=$iv; due[$id]=$((now + iv))
      elif [ "$now" -ge "${due[$id]}" ]; then
        j=${job[$id]:-}
        if [ -z "$j" ] || ! kill -0 "$j" 2>/dev/null; then
          [ -n "$j" ] && wait "$j" 2>/dev/null   # reap the previous check
          podman healthcheck run "$id" >/dev/null 2>&1 & job[$id]=$!
          due[$id]=$((now + every[$id]))
        fi
      fi
    done
    for id in "${!due[@]}"; do
      [ -n "${seen[$id]:-}" ] || unset "due[$id]" "every[$id]" "job[$id]"
    done
    sleep 1
  done
}

# ------------------------------------------------------------- subcommands
case "${1:-setup}" in
  env)
    cat <<EOF
export DOCKER_HOST=unix://$SOCK
export RABBITMQ_IMAGE=$RABBITMQ_STANDIN
export POSTGRES_IMAGE=$POSTGRES_STANDIN
export MAILPIT_IMAGE=$MAILPIT_STANDIN
EOF
    exit 0;;
esac

[ "$(id -u)" = 0 ] || die "run as root (rootful podman is what is configured here)"
T0=$(date +%s)

case "${1:-setup}" in
  service)
    if curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
      echo "podman API already answering on $SOCK"
    else
      mkdir -p /run/podman
      nohup podman system service --time=0 "unix://$SOCK" >/var/log/podman-service.log 2>&1 &
      echo $! > "$SVC_PID"
      for _ in $(seq 1 50); do
        curl -fsS --max-time 1 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.2
      done
      curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null || die "service did not come up (see /var/log/podman-service.log)"
      echo "podman API started (pid $(cat "$SVC_PID")) on $SOCK"
    fi
    if pid_is "$HEALTH_PID" health-runner; then
      echo "health runner already running (pid $(cat "$HEALTH_PID"))"
    else
      rm -f "$HEALTH_PID"
      setsid bash "$SELF" health-runner </dev/null >/var/log/podman-health.log 2>&1 &
      for _ in $(seq 1 20); do [ -s "$HEALTH_PID" ] && break; sleep 0.1; done
      echo "health runner started (pid $(cat "$HEALTH_PID" 2>/dev/null))"
    fi
    command -v docker-compose >/dev/null || echo "docker-compose is not installed: run \`$0 infra\` or INSTALL_COMPOSE=1 $0"
    echo "export DOCKER_HOST=unix://$SOCK"; exit 0;;
  service-stop)
    # only a process that still is what its pid file says
    for f in "$HEALTH_PID:health-runner" "$SVC_PID:system service"; do
      if pid_is "${f%%:*}" "${f#*:}" && kill "$(cat "${f%%:*}")"; then
        echo "stopped ${f#*:} (pid $(cat "${f%%:*}"))"
      fi
      rm -f "${f%%:*}"
    done
    exit 0;;
  health-runner) health_runner; exit 0;;
  infra) INFRA=1;;
  setup) ;;
  *) die "usage: $0 [setup|infra|env|service|service-stop]";;
esac
INSTALL_COMPOSE=${INSTALL_COMPOSE:-$INFRA}

# ---------------------------------------------------------------- 1. packages
PKGS=(podman buildah runc crun conmon fuse-overlayfs slirp4netns uidmap
      containernetworking-plugins golang-github-containernetworking-plugin-dnsname
      catatonit debootstrap iptables)
[ "$INSTALL_COMPOSE" = 1 ] && PKGS+=(docker-compose)
[ "$INSTALL_DOCKER_SHIM" = 1 ] && PKGS+=(podman-docker)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  # refresh package lists if older than 6h
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin -360 2>/dev/null | head -1)" ]; then
    apt-get update -q
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "packages already installed"
fi

# ------------------------------------------------------------- 2. configure
log "writing /etc/containers/containers.conf"
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu);  { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
mkdir -p /etc/containers/registries.conf.d
cat > /etc/containers/containers.conf <<EOF
# written by podman-setup.sh -- see the header of that script
[containers]
# podman's root default (1048576) exceeds this VM's hard limit and
# CAP_SYS_RESOURCE is missing -> "setrlimit RLIMIT_NOFILE: Operation not permitted"
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
# crun 1.8.1: "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"
runtime = "runc"
EOF
cat > /etc/containers/registries.conf.d/50-podman-setup.conf <<'EOF'
# written by podman-setup.sh: resolve short names like "node:20-slim" to
# docker.io (as docker does) without an interactive prompt.  No registry is
# reachable from this machine: build with --pull=never and local stand-ins.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF

if [ -n "$STORAGE_DRIVER" ]; then
  if [ -z "$(podman images -q 2>/dev/null)" ] && [ -z "$(podman ps -aq 2>/dev/null)" ]; then
    log "setting storage driver to $STORAGE_DRIVER"
    cat > /etc/containers/storage.conf <<EOF
[storage]
driver = "$STORAGE_DRIVER"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
    podman system reset -f >/dev/null 2>&1 || true
  else
    echo "WARN: storage not empty; not switching driver (podman system reset -f first)" >&2
  fi
fi

podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}} cgroups={{.Host.CgroupsVersion}}' \
  || die "podman info failed"

# ------------------------------------------------------ 3. stand-in images
if [ "$SKIP_IMAGES" = 1 ]; then
  log "SKIP_IMAGES=1: done in $(( $(date +%s) - T0 ))s"; exit 0
fi

label() { podman image inspect --format "{{ index .Labels \"${LABEL_NS}.$2\" }}" "$1" 2>/dev/null || true; }
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# drop a replaced image unless something (image/container) still uses it
drop_old() { [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ] && podman rmi "$1" >/dev/null 2>&1 || true; }

mkdir -p "$WORKDIR"
trap 'rm -rf "$WORKDIR"' EXIT

# mirror: first URI apt uses for the main archive
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2}' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
                   | grep -v security | head -1)}
SECURITY_MIRROR=${SECURITY_MIRROR:-$(awk '/^URIs:/{print $2}' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
                   | grep security | head -1)}
[ -n "$MIRROR" ] || { echo "podman-setup: no Debian mirror found in /etc/apt/sources.list.d/debian.sources; set MIRROR" >&2; exit 1; }
SECURITY_MIRROR=${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}

DEB_TAGS=(docker.io/library/debian:${SUITE}-slim localhost/debian:${SUITE}-slim)
[ "$SUITE" = bookworm ] && DEB_TAGS+=(docker.io/library/debian:12-slim)

if [ "$FORCE" = 1 ] || [ "$(label "${DEB_TAGS[0]}" recipe)" != "$BASE_RECIPE" ]; then
  log "debootstrap --variant=minbase $SUITE from $MIRROR"
  R="$WORKDIR/rootfs"
  rm -rf "$R"
  debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" > "$WORKDIR/debootstrap.log" 2>&1 \
    || { tail -20 "$WORKDIR/debootstrap.log"; die "debootstrap failed"; }

  log "trimming rootfs like debian:*-slim"
  mkdir -p "$R/etc/dpkg/dpkg.cfg.d" "$R/etc/apt/apt.conf.d" "$R/etc/apt/sources.list.d"
  cat > "$R/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat > "$R/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$R/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$R/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'Apt::AutoRemove::SuggestsImportant "false";\n' > "$R/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$R/etc/apt/sources.list"
  cat > "$R/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${MIRROR}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${SECURITY_MIRROR}
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$R"/usr/share/{man,groff,info,lintian,linda}/* 2>/dev/null || true
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb \
         "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/var/log/*.log \
         "$R"/var/log/apt/* "$R"/tmp/* "$R"/root/.bash_history
  mkdir -p "$R/var/lib/apt/lists/partial"
  : > "$R/etc/resolv.conf"; : > "$R/etc/machine-id"; rm -f "$R/etc/hostname"
  # the host's extra CA certificates: picked up by update-ca-certificates if a
  # Dockerfile installs ca-certificates; the bundle is used by NODE_EXTRA_CA_CERTS
  mkdir -p "$R/usr/local/share/ca-certificates"
  : > "$R/usr/local/share/host-extra-ca.pem"
  for c in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$c" ] || continue
    cp -L "$c" "$R/usr/local/share/ca-certificates/"
    cat "$c" >> "$R/usr/local/share/host-extra-ca.pem"
  done

  log "importing rootfs"
  old_deb=$(image_id "${DEB_TAGS[0]}")
  tar --numeric-owner -C "$R" -cf - . | podman import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL ${LABEL_NS}.standin=debian-${SUITE}-slim" \
      --change "LABEL ${LABEL_NS}.recipe=${BASE_RECIPE}" \
      - "${DEB_TAGS[0]}" >/dev/null
  for t in "${DEB_TAGS[@]:1}"; do podman tag "${DEB_TAGS[0]}" "$t"; done
  drop_old "$old_deb" "${DEB_TAGS[0]}"
  rm -rf "$R" "$WORKDIR/debootstrap.log"
else
  log "${DEB_TAGS[0]} exists (FORCE=1 to rebuild)"
  for t in "${DEB_TAGS[@]:1}"; do podman tag "${DEB_TAGS[0]}" "$t"; done
fi
DEB_ID=$(image_id "${DEB_TAGS[0]}")

# ------------------------------------------------------------- node image
NODE_BIN=$(readlink -f "$(command -v node)") || die "host has no node"
NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node')
NODE_MAJOR=${NODE_VERSION%%.*}
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")
NODE_MODULES=$NODE_PREFIX/lib/node_modules
[ -d "$NODE_MODULES/npm" ] || NODE_MODULES=$(npm root -g)
# A node from the npm registry (scripts/infra/ensure-node.sh) has no npm beside it: take the
# folder of the npm on PATH (.../node_modules/npm/bin/npm-cli.js).
if [ ! -d "$NODE_MODULES/npm" ] && command -v npm >/dev/null 2>&1; then
  NODE_MODULES=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")")
fi
[ -d "$NODE_MODULES/npm" ] || die "cannot find host npm (looked in $NODE_MODULES)"

NODE_TAGS=(docker.io/library/node:${NODE_MAJOR}-slim localhost/node:${NODE_MAJOR}-slim
           docker.io/library/node:${NODE_MAJOR}-${SUITE}-slim
           docker.io/library/node:${NODE_VERSION}-slim)
for t in $EXTRA_NODE_TAGS; do
  case $t in */*) NODE_TAGS+=("$t");; *) NODE_TAGS+=("docker.io/library/$t");; esac
done

node_recipe="$NODE_VERSION/${NPM_VERSION:-host}/$BASE_RECIPE/${DEB_ID:0:12}"
if [ "$FORCE" = 1 ] || [ "$(label "${NODE_TAGS[0]}" recipe)" != "$node_recipe" ]; then
  log "building node:${NODE_MAJOR}-slim stand-in from host node v$NODE_VERSION ($NODE_BIN, $NODE_MODULES)"
  C="$WORKDIR/node-ctx"
  rm -rf "$C"; mkdir -p "$C/node/bin" "$C/node/lib/node_modules" "$C/node/include" "$C/yarn"
  cp -a "$NODE_BIN" "$C/node/bin/node"
  for m in npm corepack; do
    [ -d "$NODE_MODULES/$m" ] && cp -a "$NODE_MODULES/$m" "$C/node/lib/node_modules/"
  done
  if [ -n "$NPM_VERSION" ]; then
    log "replacing host npm with npm@$NPM_VERSION from the registry"
    (cd "$WORKDIR" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) || die "npm pack npm@$NPM_VERSION failed"
    rm -rf "$C/node/lib/node_modules/npm"; mkdir -p "$C/node/lib/node_modules/npm"
    tar -xzf "$WORKDIR/npm-$NPM_VERSION.tgz" -C "$C/node/lib/node_modules/npm" --strip-components=1
    rm -f "$WORKDIR/npm-$NPM_VERSION.tgz"
  fi
  [ -d "$NODE_PREFIX/include/node" ] && cp -a "$NODE_PREFIX/include/node" "$C/node/include/"
  # yarn classic, as in the official image (optional; needs the npm registry)
  if ! { (cd "$WORKDIR" && npm pack --silent "yarn@$YARN_VERSION" >/dev/null 2>&1) \
         && tar -xzf "$WORKDIR/yarn-$YARN_VERSION.tgz" -C "$C/yarn" --strip-components=1; }; then
    echo "WARN: could not fetch yarn@$YARN_VERSION from the npm registry; image will lack yarn" >&2
    rm -rf "$C/yarn"; mkdir -p "$C/yarn"
  fi
  rm -f "$WORKDIR/yarn-$YARN_VERSION.tgz"
  cat > "$C/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
  chmod 755 "$C/docker-entrypoint.sh"
  cat > "$C/Containerfile" <<EOF
FROM ${DEB_TAGS[0]}
LABEL ${LABEL_NS}.standin="node-${NODE_MAJOR}-${SUITE}-slim" ${LABEL_NS}.recipe="${node_recipe}"
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION ${NODE_VERSION}
COPY node/ /usr/local/
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && if [ -d /usr/local/lib/node_modules/corepack ]; then ln -sf ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack; fi \\
 && ln -sf /usr/local/bin/node /usr/local/bin/nodejs \\
 && node --version && npm --version
ENV YARN_VERSION ${YARN_VERSION}
COPY yarn/ /opt/yarn-v${YARN_VERSION}/
RUN if [ -f /opt/yarn-v\$YARN_VERSION/bin/yarn ]; then \\
      ln -s /opt/yarn-v\$YARN_VERSION/bin/yarn /usr/local/bin/yarn \\
   && ln -s /opt/yarn-v\$YARN_VERSION/bin/yarnpkg /usr/local/bin/yarnpkg \\
   && yarn --version; \\
    else rmdir /opt/yarn-v\$YARN_VERSION /opt 2>/dev/null || true; fi
# NOT in the official image: trust the host's extra CA certificates
ENV NODE_EXTRA_CA_CERTS /usr/local/share/host-extra-ca.pem
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD [ "node" ]
EOF
  old_id=$(image_id "${NODE_TAGS[0]}")
  podman build --pull=never --format docker --network=none --layers=false \
      -t "${NODE_TAGS[0]}" "$C"
  for t in "${NODE_TAGS[@]:1}"; do podman tag "${NODE_TAGS[0]}" "$t"; done
  drop_old "$old_id" "${NODE_TAGS[0]}"
  rm -rf "$C"
else
  log "${NODE_TAGS[0]} already built from host node v$NODE_VERSION (FORCE=1 to rebuild)"
  for t in "${NODE_TAGS[@]:1}"; do podman tag "${NODE_TAGS[0]}" "$t"; done
fi

# ------------------------------------------ 4. infrastructure stand-ins (infra)
# build_standin NAME CONTEXT TAG [MORE_TAGS...]: podman build unless TAG exists
# with the same recipe (hash of the context and of the base image id)
build_standin() {
  local name=$1 ctx=$2 tag=$3 base recipe old; shift 3
  base=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$ctx/Containerfile")
  recipe=$( { image_id "$base"; (cd "$ctx" && find . -type f | LC_ALL=C sort | xargs sha256sum); } \
            | sha256sum | cut -c1-16)
  if [ "$FORCE" != 1 ] && [ "$(label "$tag" recipe)" = "$recipe" ]; then
    log "$tag is up to date (FORCE=1 to rebuild)"
  else
    log "building $tag ($name)"
    old=$(image_id "$tag")
    podman build --pull=never --format docker --layers=false \
        --label "${LABEL_NS}.standin=$name" --label "${LABEL_NS}.recipe=$recipe" -t "$tag" "$ctx"
    drop_old "$old" "$tag"
  fi
  for t in "$@"; do podman tag "$tag" "$t"; done
}

# no services started by maintainer scripts while the image is built
POLICY_RC='printf "#!/bin/sh\\nexit 101\\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
APT_CLEAN='rm -rf /usr/sbin/policy-rc.d /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old'

if [ "$INFRA" = 1 ]; then
  # ---------------------------------------------------------- rabbitmq
  C="$WORKDIR/rabbitmq-ctx"; rm -rf "$C"; mkdir -p "$C"
  cat > "$C/Containerfile" <<EOF
FROM ${DEB_TAGS[0]}
# same uid/gid as the official image, so data volumes can be shared
RUN groupadd --system --gid 999 rabbitmq \\
 && useradd --system --uid 999 --gid rabbitmq --home-dir /var/lib/rabbitmq --no-create-home rabbitmq \\
 && ${POLICY_RC} \\
 && echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list \\
 && printf 'Package: *\\nPin: release n=trixie\\nPin-Priority: 100\\n' > /etc/apt/preferences.d/trixie \\
 && apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t trixie rabbitmq-server \\
 && ${APT_CLEAN} \\
 && rm -f /var/lib/rabbitmq/.erlang.cookie \\
 && mkdir -p /etc/rabbitmq/conf.d /var/log/rabbitmq \\
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq \\
 && ln -sf /var/lib/rabbitmq/.erlang.cookie /root/.erlang.cookie
COPY --chown=rabbitmq:rabbitmq etc/ /etc/rabbitmq/
COPY docker-entrypoint.sh /usr/local/bin/
# rabbit@<hostname>, as the official image: compose sets hostname: (and a cluster needs it)
ENV HOME=/var/lib/rabbitmq \\
    LANG=C.UTF-8 LANGUAGE=C.UTF-8 LC_ALL=C.UTF-8
VOLUME /var/lib/rabbitmq
EXPOSE 4369 5671 5672 15671 15672 15691 15692 25672
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rabbitmq-server"]
EOF
  mkdir -p "$C/etc/conf.d"
  echo '[rabbitmq_management,rabbitmq_prometheus].' > "$C/etc/enabled_plugins"
  cat > "$C/etc/conf.d/10-defaults.conf" <<'EOF'
## local stand-in image: defaults of the official image, not for production
## allow access to the guest user from anywhere on the network
loopback_users.guest = false
## send all logs to stdout, as containers do
log.console = true
EOF
  cat > "$C/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
# Entrypoint of the local RabbitMQ stand-in (Debian's rabbitmq-server), like
# the official image's: rabbitmq-server runs as user rabbitmq, in the
# foreground as PID 1; its start script stops the node cleanly on SIGTERM.
# RabbitMQ itself reads RABBITMQ_DEFAULT_USER/_PASS/_VHOST, rabbitmq.conf,
# conf.d/*.conf and enabled_plugins under /etc/rabbitmq.
set -euo pipefail
if [ "${1:0:1}" = - ]; then set -- rabbitmq-server "$@"; fi

if [ "$1" = rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /var/lib/rabbitmq /var/log/rabbitmq
  # a mounted volume may come owned by root
  find /var/lib/rabbitmq /var/log/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
  cookie=/var/lib/rabbitmq/.erlang.cookie
  if [ ! -s "$cookie" ]; then
    (umask 077; { LC_ALL=C tr -dc A-Z < /dev/urandom | head -c 20 || true; } > "$cookie")
    chown rabbitmq:rabbitmq "$cookie"
  fi
  chmod 400 "$cookie"
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = rabbitmq-server ]; then
  shift
  cd /var/lib/rabbitmq
  exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
EOF
  chmod 755 "$C/docker-entrypoint.sh"
  build_standin rabbitmq-4.0-management "$C" "$RABBITMQ_STANDIN" localhost/rabbitmq-standin:latest

  # ---------------------------------------------------------- postgres
  C="$WORKDIR/postgres-ctx"; rm -rf "$C"; mkdir -p "$C"
  cat > "$C/Containerfile" <<EOF
FROM ${DEB_TAGS[0]}
# same uid/gid as the official image, so data volumes can be shared
RUN groupadd --system --gid 999 postgres \\
 && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres \\
 && mkdir -p /var/lib/postgresql && chown -R postgres:postgres /var/lib/postgresql \\
 && ${POLICY_RC} \\
 && apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-common locales \\
 && sed -ri 's/#?(create_main_cluster) .*\$/\1 = false/' /etc/postgresql-common/createcluster.conf \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \\
 && ${APT_CLEAN} \\
 && localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8 \\
 && sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample \\
 && grep -F "listen_addresses = '*'" /usr/share/postgresql/15/postgresql.conf.sample \\
 && mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d \\
 && chown -R postgres:postgres /var/run/postgresql && chmod 3777 /var/run/postgresql
ENV PG_MAJOR=15 LANG=en_US.utf8 PGDATA=/var/lib/postgresql/data \\
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p "\$PGDATA" && chown -R postgres:postgres "\$PGDATA" && chmod 1777 "\$PGDATA"
VOLUME /var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
  cat > "$C/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
# Entrypoint of the local PostgreSQL stand-in (Debian's postgresql-15),
# modelled on the official image's: same variables, same first-start steps.
# Difference: the temporary server that runs the init scripts listens on a
# private socket only, so pg_isready (healthchecks) fails until the final
# server runs.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR, or the content of the file named by VAR_FILE
file_env() {
  local var=$1 fvar=${1}_FILE val=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then
    echo >&2 "error: both $var and $fvar are set (but are exclusive)"; exit 1
  fi
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!fvar:-}" ]; then val=$(< "${!fvar}"); fi
  export "$var"="$val"; unset "$fvar"
}
# used by init scripts too (sourced *.sh may call it, as with the official image)
docker_process_sql() {
  local run=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  [ -n "$POSTGRES_DB" ] && run+=(--dbname "$POSTGRES_DB")
  "${run[@]}" "$@"
}
want_help() {
  local a; for a; do case $a in -'?'|--help|--describe-config|-V|--version|-C) return 0;; esac; done; return 1
}

if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ] || want_help "$@"; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA" || :
  chmod 03775 /var/run/postgresql || :
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  # a mounted volume may come owned by root
  find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=}"

if [ -s "$PGDATA/PG_VERSION" ]; then
  echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
else
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'EOM'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
       (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a
       password; not recommended)
EOM
    exit 1
  fi
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    POSTGRES_INITDB_ARGS="$POSTGRES_INITDB_ARGS --waldir $POSTGRES_INITDB_WALDIR"
  fi
  # --pwfile refuses a really empty file, hence the "\n"
  eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
  # network connections: password (scram-sha-256 unless set otherwise); socket: trust
  : "${POSTGRES_HOST_AUTH_METHOD:=$(postgres -C password_encryption "${@:2}")}"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

  sock=$(mktemp -d /tmp/pg-init.XXXXXX)
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -w start -o "$(printf '%q ' \
      "${@:2}" -c listen_addresses= -c unix_socket_directories="$sock" -p "${PGPORT:-5432}")"
  export PGHOST=$sock PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  if [ "$POSTGRES_DB" != postgres ]; then
    db=$POSTGRES_DB
    POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" <<<'CREATE DATABASE :"db" ;'
  fi
  echo
  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) if [ -x "$f" ]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi;;
      *.sql) echo "$0: running $f"; docker_process_sql -f "$f"; echo;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo;;
      *.sql.xz) echo "$0: running $f"; xzcat "$f" | docker_process_sql; echo;;
      *) echo "$0: ignoring $f";;
    esac
  done
  shopt -u nullglob
  pg_ctl -D "$PGDATA" -m fast -w stop
  rm -rf "$sock"; unset PGHOST PGPASSWORD
  echo; echo 'PostgreSQL init process complete; ready for start up.'; echo
fi
exec "$@"
EOF
  chmod 755 "$C/docker-entrypoint.sh"
  build_standin postgres-15 "$C" "$POSTGRES_STANDIN"

  # ---------------------------------------------------------- mailpit
  C="$WORKDIR/mailpit-ctx"; rm -rf "$C"; mkdir -p "$C"
  cat > "$C/Containerfile" <<EOF
FROM ${NODE_TAGS[0]}
WORKDIR /opt/mailpit
COPY package.json ./
RUN npm install --omit=dev --no-audit --no-fund && rm -rf /root/.npm
COPY server.js ./
COPY mailpit /mailpit
ENV NODE_ENV=production
EXPOSE 1025 8025
HEALTHCHECK --interval=15s CMD ["/mailpit", "readyz"]
ENTRYPOINT ["/mailpit"]
EOF
  cat > "$C/package.json" <<'EOF'
{ "name": "mailpit-standin", "version": "1.0.0", "private": true,
  "dependencies": { "mailparser": "^3.7.0", "smtp-server": "^3.13.0" } }
EOF
  cat > "$C/mailpit" <<'EOF'
#!/bin/sh
# Mailpit stand-in: `/mailpit [flags]` serves (flags are ignored),
# `/mailpit readyz` or `/mailpit livez` checks the running server.
case "$1" in
  readyz|livez)
    port=${MP_UI_BIND_ADDR:-:8025}; port=${port##*:}
    exec node -e "fetch('http://127.0.0.1:$port/$1').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))";;
esac
exec node /opt/mailpit/server.js "$@"
EOF
  chmod 755 "$C/mailpit"
  cat > "$C/server.js" <<'EOF'
'use strict';
// Mailpit stand-in for local testing: accepts SMTP on 1025 (no auth required, any
// credentials accepted, no TLS) and serves a small part of Mailpit's HTTP API on 8025.
const http = require('node:http');
const crypto = require('node:crypto');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');

const bind = (v, def) => { const s = v || def, i = s.lastIndexOf(':'); return [Number(s.slice(i + 1)), s.slice(0, i) || '0.0.0.0']; };
const maxMessages = Number(process.env.MP_MAX_MESSAGES) || 500;
const messages = []; // newest first, like Mailpit

const addr = (a) => ({ Name: a.name || '', Address: a.address || '' });
const list = (f) => (f ? [].concat(f).flatMap((x) => x.value) : []).map(addr);

function store(raw, m, client) {
  const to = list(m.to), cc = list(m.cc), listed = new Set([...to, ...cc].map((a) => a.Address.toLowerCase()));
  const envelopeFrom = client.envelope.mailFrom ? client.envelope.mailFrom.address : '';
  const summary = {
    ID: crypto.randomBytes(16).toString('base64url'), MessageID: (m.messageId || '').replace(/^<|>$/g, ''), Read: false,
    From: m.from ? addr(m.from.value[0]) : { Name: '', Address: envelopeFrom }, To: to, Cc: cc,
    Bcc: client.envelope.rcptTo.map((r) => ({ Name: '', Address: r.address })).filter((a) => !listed.has(a.Address.toLowerCase())),
    ReplyTo: list(m.replyTo), Subject: m.subject || '', Created: new Date().toISOString(), Username: client.user || '',
    Tags: [], Size: raw.length, Attachments: m.attachments.length, Snippet: (m.text || '').replace(/\s+/g, ' ').trim().slice(0, 250),
  };
  messages.unshift({ summary, raw, m, envelopeFrom });
  if (messages.length > maxMessages) messages.length = maxMessages;
  console.log(`[smtp] accepted ${summary.ID} from ${summary.From.Address} to ${client.envelope.rcptTo.map((r) => r.address).join(', ')}: ${summary.Subject}`);
}

const smtp = new SMTPServer({
  authOptional: true, allowInsecureAuth: true, disabledCommands: ['STARTTLS'], banner: 'Mailpit stand-in', logger: false,
  onAuth(auth, client, cb) { cb(null, { user: auth.username }); },
  onData(stream, client, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => { const raw = Buffer.concat(chunks); simpleParser(raw).then((m) => { store(raw, m, client); cb(); }, cb); });
  },
});
smtp.on('error', (e) => console.error('[smtp]', e.message));

// Mailpit search syntax, reduced: to:, from:, cc:, subject:, message-id:, "quoted phrase", plain words; all must match
function matcher(query) {
  const terms = [...query.matchAll(/(?:([\w-]+):)?(?:"([^"]*)"|(\S+))/g)].map((t) => [(t[1] || '').toLowerCase(), (t[2] ?? t[3]).toLowerCase()]);
  const text = (as) => as.map((a) => `${a.Name} <${a.Address}>`).join(' ');
  return ({ summary: s, m }) => terms.every(([k, v]) => ({
    to: text(s.To), from: text([s.From]), cc: text(s.Cc), subject: s.Subject, 'message-id': s.MessageID,
  }[k] ?? `${text([s.From])} ${text(s.To)} ${text(s.Cc)} ${s.Subject} ${m.text || ''}`).toLowerCase().includes(v));
}

function detail({ summary: s, m, envelopeFrom }) {
  const { Attachments, Snippet, Created, ...rest } = s;
  return { ...rest, ReturnPath: envelopeFrom, Date: (m.date || new Date(Created)).toISOString(), Text: m.text || '', HTML: m.html || '',
    Inline: [], Attachments: m.attachments.map((a, i) => ({ PartID: String(i + 2), FileName: a.filename || '', ContentType: a.contentType, Size: a.size })) };
}

const web = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost'), p = url.pathname.replace(/\/+$/, '') || '/';
  const send = (code, body, type = 'application/json') => {
    res.writeHead(code, { 'content-type': type }); res.end(type === 'application/json' ? JSON.stringify(body) : body);
  };
  const find = (id) => (id === 'latest' ? messages[0] : messages.find((x) => x.summary.ID === id));
  if (p === '/livez' || p === '/readyz') return send(200, 'ok', 'text/plain');
  if (req.method === 'GET' && (p === '/api/v1/messages' || p === '/api/v1/search')) {
    const found = p.endsWith('search') ? messages.filter(matcher(url.searchParams.get('query') || '')) : messages;
    const start = Number(url.searchParams.get('start')) || 0, limit = Number(url.searchParams.get('limit')) || 50;
    const page = found.slice(start, start + limit).map((x) => x.summary);
    return send(200, { total: messages.length, unread: messages.filter((x) => !x.summary.Read).length, count: page.length,
      messages_count: found.length, start, tags: [], messages: page });
  }
  if (req.method === 'DELETE' && p === '/api/v1/messages') {
    let body = '';
    req.on('data', (c) => { body += c; });
    return req.on('end', () => {
      let ids = [];
      try { ids = (JSON.parse(body || '{}').IDs) || []; } catch { return send(400, 'invalid JSON', 'text/plain'); }
      const keep = ids.length ? messages.filter((x) => !ids.includes(x.summary.ID)) : [];
      messages.splice(0, messages.length, ...keep);
      send(200, 'ok', 'text/plain');
    });
  }
  const mm = req.method === 'GET' && p.match(/^\/api\/v1\/message\/([^/]+)(\/raw)?$/);
  const msg = mm && find(mm[1]);
  if (msg && mm[2]) return send(200, msg.raw, 'message/rfc822');
  if (msg) { msg.summary.Read = true; return send(200, detail(msg)); }
  if (p === '/') return send(200, `Mailpit stand-in: ${messages.length} message(s); see /api/v1/messages\n`, 'text/plain');
  send(404, 'not found', 'text/plain');
});

const [smtpPort, smtpHost] = bind(process.env.MP_SMTP_BIND_ADDR, '0.0.0.0:1025');
const [webPort, webHost] = bind(process.env.MP_UI_BIND_ADDR, '0.0.0.0:8025');
smtp.listen(smtpPort, smtpHost, () => console.log(`[smtp] starting on ${smtpHost}:${smtpPort}`));
web.listen(webPort, webHost, () => console.log(`[http] accessible via http://${webHost}:${webPort}/`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
EOF
  build_standin mailpit-fake "$C" "$MAILPIT_STANDIN"
fi

# replaced stand-ins that nothing uses any more
for id in $(podman images -q --filter dangling=true --filter "label=${LABEL_NS}.standin"); do
  podman rmi "$id" >/dev/null 2>&1 || true
done

# ---------------------------------------------------------------- 5. smoke
log "smoke test"
podman run --rm --pull=never "${NODE_TAGS[0]}" \
  sh -c 'echo "node $(node -v) npm $(npm -v) yarn $(yarn -v 2>/dev/null || echo -) user=$(id -un) $(id node)"'
if [ "$INFRA" = 1 ]; then
  podman run --rm --pull=never "$POSTGRES_STANDIN" postgres --version
  podman run --rm --pull=never --entrypoint sh "$RABBITMQ_STANDIN" -c \
    'echo "rabbitmq-server $(dpkg-query -W -f="\${Version}" rabbitmq-server), erlang $(dpkg-query -W -f="\${Version}" erlang-base)"'
  podman run --rm --pull=never --no-healthcheck --entrypoint node "$MAILPIT_STANDIN" \
    -e 'require("/opt/mailpit/node_modules/smtp-server"); require("/opt/mailpit/node_modules/mailparser"); console.log("mailpit stand-in modules ok")'
fi
podman images --filter "label=${LABEL_NS}.standin" \
  --format 'table {{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
echo "storage on disk: $(du -sh /var/lib/containers/storage 2>/dev/null | cut -f1)"
log "done in $(( $(date +%s) - T0 ))s"
[ "$INFRA" = 1 ] && echo "compose: bash $0 service && eval \"\$(bash $0 env)\"" >&2
exit 0
