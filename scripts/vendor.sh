#!/usr/bin/env bash
# Refresh the pinned front-end files under src/clientela/web/static/vendor from the npm registry.
# There is no build step: the files are committed, and this script is the only way they change.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/clientela/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch PACKAGE@VERSION: unpack the npm tarball into $work/PACKAGE
  local spec=$1 name=${1%@*}
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
  mkdir -p "$work/$name"
  tar -xzf "$work"/"${name//\//-}"-*.tgz -C "$work/$name" --strip-components=1
}

fetch htmx.org@2.0.9
fetch bootstrap@5.3.9
fetch bootstrap-icons@1.13.1
fetch alpinejs@3.15.0
fetch sortablejs@1.15.6
fetch chart.js@4.5.1

rm -rf "$dest" && mkdir -p "$dest/bootstrap" "$dest/bootstrap-icons/fonts"
cp "$work/htmx.org/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$work/bootstrap/dist/css/bootstrap.min.css" "$dest/bootstrap/"
cp "$work/bootstrap/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap/"
cp "$work/bootstrap-icons/font/bootstrap-icons.min.css" "$dest/bootstrap-icons/"
cp "$work/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$dest/bootstrap-icons/fonts/"
cp "$work/alpinejs/dist/cdn.min.js" "$dest/alpine.min.js"
cp "$work/sortablejs/Sortable.min.js" "$dest/Sortable.min.js"
cp "$work/chart.js/dist/chart.umd.min.js" "$dest/chart.umd.min.js"
cat > "$dest/VERSIONS" <<VERSIONS
htmx.org 2.0.9
bootstrap 5.3.9
bootstrap-icons 1.13.1
alpinejs 3.15.0
sortablejs 1.15.6
chart.js 4.5.1
VERSIONS
echo "vendored into $dest"
