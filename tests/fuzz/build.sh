#!/bin/sh
# Builds one libFuzzer target per parser into build-fuzz/ (clang with
# libFuzzer, ASan and UBSan). The parsers are pure, so each target needs only
# a few source files and no libraries (fuzz_config: the settings checks
# reach the directory).
#   sh tests/fuzz/build.sh        (from anywhere; CC=clang-14 to choose)
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-clang}
out=build-fuzz
mkdir -p "$out"
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -std=gnu17 -Wall -Wextra -Wno-unused-parameter
	-Werror -Isrc -D_GNU_SOURCE"

# target: the sources it needs besides itself
build() {
	name=$1
	shift
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$out/$name" "tests/fuzz/$name.c" "$@"
}

build fuzz_address src/mail/address.c src/lib/str.c
build fuzz_smtp src/proto/smtp.c src/mail/address.c src/lib/str.c
build fuzz_smtp_data src/proto/smtp.c src/mail/address.c src/lib/str.c
build fuzz_sasl src/proto/smtp.c src/mail/address.c src/lib/str.c
build fuzz_pop3 src/proto/pop3.c src/lib/str.c
build fuzz_managesieve src/proto/managesieve.c
build fuzz_config src/lib/config.c src/lib/str.c src/lib/fsutil.c src/lib/dns.c \
	src/settings/settings_table.c src/settings/settings_check.c src/settings/settings_conf.c \
	src/policy/foreign.c src/policy/forward.c src/policy/sendlimit.c src/mail/address.c \
	src/policy/sendas.c src/directory/*.c src/lib/log.c \
	src/proto/clamd.c src/lib/https_reply.c \
	$(pkg-config --cflags --libs libpq) -lcares -lsqlite3 -lsodium -lcrypt -lpthread
build fuzz_imap src/proto/imap_*.c src/lib/strbuf.c
build fuzz_imap_sort src/proto/imap_sort.c src/lib/strbuf.c
build fuzz_smtp_reply src/proto/smtp_client.c src/lib/str.c
build fuzz_https_reply src/lib/https_reply.c src/lib/str.c
build fuzz_queue_file src/store/queue_file.c src/store/queue_spare.c src/store/maildir_commit.c src/store/maildir.c src/lib/fanout.c \
	src/store/journal.c src/store/journal_record.c src/lib/fsutil.c src/lib/str.c src/lib/log.c -lpthread -lz
build fuzz_journal_record src/store/journal_record.c -lz
build fuzz_mime src/mail/mime.c src/mail/header.c src/mail/imap_envelope.c src/mail/rfc2047.c src/mail/charset.c src/mail/mime_decode.c src/mail/rfc5322.c src/lib/strbuf.c src/lib/str.c
build fuzz_mime_view src/mail/mime_view.c src/mail/mime.c src/mail/header.c src/mail/rfc2047.c src/mail/charset.c \
	src/mail/mime_decode.c src/mail/rfc5322.c src/lib/strbuf.c src/lib/str.c
build fuzz_dkim src/mail/dkim.c src/lib/strbuf.c src/lib/str.c
build fuzz_mail_text src/mail/mail_text.c src/mail/mail_text_html.c src/mail/mime.c src/mail/header.c \
	src/mail/imap_envelope.c src/mail/rfc2047.c src/mail/charset.c src/mail/mime_decode.c src/mail/rfc5322.c \
	src/lib/strbuf.c src/lib/str.c
build fuzz_spf src/policy/spf.c src/lib/str.c
build fuzz_mta_sts src/policy/mta_sts.c
build fuzz_tlsrpt src/policy/tlsrpt.c src/lib/json.c src/lib/str.c
build fuzz_sendas src/policy/sendas.c src/directory/validate.c src/lib/str.c
build fuzz_json src/lib/json_parse.c src/lib/str.c
build fuzz_spam_tag src/spam/spam_tag.c src/spam/spam_list.c src/mail/header.c src/mail/rfc5322.c src/lib/strbuf.c src/lib/str.c
build fuzz_spam_token src/spam/spam_token.c src/spam/spam_text.c src/spam/spam_html.c src/spam/spam_model.c \
	src/spam/spam_rules.c \
	src/mail/mime.c src/mail/header.c src/mail/rfc2047.c src/mail/charset.c src/mail/mime_decode.c \
	src/mail/rfc5322.c src/lib/strbuf.c src/lib/str.c -lpsl -lm
build fuzz_clamd src/proto/clamd.c
SIEVE_SRC="src/sieve/sieve_lex.c src/sieve/sieve_parse.c src/sieve/sieve_check.c src/sieve/sieve_match.c
	src/sieve/sieve_date.c src/sieve/sieve_msg.c src/sieve/sieve_test.c src/sieve/sieve_run.c
	src/sieve/sieve_action.c src/mail/header.c src/mail/rfc2047.c src/mail/charset.c src/mail/mime.c
	src/mail/mime_decode.c src/mail/rfc5322.c src/mail/imap_envelope.c src/mail/address.c src/lib/strbuf.c
	src/lib/str.c"
# shellcheck disable=SC2086
build fuzz_sieve_parse $SIEVE_SRC
# shellcheck disable=SC2086
build fuzz_sieve_run $SIEVE_SRC
build fuzz_vcard src/mail/vcard.c src/mail/charset.c src/lib/strbuf.c src/lib/str.c
build fuzz_compose src/mail/compose.c src/mail/compose_enc.c src/mail/compose_reply.c src/mail/mime.c \
	src/mail/header.c src/mail/rfc2047.c src/mail/charset.c src/mail/mime_decode.c src/mail/rfc5322.c \
	src/lib/strbuf.c src/lib/str.c
# shellcheck disable=SC2086
build fuzz_rules src/ops/ops_rules_gen.c src/lib/json.c src/lib/json_parse.c src/directory/validate.c $SIEVE_SRC
