#!/bin/sh
# Fails when a setting's key is written as a string literal outside the
# settings table (src/settings/settings_table.c): code names a setting by
# its ID (settings_key(SETTING_X) for its text), so renaming a key or
# changing its rule happens in one place. A key is found as a whole literal
# ("batv"), and keys with '-' or '.' also inside a longer literal
# ("... domain set %s foreign-auth off"). Not checked: "spam" (also the
# yubinctl command group and a verdict word) and "mta-sts" (also the
# host-name label RFC 8461 fixes: "mta-sts", "mta-sts.%s", "_mta-sts.jp").
# A line whose literal only looks like a key (a JSON member named the
# same) carries /* not a setting key */.
cd "$(dirname "$0")/.." || exit 1
table=src/settings/settings_table.c
keys=$(sed -n 's/^[[:space:]]*[A-Z_]*(SETTING_[A-Z0-9_]*, "\([^"]*\)".*/\1/p' "$table" | grep -vx -e 'spam' -e 'mta-sts')
if [ -z "$keys" ]; then
	echo "check-setting-keys: no keys found in $table" >&2
	exit 1
fi
files=$(find src -name '*.[ch]' ! -path "$table" | sort)
# shellcheck disable=SC2086
echo "$keys" | awk -v files="$files" '
	NR == FNR { key[$0] = 1; next }
	FNR == 1 { incomment = 0 }
	{
		line = $0
		# a literal that only looks like a key (a JSON member) says so
		if (line ~ /\/\* not a setting key \*\//) next
		# drop comments: whole comment lines and /* ... */ parts
		if (incomment) {
			if (index(line, "*/") == 0) next
			line = substr(line, index(line, "*/") + 2); incomment = 0
		}
		while ((p = index(line, "/*")) > 0) {
			rest = substr(line, p + 2)
			if ((q = index(rest, "*/")) > 0) line = substr(line, 1, p - 1) substr(rest, q + 2)
			else { line = substr(line, 1, p - 1); incomment = 1 }
		}
		if ((p = index(line, "//")) > 0 && substr(line, p - 1, 1) != ":") line = substr(line, 1, p - 1)
		if (line ~ /^[[:space:]]*#[[:space:]]*include/) next
		while (match(line, /"([^"\\]|\\.)*"/)) {
			lit = substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
			for (k in key) {
				if (lit == k) { hit = 1 }
				else if (k ~ /[-.]/) {
					s = lit; hit = 0
					while ((i = index(s, k)) > 0) {
						before = i > 1 ? substr(s, i - 1, 1) : ""
						after = substr(s, i + length(k), 1)
						if (before !~ /[A-Za-z0-9_.-]/ && after !~ /[A-Za-z0-9_-]/ &&
						    !(after == "." && substr(s, i + length(k) + 1, 1) ~ /[A-Za-z0-9]/)) { hit = 1; break }
						s = substr(s, i + 1)
					}
				} else hit = 0
				if (hit) {
					printf "setting key \"%s\" written out in %s:%d (use settings_key(SETTING_...))\n", k, FILENAME, FNR > "/dev/stderr"
					bad = 1
				}
				hit = 0
			}
		}
	}
	END { exit bad }
' - $files && echo "setting keys: ok"
