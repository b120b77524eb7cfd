#!/usr/bin/env bash
# Vendor @scalar/api-reference's browser bundle into static/vendor/scalar/.
#
#   scripts/vendor_scalar.sh            # re-fetch the pinned version (check)
#   scripts/vendor_scalar.sh 1.77.0     # move the pin to another version
#
# Needs `npm` (only to fetch the tarball from the registry; nothing is
# installed). After a version change: update the version in
# static/vendor/scalar/README.md, open /api/docs/ and check the page still
# mounts and makes no request outside the portal (see README there).
set -euo pipefail

VERSION="${1:-1.76.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/vendor/scalar"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm pack --silent "@scalar/api-reference@${VERSION}" >/dev/null
tar xzf scalar-api-reference-"${VERSION}".tgz
test -f package/dist/browser/standalone.js || {
    echo "package ${VERSION} has no dist/browser/standalone.js" >&2; exit 1; }
got="$(node -p "require('./package/package.json').version")"
test "$got" = "$VERSION" || { echo "npm gave $got, not $VERSION" >&2; exit 1; }

mkdir -p "$DEST"
cp package/dist/browser/standalone.js "$DEST/standalone.js"
echo "vendored @scalar/api-reference@${VERSION}"
echo "  size:   $(wc -c < "$DEST/standalone.js") bytes"
echo "  sha256: $(sha256sum "$DEST/standalone.js" | cut -d' ' -f1)"
echo "outside hosts named in the bundle (fonts.scalar.com is only used when withDefaultFonts is true):"
grep -oE 'https://[a-z0-9.-]+\.scalar\.com' "$DEST/standalone.js" | sort | uniq -c
