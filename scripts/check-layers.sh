#!/bin/sh
# Fails when a lower layer includes a higher one (STYLE.md: lib <- mail <- proto, spam, sieve
# <- store, directory <- policy <- settings <- ops <- http <- server, ctl).
cd "$(dirname "$0")/.." || exit 1
rank() {
	case "$1" in
	lib) echo 0 ;; mail) echo 1 ;; proto|spam|sieve) echo 2 ;;
	store|directory) echo 3 ;; policy) echo 4 ;; settings) echo 5 ;; ops) echo 6 ;; http) echo 7 ;;
	server|ctl) echo 8 ;; *) echo 9 ;;
	esac
}
bad=0
for f in src/*/*.c src/*/*.h; do
	[ -e "$f" ] || continue
	layer=$(echo "$f" | cut -d/ -f2)
	mine=$(rank "$layer")
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f"); do
		theirs=$(rank "$inc")
		if [ "$theirs" -gt "$mine" ] || { [ "$theirs" -eq "$mine" ] && [ "$inc" != "$layer" ]; }; then
			echo "layer violation: $f includes $inc/" >&2
			bad=1
		fi
	done
done
[ $bad -eq 0 ] && echo "layers: ok"
# No setting key written out outside the settings table.
sh scripts/check-setting-keys.sh || bad=1
# main.c starts and stops; shared state stays in server.c.
sh scripts/check-server-structure.sh || bad=1
exit $bad
