/* Unit tests for src/mail/imap_envelope.c: IMAP strings, address lists,
 * ENVELOPE, BODY and BODYSTRUCTURE against exact expected strings (the
 * Dovecot test message, RFC 3501 shapes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/imap_envelope.h"

static const struct mime_limits limits = { 100, 10000 };

/* s with every LF turned into CRLF (malloc'd). */
static char *crlf(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static void check_bs(const char *m, bool extended, const char *expected)
{
	struct mime_message *msg;
	struct strbuf out = STRBUF_INIT;
	const char *error;

	assert_int_equal(mime_message_parse(m, strlen(m), &limits, &msg, &error), 0);
	imap_bodystructure_write(msg, msg->root, extended, &out);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
	mime_message_free(msg);
}

static void check_env(const char *hdr, const char *expected)
{
	struct strbuf out = STRBUF_INIT;

	imap_envelope_write(hdr, strlen(hdr), &out);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
}

static void check_addr(const char *value, const char *expected)
{
	struct strbuf out = STRBUF_INIT;

	imap_address_list_write(value, strlen(value), &out);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
}

/* Dovecot's src/lib-imap/test-imap-bodystructure.c message; its sizes are
 * CRLF sizes, so the message is given here with CRLF line ends. */
static const char dovecot_msg[] =
	"From: user@domain.org\n"
	"Date: Sat, 24 Mar 2007 23:00:00 +0200\n"
	"Mime-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"foo\n"
	" bar\"\n"
	"\n"
	"Root MIME prologue\n"
	"\n"
	"--foo bar\n"
	"Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\n"
	"Content-ID: <foo@example.com>\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
	"Content-Disposition: inline; foo=bar\n"
	"Content-Description: hellodescription\n"
	"Content-Language: en, fi, se\n"
	"Content-Location: http://example.com/test.txt\n"
	"\n"
	"hello\n"
	"\n"
	"--foo bar\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: sub@domain.org\n"
	"To: sub-to1@domain.org, sub-to2@domain.org\n"
	"Date: Sun, 12 Aug 2012 12:34:56 +0300\n"
	"Subject: submsg\n"
	"Content-Type: multipart/alternative; boundary=\"sub1\"\n"
	"\n"
	"Sub MIME prologue\n"
	"--sub1\n"
	"Content-Type: text/html\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"<p>Hello world</p>\n"
	"\n"
	"--sub1\n"
	"Content-Type: text/plain\n"
	"Content-Transfer-Encoding: ?invalid\n"
	"\n"
	"Hello another world\n"
	"\n"
	"--sub1--\n"
	"Sub MIME epilogue\n"
	"\n"
	"--foo bar--\n"
	"Root MIME epilogue\n";

static void test_dovecot_vector(void **state)
{
	char *m = crlf(dovecot_msg);

	check_bs(m, true,
		 "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
		 "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" "
		 "(\"inline\" (\"foo\" \"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")"
		 "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 "
		 "(\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" \"domain.org\")) "
		 "((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) "
		 "((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL) "
		 "((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1 NIL NIL NIL NIL)"
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1 NIL NIL NIL NIL) "
		 "\"alternative\" (\"boundary\" \"sub1\") NIL NIL NIL) 21 NIL NIL NIL NIL) "
		 "\"mixed\" (\"boundary\" \"foo bar\") NIL NIL NIL)");
	check_bs(m, false,
		 "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
		 "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1)"
		 "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 "
		 "(\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" \"domain.org\")) "
		 "((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) "
		 "((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL) "
		 "((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1)"
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1) \"alternative\") 21) "
		 "\"mixed\")");
	free(m);
}

static void test_simple_text(void **state)
{
	check_bs("Subject: x\r\n\r\nhello\r\nworld\r\n", true,
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)");
	check_bs("Content-Type: TEXT/PLAIN; CHARSET=ISO-2022-JP\r\nContent-Transfer-Encoding: 7BIT\r\n\r\nx",
		 false, "(\"text\" \"plain\" (\"charset\" \"ISO-2022-JP\") NIL NIL \"7BIT\" 1 0)");
	/* not text: no line count, no default charset */
	check_bs("Content-Type: application/pdf; name=\"a.pdf\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\nQUJD\r\n", true,
		 "(\"application\" \"pdf\" (\"name\" \"a.pdf\") NIL NIL \"base64\" 6 NIL "
		 "(\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL)");
	check_bs("", true,
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)");
}

static void test_empty_multipart(void **state)
{
	/* no part found, or no boundary at all: one empty text part */
	check_bs("Content-Type: multipart/mixed; boundary=x\r\n\r\nno parts\r\n", true,
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
		 "\"mixed\" (\"boundary\" \"x\") NIL NIL NIL)");
	check_bs("Content-Type: multipart/mixed\r\n\r\n--x\r\n", false,
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
}

static void test_rfc2231_written_encoded(void **state)
{
	check_bs("Content-Type: application/octet-stream; name*=utf-8''%E6%97%A5.txt\r\n\r\n", true,
		 "(\"application\" \"octet-stream\" (\"name*\" \"utf-8''%E6%97%A5.txt\") NIL NIL "
		 "\"7bit\" 0 NIL NIL NIL NIL)");
}

static void test_opaque_rfc822(void **state)
{
	/* base64 message/rfc822 cannot be parsed: empty envelope and body */
	check_bs("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n", false,
		 "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 6 "
		 "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
		 "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 1)");
}

static void test_strings(void **state)
{
	struct strbuf out = STRBUF_INIT;

	imap_string_append(&out, "a\"b\\c", 5);
	assert_string_equal(strbuf_cstr(&out), "\"a\\\"b\\\\c\"");
	strbuf_truncate(&out, 0);
	imap_string_append(&out, "日本", 6);
	assert_string_equal(strbuf_cstr(&out), "{6}\r\n日本");
	strbuf_truncate(&out, 0);
	imap_string_append(&out, "a\r\nb", 4);
	assert_string_equal(strbuf_cstr(&out), "{4}\r\na\r\nb");
	strbuf_truncate(&out, 0);
	imap_string_append(&out, "a\0b", 3);
	assert_string_equal(strbuf_cstr(&out), "\"ab\"");
	strbuf_truncate(&out, 0);
	imap_nstring_append(&out, NULL);
	imap_string_append(&out, "", 0);
	assert_string_equal(strbuf_cstr(&out), "NIL\"\"");
	strbuf_free(&out);
}

static void test_addresses(void **state)
{
	check_addr("Joe Q. Public <john.q.public@example.com>",
		   "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))");
	check_addr("\"Doe, John\" <j@x.org>, plain@x.org (Comment Name)",
		   "((\"Doe, John\" NIL \"j\" \"x.org\")(\"Comment Name\" NIL \"plain\" \"x.org\"))");
	check_addr("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, after@x.y",
		   "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
		   "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")"
		   "(NIL NIL NIL NIL)(NIL NIL \"after\" \"x.y\"))");
	check_addr("undisclosed-recipients:;",
		   "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))");
	check_addr("<@route1,@route2:user@host>",
		   "((NIL \"@route1,@route2\" \"user\" \"host\"))");
	check_addr("\"quoted local\"@example.com",
		   "((NIL NIL \"quoted local\" \"example.com\"))");
	check_addr("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= <jp@example.jp>",
		   "((\"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\" NIL \"jp\" \"example.jp\"))");
	check_addr("nodomain", "((NIL NIL \"nodomain\" \"MISSING_DOMAIN\"))");
	check_addr("Name <>", "((\"Name\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))");
	check_addr("  ,, ", "NIL");
	check_addr("\"\" <e@x>, \"\"\"\" f@y", "((NIL NIL \"e\" \"x\")(NIL NIL \"f\" \"y\"))");
	check_addr("", "NIL");
	check_addr("Unclosed: a@b", "((NIL NIL \"Unclosed\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))");
	check_addr("\xe5\xb1\xb1\xe7\x94\xb0 <y@x.jp>",
		   "(({6}\r\n\xe5\xb1\xb1\xe7\x94\xb0 NIL \"y\" \"x.jp\"))");
}

static void test_envelope(void **state)
{
	check_env("Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
		  "From: Terry Gray <gray@cac.washington.edu>\r\n"
		  "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
		  "To: imap@cac.washington.edu\r\n"
		  "cc: minutes@CNRI.Reston.VA.US,\r\n John Klensin <KLENSIN@MIT.EDU>\r\n"
		  "Message-Id: <B27397-0100000@cac.washington.edu>\r\n\r\n",
		  "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
		  "\"IMAP4rev1 WG mtg summary and minutes\" "
		  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
		  "((NIL NIL \"imap\" \"cac.washington.edu\")) "
		  "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
		  "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
		  "\"<B27397-0100000@cac.washington.edu>\")");
	/* Sender and Reply-To given; empty Reply-To falls back to From */
	check_env("From: a@x\r\nSender: s@x\r\nReply-To:\r\nIn-Reply-To: <p@x>\r\nSubject:\r\n",
		  "(NIL \"\" ((NIL NIL \"a\" \"x\")) ((NIL NIL \"s\" \"x\")) ((NIL NIL \"a\" \"x\")) "
		  "NIL NIL NIL \"<p@x>\" NIL)");
	check_env("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	/* 8-bit subject goes out as a literal, encoded words raw */
	check_env("Subject: caf\xc3\xa9\r\nBcc: b@x\r\n",
		  "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL ((NIL NIL \"b\" \"x\")) NIL NIL)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_vector),
		cmocka_unit_test(test_simple_text),
		cmocka_unit_test(test_empty_multipart),
		cmocka_unit_test(test_rfc2231_written_encoded),
		cmocka_unit_test(test_opaque_rfc822),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
