#!/usr/bin/env bash
# Refreshes the vendored GOV.UK Frontend under static/govuk/ from the npm registry.
# Run by hand when moving to a new release (and bump govuk-frontend-jinja to the release
# that supports it); nothing is fetched when the console runs or is installed.
#
# The CSS is compiled here rather than copied: a council's service is not on GOV.UK, and
# the GDS Transport typeface and the crown are for GOV.UK only, so it is built with
# Arial (the Design System's advice for services off GOV.UK) and ships no fonts and none
# of the crown images.
set -euo pipefail
VERSION="${1:-6.3.0}"   # govuk-frontend-jinja 4.1.0 ports the macros of 6.3.0
SASS_VERSION="1.108.2"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm install --no-audit --no-fund --ignore-scripts --silent "govuk-frontend@$VERSION" "sass@$SASS_VERSION"
cat > console.scss <<'SCSS'
$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
$govuk-assets-path: "/static/govuk/assets/";
@import "node_modules/govuk-frontend/dist/govuk/index";
SCSS
npx --no-install sass --no-source-map --style=compressed --quiet-deps \
  --silence-deprecation=import console.scss govuk-frontend.min.css
dist="node_modules/govuk-frontend/dist/govuk"
out="$here/static/govuk"
find "$out" -mindepth 1 ! -name LICENSE.txt -delete 2>/dev/null || true
mkdir -p "$out"
cp govuk-frontend.min.css "$out/"
# LICENSE.txt (MIT, Crown Copyright) is kept in git beside the files: the package ships none.
cp "$dist/govuk-frontend.min.js" "$out/"
# Not the images: they are the crown and GOV.UK icons, for GOV.UK only (the console's
# pages use none of them).
echo "$VERSION" > "$out/VERSION"
echo "GOV.UK Frontend $VERSION vendored into $out"
