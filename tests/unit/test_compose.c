/* Unit tests for src/mail/compose*.c: the message read back by the
 * project's own MIME parser and RFC 2047 decoder, encoded words within
 * 75 characters and never split inside a character, ISO-2022-JP, Bcc
 * never written, RFC 2231 names, line limits, replies and forwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/str.h"
#include "mail/charset.h"
#include "mail/compose.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/mime_decode.h"
#include "mail/rfc2047.h"

static const struct compose_addr to1[] = { { "山田 太郎", "taro@example.test" } };

static struct compose_draft base_draft(void)
{
	struct compose_draft d;

	memset(&d, 0, sizeof(d));
	d.from.name = "Alice";
	d.from.address = "alice@example.test";
	d.to = to1;
	d.nto = 1;
	d.subject = "hello";
	d.text = "Hi\n";
	d.date = 1764979200;	/* 2025-12-06 00:00:00 UTC */
	d.tz_minutes = 540;
	d.message_id = "<abc.123@mail.example.test>";
	d.boundary_seed = "Seed42";
	return d;
}

/* Every line ends in CRLF and has at most 998 bytes; header lines at most
 * 78 where they hold no long token. */
static void check_lines(const struct strbuf *m)
{
	size_t start = 0;

	for (size_t i = 0; i < m->len; i++) {
		if (m->data[i] == '\n') {
			assert_true(i > 0 && m->data[i - 1] == '\r');
			assert_true(i - start <= 999);
			start = i + 1;
		} else if (m->data[i] == '\r') {
			assert_true(i + 1 < m->len && m->data[i + 1] == '\n');
		}
	}
	assert_int_equal(start, m->len);
}

static void header_value(const struct strbuf *m, const char *name, struct strbuf *out)
{
	struct mail_header_field f;

	assert_true(mail_header_find(m->data, m->len, name, &f));
	rfc2047_decode(f.value, f.value_len, out);
}

/* Each encoded word is at most 75 characters and decodes on its own into
 * whole characters (never split inside one). */
static void check_words(const struct strbuf *m)
{
	const char *p = m->data;

	while ((p = strstr(p, "=?")) != NULL) {
		const char *q = strstr(p + 2, "?B?"), *e;
		struct strbuf one = STRBUF_INIT;

		assert_non_null(q);
		e = strstr(q + 3, "?=");
		assert_non_null(e);
		assert_true(e + 2 - p <= 75);
		rfc2047_decode(p, (size_t)(e + 2 - p), &one);
		assert_true(charset_utf8_is_valid(one.data, one.len));
		assert_null(strstr(strbuf_cstr(&one), "\xef\xbf\xbd"));	/* no U+FFFD */
		strbuf_free(&one);
		p = e + 2;
	}
}

static void test_simple_ascii(void **state)
{
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT;
	struct compose_error err;

	assert_int_equal(compose_message(&d, &m, &err), 0);
	check_lines(&m);
	assert_non_null(strstr(m.data, "Date: Sat, 6 Dec 2025 09:00:00 +0900\r\n"));
	assert_non_null(strstr(m.data, "From: Alice <alice@example.test>\r\n"));
	assert_non_null(strstr(m.data, "Subject: hello\r\n"));
	assert_non_null(strstr(m.data, "Message-ID: <abc.123@mail.example.test>\r\n"));
	assert_non_null(strstr(m.data, "Content-Transfer-Encoding: 7bit\r\n\r\nHi\r\n"));
	strbuf_free(&m);
}

static void test_japanese_subject_and_names(void **state)
{
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT, v = STRBUF_INIT;
	struct compose_error err;
	char subject[600] = "";

	/* long enough for several words; mixed ASCII and 3- and 4-byte characters */
	for (int i = 0; i < 20; i++)
		strcat(subject, i % 3 == 0 ? "会議 meeting " : i % 3 == 1 ? "日本語の件名" : "😀𠮷");
	d.subject = subject;
	d.from.name = "送信者 \"Quote\"";
	assert_int_equal(compose_message(&d, &m, &err), 0);
	check_lines(&m);
	check_words(&m);
	header_value(&m, "Subject", &v);
	assert_string_equal(strbuf_cstr(&v), subject);
	strbuf_truncate(&v, 0);
	header_value(&m, "To", &v);
	assert_string_equal(strbuf_cstr(&v), "山田 太郎 <taro@example.test>");
	strbuf_free(&v);
	strbuf_free(&m);
}

static void test_bcc_never_written(void **state)
{
	static const struct compose_addr bcc[] = { { NULL, "hidden@example.test" } };
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT;
	struct compose_error err;

	d.bcc = bcc;
	d.nbcc = 1;
	assert_int_equal(compose_message(&d, &m, &err), 0);
	assert_null(strstr(m.data, "hidden@"));
	strbuf_truncate(&m, 0);
	d.keep_bcc = true;
	assert_int_equal(compose_message(&d, &m, &err), 0);
	assert_non_null(strstr(m.data, "Bcc: hidden@example.test\r\n"));
	strbuf_free(&m);
}

static void test_bad_addresses(void **state)
{
	static const struct compose_addr bad[] = { { NULL, "a@b.test\r\nBcc: x@y" } };
	static const struct compose_addr nodomain[] = { { NULL, "a@" } };
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT;
	struct compose_error err;

	d.to = bad;
	assert_int_equal(compose_message(&d, &m, &err), -1);
	assert_string_equal(err.code, "invalid_address");
	assert_string_equal(err.field, "to");
	strbuf_truncate(&m, 0);
	d.to = nodomain;
	assert_int_equal(compose_message(&d, &m, &err), -1);
	strbuf_truncate(&m, 0);
	d.to = NULL;
	d.nto = 0;
	assert_int_equal(compose_message(&d, &m, &err), -1);
	assert_string_equal(err.code, "no_recipients");
	strbuf_truncate(&m, 0);
	d = base_draft();
	d.subject = "bad \xff utf-8";
	assert_int_equal(compose_message(&d, &m, &err), -1);
	assert_string_equal(err.field, "subject");
	strbuf_free(&m);
}

/* The message parsed back: the parts, their types, the decoded texts and
 * the attachment's name (RFC 2231, joined by the parser). */
static void test_attachments_and_html(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\1\2\3";
	struct compose_part parts[2] = {
		{ "報告書 2026年 第3四半期の売上と今後の見通しについて.pdf", "application/pdf", "%PDF-1.4 body", 13 },
		{ "a.png", "image/png", png, sizeof(png) - 1 },
	};
	struct compose_draft d = base_draft();
	struct mime_limits lim = { 20, 100 };
	struct mime_message *msg;
	struct strbuf m = STRBUF_INIT, t = STRBUF_INIT;
	struct compose_error err;
	const char *error;
	const struct mime_part *alt, *att;

	d.text = "こんにちは、世界。\nline two\n";
	d.html = "<p>こんにちは</p>";
	d.parts = parts;
	d.nparts = 2;
	assert_int_equal(compose_message(&d, &m, &err), 0);
	check_lines(&m);
	check_words(&m);
	assert_int_equal(mime_message_parse(m.data, m.len, &lim, &msg, &error), 0);
	assert_true(mime_part_is_type(msg->root, "multipart", "mixed"));
	alt = msg->root->children;
	assert_true(mime_part_is_type(alt, "multipart", "alternative"));
	assert_true(mime_part_is_type(alt->children, "text", "plain"));
	assert_int_equal(mime_part_text_decode(msg, alt->children, &t), 0);
	assert_string_equal(strbuf_cstr(&t), "こんにちは、世界。\r\nline two\r\n");
	assert_true(mime_part_is_type(alt->children->next, "text", "html"));
	att = alt->next;
	assert_true(mime_part_is_type(att, "application", "pdf"));
	assert_string_equal(att->disposition, "attachment");
	for (unsigned i = 0; i < att->disposition_param_count; i++) {
		if (strcmp(att->disposition_params[i].name, "filename") == 0)
			assert_string_equal(att->disposition_params[i].value, parts[0].filename);
	}
	strbuf_truncate(&t, 0);
	mime_base64_decode(m.data + att->next->body_offset, att->next->body_size, &t);
	assert_int_equal(t.len, sizeof(png) - 1);
	assert_memory_equal(t.data, png, sizeof(png) - 1);
	mime_message_free(msg);
	strbuf_free(&t);
	strbuf_free(&m);
}

static void test_iso2022jp(void **state)
{
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT, v = STRBUF_INIT;
	struct compose_error err;

	d.charset = COMPOSE_ISO2022JP;
	d.subject = "日本語の件名がとても長い場合にも正しく分割されることを確かめるための試験用の件名です";
	d.text = "本文です。\n二行目\n";
	assert_int_equal(compose_message(&d, &m, &err), 0);
	check_lines(&m);
	assert_non_null(strstr(m.data, "charset=iso-2022-jp"));
	assert_non_null(strstr(m.data, "=?ISO-2022-JP?B?"));
	header_value(&m, "Subject", &v);
	assert_string_equal(strbuf_cstr(&v), d.subject);
	strbuf_free(&v);
	/* ① (NEC extension) and 😀 have no ISO-2022-JP form: refused clearly */
	strbuf_truncate(&m, 0);
	d.subject = "丸数字①";
	assert_int_equal(compose_message(&d, &m, &err), -1);
	assert_string_equal(err.code, "not_representable");
	assert_string_equal(err.field, "subject");
	/* a recipient's name ISO-2022-JP cannot hold goes as UTF-8 words */
	{
		static const struct compose_addr odd[] = { { "①番 さん", "odd@example.test" } };
		struct strbuf v2 = STRBUF_INIT;

		strbuf_truncate(&m, 0);
		d.subject = "件名";
		d.to = odd;
		assert_int_equal(compose_message(&d, &m, &err), 0);
		header_value(&m, "To", &v2);
		assert_string_equal(strbuf_cstr(&v2), "①番 さん <odd@example.test>");
		strbuf_free(&v2);
		d.to = to1;
	}
	strbuf_truncate(&m, 0);
	d.subject = "ok";
	d.text = "絵文字😀";
	assert_int_equal(compose_message(&d, &m, &err), -1);
	assert_string_equal(err.code, "not_representable");
	assert_string_equal(err.field, "text");
	strbuf_free(&m);
}

static void test_qp_and_long_lines(void **state)
{
	struct compose_draft d = base_draft();
	struct strbuf m = STRBUF_INIT, t = STRBUF_INIT;
	struct mime_limits lim = { 20, 100 };
	struct mime_message *msg;
	const char *error;
	struct compose_error err;
	char text[3000];

	memset(text, 'e', sizeof(text) - 3);
	memcpy(text, "caf\xc3\xa9 =", 7);
	text[sizeof(text) - 3] = ' ';
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	d.text = text;
	assert_int_equal(compose_message(&d, &m, &err), 0);
	check_lines(&m);
	assert_non_null(strstr(m.data, "quoted-printable"));
	assert_int_equal(mime_message_parse(m.data, m.len, &lim, &msg, &error), 0);
	assert_int_equal(mime_part_text_decode(msg, msg->root, &t), 0);
	assert_int_equal(t.len, strlen(text) + 1);	/* the LF became CRLF */
	assert_memory_equal(t.data, text, strlen(text) - 1);
	mime_message_free(msg);
	strbuf_free(&t);
	strbuf_free(&m);
}

static void test_flowed(void **state)
{
	struct strbuf out = STRBUF_INIT;
	const char *in = "From here on, this is a long line of words that goes past seventy-eight characters easily\r\n"
			 "> quoted   \r\n";

	compose_flowed(&out, in, strlen(in));
	assert_string_equal(strbuf_cstr(&out),
			    " From here on, this is a long line of words that goes past seventy-eight \r\n"
			    "characters easily\r\n> quoted\r\n");
	strbuf_free(&out);
}

static void test_quote_in_filename(void **state)
{
	struct compose_part part = { "say \"hi\" \\ now.txt", "text/plain", "x", 1 };
	struct compose_draft d = base_draft();
	struct mime_limits lim = { 20, 100 };
	struct mime_message *msg;
	struct strbuf m = STRBUF_INIT;
	struct compose_error err;
	const char *error;

	d.parts = &part;
	d.nparts = 1;
	assert_int_equal(compose_message(&d, &m, &err), 0);
	assert_non_null(strstr(m.data, " name=\"say \\\"hi\\\" \\\\ now.txt\"\r\n"));
	assert_int_equal(mime_message_parse(m.data, m.len, &lim, &msg, &error), 0);
	assert_string_equal(mime_part_param(msg->root->children->next, "name"), part.filename);
	mime_message_free(msg);
	strbuf_free(&m);
}

static void test_param_2231(void **state)
{
	struct strbuf out = STRBUF_INIT;

	compose_param(&out, "filename", "plain.txt");
	assert_string_equal(strbuf_cstr(&out), ";\r\n filename=\"plain.txt\"");
	strbuf_truncate(&out, 0);
	compose_param(&out, "filename", "日本.txt");
	assert_string_equal(strbuf_cstr(&out), ";\r\n filename*0*=utf-8''%E6%97%A5%E6%9C%AC.txt");
	strbuf_free(&out);
}

static void test_reply_helpers(void **state)
{
	struct strbuf s = STRBUF_INIT;

	compose_reply_subject(&s, "Hello", false);
	assert_string_equal(strbuf_cstr(&s), "Re: Hello");
	strbuf_truncate(&s, 0);
	compose_reply_subject(&s, "RE: Hello", false);
	assert_string_equal(strbuf_cstr(&s), "RE: Hello");
	strbuf_truncate(&s, 0);
	compose_reply_subject(&s, "Fw: x", true);
	assert_string_equal(strbuf_cstr(&s), "Fw: x");
	strbuf_truncate(&s, 0);
	compose_reply_subject(&s, "Re: x", true);
	assert_string_equal(strbuf_cstr(&s), "Fwd: Re: x");
	strbuf_truncate(&s, 0);
	compose_references(&s, "<a@x> <b@x>", "<b@x>", "<c@x>");
	assert_string_equal(strbuf_cstr(&s), "<a@x> <b@x> <c@x>");
	strbuf_truncate(&s, 0);
	compose_references(&s, NULL, "<p@x> (comment)", "<c@x>");
	assert_string_equal(strbuf_cstr(&s), "<p@x> <c@x>");
	strbuf_truncate(&s, 0);
	compose_quote(&s, "On Mon, A wrote:", "one\r\n> two\r\n\r\n", 14);
	assert_string_equal(strbuf_cstr(&s), "On Mon, A wrote:\n> one\n>> two\n");
	strbuf_free(&s);
}

static void test_references_bounded(void **state)
{
	struct strbuf refs = STRBUF_INIT, s = STRBUF_INIT;

	for (int i = 0; i < 100; i++)
		strbuf_printf(&refs, "<id%d@x> ", i);
	compose_references(&s, refs.data, NULL, "<last@x>");
	assert_true(strncmp(s.data, "<id0@x> <id82@x>", 16) == 0);
	assert_non_null(strstr(s.data, "<id99@x> <last@x>"));
	strbuf_free(&refs);
	strbuf_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_ascii),
		cmocka_unit_test(test_japanese_subject_and_names),
		cmocka_unit_test(test_bcc_never_written),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_attachments_and_html),
		cmocka_unit_test(test_iso2022jp),
		cmocka_unit_test(test_qp_and_long_lines),
		cmocka_unit_test(test_flowed),
		cmocka_unit_test(test_param_2231),
		cmocka_unit_test(test_quote_in_filename),
		cmocka_unit_test(test_reply_helpers),
		cmocka_unit_test(test_references_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
