#!/bin/sh
# Keeps src/server/main.c a start-up file: it parses arguments, starts and
# stops the subsystems, and holds no state other files call back into
# (that lives in server.c). Fails when another file includes main.c's or
# loop.c's start-up headers, or when main.c defines a file-scope variable.
cd "$(dirname "$0")/.." || exit 1
bad=0
for f in src/server/*.c src/server/*.h; do
	[ "$f" = src/server/main.c ] && continue
	if grep -q '^#include "server/main\.h"' "$f"; then
		echo "server structure: $f includes server/main.h" >&2
		bad=1
	fi
	if [ "$f" != src/server/loop.c ] && grep -q '^#include "server/loop\.h"' "$f"; then
		echo "server structure: $f includes server/loop.h (start-up only, for main.c)" >&2
		bad=1
	fi
done
# A line at column 0 that is neither a directive, a comment, a brace nor a
# function head, but ends a statement or starts an initialiser, defines
# state at file scope (forward declarations and typedefs aside).
state=$(grep -nE '^[A-Za-z_].*(;|= *\{?)$' src/server/main.c |
	grep -vE '^[0-9]+:(typedef |struct [A-Za-z_]+;$)|\)( *;)?$')
if [ -n "$state" ]; then
	echo "server structure: main.c defines file-scope state (move it to server.c):" >&2
	echo "$state" >&2
	bad=1
fi
[ $bad -eq 0 ] && echo "server structure: ok"
exit $bad
