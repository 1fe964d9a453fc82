#!/bin/sh
# `make run`: a demo data directory (created once) and yubind in the
# foreground on 127.0.0.1, every standard port + 10000.
set -e
cd "$(dirname "$0")/.."
DATA=${YUBIN_DATA:-./yubin-data}
CTL="build/yubinctl -d $DATA"
OFF=10000

if [ ! -f "$DATA/yubin.conf" ]; then
	$CTL init --hostname mail.example.test --port-offset $OFF --listen 127.0.0.1
	$CTL domain add example.test
	pass="Demo-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
	echo "$pass" | $CTL account add demo@example.test --password-stdin --memo "demo account"
	umask 077
	echo "$pass" > "$DATA/demo-password.txt"
fi
# A demo server administrator for the panel (also in older demo data).
if [ ! -s "$DATA/demo-admin-password.txt" ]; then
	apass="Admin-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
	echo "$apass" | $CTL admin add admin --role server --password-stdin >/dev/null 2>&1 ||
		echo "$apass" | $CTL admin passwd admin --password-stdin >/dev/null
	(umask 077 && echo "$apass" > "$DATA/demo-admin-password.txt")
fi
# The country database for the foreign-access restriction (cached in
# build/geoip). Without it, logins it cannot place follow geoip.missing.
if [ ! -s "$DATA/geoip/country.mmdb" ]; then
	if out=$(YUBIN_GEOIP_CACHE=build/geoip sh scripts/geoip-fetch.sh "$DATA" 2>&1); then
		printf '%s\n' "$out" | tail -n 1
	else
		why=$(printf '%s\n' "$out" | grep -v '^ *$' | tail -n 1 | sed 's/^geoip: //; s/ *$//')
		echo "yubin: NO GeoIP DATABASE (${why:-fetch failed}): foreign-access logins follow geoip.missing = $($CTL config get geoip.missing 2>/dev/null || echo allow); retry with: $CTL geoip update" >&2
	fi
fi
# A starting spam model (cached in build/spam), so the filter is not empty.
# Without it the spam filter scores with its rules only.
if [ ! -s "$DATA/spam/global.model" ]; then
	if out=$(YUBIN_SPAM_CACHE=build/spam sh scripts/spam-model-fetch.sh "$DATA" build/yubinctl 2>&1); then
		printf '%s\n' "$out" | tail -n 1
	else
		why=$(printf '%s\n' "$out" | grep -v '^ *$' | tail -n 1 | sed 's/^spam: //; s/ *$//')
		echo "yubin: NO STARTING SPAM MODEL (${why:-fetch failed}): the spam filter uses its rules only until trained; retry with: sh scripts/spam-model-fetch.sh $DATA" >&2
	fi
fi
# The panels' static files (DATA/web), refreshed from build/web (make
# builds them) at each start.
rm -rf "$DATA/web" && mkdir -p "$DATA/web" && cp -R build/web/. "$DATA/web/"
pass=$(cat "$DATA/demo-password.txt" 2>/dev/null || echo "(see yubinctl account passwd)")
apass=$(cat "$DATA/demo-admin-password.txt")
crt="$DATA/tls/mail.example.test.crt"
cat <<INFO

Yubin is starting with data in $DATA (Ctrl-C stops it).

  account     demo@example.test
  password    $pass
  SMTP        127.0.0.1:$((OFF + 25))   (MX; STARTTLS)
  submission  127.0.0.1:$((OFF + 587))  (STARTTLS + AUTH)
  SMTPS       127.0.0.1:$((OFF + 465))  (implicit TLS + AUTH)
  POP3        127.0.0.1:$((OFF + 110))  (STLS)   POP3S 127.0.0.1:$((OFF + 995))
  IMAP        127.0.0.1:$((OFF + 143))  (STARTTLS) IMAPS 127.0.0.1:$((OFF + 993))
  ManageSieve 127.0.0.1:$((OFF + 4190)) (STARTTLS; mail filter scripts, e.g. sieve-connect)
  panel       https://127.0.0.1:$((OFF + 443))/  (self-signed: accept the certificate)
              administrator: name admin, password $apass
              mail user: demo@example.test with the password above
  API         https://127.0.0.1:$((OFF + 443))/api/v1/  (description: /api/v1/openapi.json)
  metrics     https://127.0.0.1:$((OFF + 443))/metrics  (Prometheus text; loopback clients or administrators)
  certificate $crt (self-signed for mail.example.test)

Try:
  swaks --server 127.0.0.1:$((OFF + 587)) --tls --auth PLAIN \\
        --auth-user demo@example.test --auth-password '$pass' \\
        --from demo@example.test --to demo@example.test
  curl --ssl-reqd --cacert $crt --connect-to mail.example.test:$((OFF + 995)):127.0.0.1:$((OFF + 995)) \\
        -u 'demo@example.test:$pass' pop3s://mail.example.test:$((OFF + 995))/1
  curl --cacert $crt --connect-to mail.example.test:$((OFF + 993)):127.0.0.1:$((OFF + 993)) \\
        -u 'demo@example.test:$pass' 'imaps://mail.example.test:$((OFF + 993))/INBOX;UID=1'
  curl -sk -c /tmp/yubin.cookies -H 'Content-Type: application/json' \\
        -d '{"kind":"admin","name":"admin","password":"$apass"}' https://127.0.0.1:$((OFF + 443))/api/v1/session
  curl -sk -b /tmp/yubin.cookies https://127.0.0.1:$((OFF + 443))/api/v1/domains/example.test/accounts
  build/yubinctl -d $DATA account show demo@example.test

INFO
exec build/yubind -d "$DATA"
