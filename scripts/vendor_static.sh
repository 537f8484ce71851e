#!/usr/bin/env bash
# Re-create static/vendor/ from pinned npm packages, so the app runs on an intranet with no
# CDN. Only the dist files the templates load and each package's licence are copied;
# node_modules stays in a temporary directory and is never committed.
set -euo pipefail

HTMX_VERSION=2.0.11
LEAFLET_VERSION=1.9.4
ECHARTS_VERSION=6.1.0
PICO_VERSION=2.1.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

npm install --prefix "$WORK" --no-save --no-audit --no-fund --ignore-scripts \
  "htmx.org@$HTMX_VERSION" "leaflet@$LEAFLET_VERSION" "echarts@$ECHARTS_VERSION" \
  "@picocss/pico@$PICO_VERSION"
NM="$WORK/node_modules"

rm -rf "$VENDOR/htmx" "$VENDOR/leaflet" "$VENDOR/echarts" "$VENDOR/pico"
mkdir -p "$VENDOR/htmx" "$VENDOR/leaflet" "$VENDOR/echarts" "$VENDOR/pico"

cp "$NM/htmx.org/dist/htmx.min.js" "$NM/htmx.org/LICENSE" "$VENDOR/htmx/"

# leaflet.js ends with a sourceMappingURL: the map ships too, or collectstatic fails.
cp "$NM/leaflet/dist/leaflet.js" "$NM/leaflet/dist/leaflet.js.map" "$NM/leaflet/dist/leaflet.css" \
  "$NM/leaflet/LICENSE" "$VENDOR/leaflet/"
cp -r "$NM/leaflet/dist/images" "$VENDOR/leaflet/images"

cp "$NM/echarts/dist/echarts.min.js" "$NM/echarts/LICENSE" "$NM/echarts/NOTICE" \
  "$VENDOR/echarts/"

cp "$NM/@picocss/pico/css/pico.min.css" "$NM/@picocss/pico/LICENSE.md" "$VENDOR/pico/"

echo "Vendored into $VENDOR:"
(cd "$VENDOR" && find . -type f | sort)
