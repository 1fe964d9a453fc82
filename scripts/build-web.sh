#!/bin/sh
# Builds the panels' static files from web/ into OUT (build/web): the JS
# modules bundled and minified into app.js, app.css minified, the pages
# and icons copied, and a .gz beside each for clients that take gzip; the
# webmail the same way from web/mail/ into OUT/mail (DOMPurify bundled
# from node_modules).
# esbuild is Debian's package (scripts/deps.sh build installs it).
set -e
cd "$(dirname "$0")/.."
out=${1:-build/web}
esbuild=$(command -v esbuild) ||
	{ echo "web: esbuild is missing (scripts/deps.sh build installs Debian's package)" >&2; exit 1; }
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$esbuild" web/src/main.js --bundle --minify --format=esm --target=es2020 \
	--legal-comments=none --log-level=warning --outfile="$tmp/app.js"
"$esbuild" web/app.css --minify --log-level=warning --outfile="$tmp/app.css"
cp web/index.html web/favicon.svg "$tmp/"
# the webmail (/mail/): its own page and bundle, DOMPurify from node_modules
[ -d node_modules/dompurify ] ||
	{ echo "web: node_modules/dompurify is missing (make node-modules)" >&2; exit 1; }
mkdir -p "$tmp/mail"
"$esbuild" web/mail/src/main.js --bundle --minify --format=esm --target=es2020 \
	--legal-comments=none --log-level=warning --outfile="$tmp/mail/app.js"
"$esbuild" web/mail/app.css --minify --log-level=warning --outfile="$tmp/mail/app.css"
cp web/mail/index.html "$tmp/mail/"
for f in "$tmp"/* "$tmp"/mail/*; do
	[ -f "$f" ] || continue
	gzip -9 -n -c "$f" >"$f.gz"
done
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
