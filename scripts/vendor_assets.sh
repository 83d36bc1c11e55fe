#!/usr/bin/env bash
# Re-vendor the browser libraries from the npm registry into static/vendor/.
# The hall runs offline, so these files are committed; run this only to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKET_IO=socket.io-client@4.8.4
CHART_JS=chart.js@4.6.1
SWAGGER_UI=swagger-ui-dist@5.35.0
KEYBOARD=simple-keyboard@3.8.192
KEYBOARD_LAYOUTS=simple-keyboard-layouts@3.4.265
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$SOCKET_IO" "$CHART_JS" "$SWAGGER_UI" "$KEYBOARD" "$KEYBOARD_LAYOUTS" >/dev/null && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
cp "$work"/socket.io-client-*/package/dist/socket.io.min.js static/vendor/socket.io.min.js
cp "$work"/socket.io-client-*/package/LICENSE static/vendor/socket.io.LICENSE
cp "$work"/chart.js-*/package/dist/chart.umd.min.js static/vendor/chart.umd.min.js
cp "$work"/chart.js-*/package/LICENSE.md static/vendor/chart.js.LICENSE.md
mkdir -p static/vendor/swagger-ui
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$work"/swagger-ui-dist-*/package/$f static/vendor/swagger-ui/$f
done
# The bundle's last line names its source map, which is not vendored.
sed -i '/^\/\/# sourceMappingURL=/d' static/vendor/swagger-ui/swagger-ui-bundle.js
# The kiosk's on-screen keyboard, and its Chinese layout with pinyin candidates: the layout
# ships as an ES module only, so its one "export default" becomes a global for a plain script.
mkdir -p static/vendor/simple-keyboard
cp "$work"/simple-keyboard-3*/package/build/index.js static/vendor/simple-keyboard/index.js
cp "$work"/simple-keyboard-3*/package/build/css/index.css static/vendor/simple-keyboard/index.css
cp "$work"/simple-keyboard-3*/package/LICENSE static/vendor/simple-keyboard/LICENSE
sed 's/^export default {/window.SimpleKeyboardChinese = {/' \
  "$work"/simple-keyboard-layouts-*/package/build/layouts/chinese.js \
  > static/vendor/simple-keyboard/chinese.js
cp "$work"/simple-keyboard-layouts-*/package/LICENSE static/vendor/simple-keyboard/LICENSE.layouts
echo "vendored $SOCKET_IO, $CHART_JS, $SWAGGER_UI, $KEYBOARD and $KEYBOARD_LAYOUTS into static/vendor/"
