#!/usr/bin/env bash
# Re-vendor the browser libraries from the npm registry into static/vendor/.
# The hall runs offline, so these files are committed; run this only to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKET_IO=socket.io-client@4.8.4
CHART_JS=chart.js@4.6.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$SOCKET_IO" "$CHART_JS" >/dev/null && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
cp "$work"/socket.io-client-*/package/dist/socket.io.min.js static/vendor/socket.io.min.js
cp "$work"/socket.io-client-*/package/LICENSE static/vendor/socket.io.LICENSE
cp "$work"/chart.js-*/package/dist/chart.umd.min.js static/vendor/chart.umd.min.js
cp "$work"/chart.js-*/package/LICENSE.md static/vendor/chart.js.LICENSE.md
echo "vendored $SOCKET_IO and $CHART_JS into static/vendor/"
