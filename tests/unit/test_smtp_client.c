/* Unit tests for src/proto/smtp_client.c: replies as an SMTP client reads
 * them (multi-line, enhanced codes, hostile bytes, fed one line at a time)
 * and the EHLO extension list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/smtp_client.h"

static int feed(struct smtp_reply *r, const char *line)
{
	const char *error = NULL;

	return smtp_reply_feed(r, line, strlen(line), &error);
}

static void test_single_line(void **state)
{
	struct smtp_reply r;
	char buf[256];

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250 2.1.0 Ok"), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.enhanced, "2.1.0");
	assert_string_equal(r.text, "Ok");
	assert_int_equal(smtp_reply_class(&r), 2);
	smtp_reply_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "250 2.1.0 Ok");

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "354 End data with <CR><LF>.<CR><LF>"), 1);
	assert_int_equal(r.code, 354);
	assert_string_equal(r.enhanced, "");
	assert_int_equal(smtp_reply_class(&r), 3);

	/* a bare code */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250"), 1);
	assert_int_equal(r.code, 250);
	smtp_reply_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "250");
}

static void test_multi_line(void **state)
{
	struct smtp_reply r;
	char buf[256];

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "550-5.1.1 The email account that you tried to reach does"), 0);
	assert_int_equal(feed(&r, "550-5.1.1 not exist. Please try"), 0);
	assert_int_equal(feed(&r, "550 5.1.1 double-checking."), 1);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.enhanced, "5.1.1");
	assert_int_equal(r.lines, 3);
	assert_int_equal(smtp_reply_class(&r), 5);
	smtp_reply_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "550 5.1.1 The email account that you tried to reach does; "
				 "not exist. Please try; double-checking.");
}

static void test_bad_lines(void **state)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, ""), -1);
	assert_int_equal(feed(&r, "25"), -1);
	assert_int_equal(feed(&r, "abc def"), -1);
	assert_int_equal(feed(&r, "2500 x"), -1);
	assert_int_equal(feed(&r, "150 x"), -1);
	assert_int_equal(feed(&r, "650 x"), -1);
	/* the code changes inside a multi-line reply */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-a"), 0);
	assert_int_equal(feed(&r, "251 b"), -1);
}

static void test_enhanced_code_shapes(void **state)
{
	struct smtp_reply r;

	/* class must match the reply */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "550 4.1.1 odd"), 1);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.text, "4.1.1 odd");
	/* not a code: too many digits, junk after */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "451 4.1234.1 x"), 1);
	assert_string_equal(r.enhanced, "");
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "451 4.4.1x"), 1);
	assert_string_equal(r.enhanced, "");
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "421 4.4.2"), 1);
	assert_string_equal(r.enhanced, "4.4.2");
	assert_string_equal(r.text, "");
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "552 5.3.10 big"), 1);
	assert_string_equal(r.enhanced, "5.3.10");
}

static void test_hostile_text(void **state)
{
	struct smtp_reply r;
	char line[8192];

	/* control bytes never reach logs or DSNs */
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, "550 a\x1b[31mb\x00c\r\xff", 15, &(const char *){ NULL }), 1);
	assert_null(memchr(r.text, '\x1b', r.text_len));
	assert_null(memchr(r.text, '\r', r.text_len));
	assert_int_equal(strlen(r.text), r.text_len);
	/* text is bounded */
	smtp_reply_init(&r);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250-", 4);
	for (int i = 0; i < 5; i++)
		assert_int_equal(smtp_reply_feed(&r, line, sizeof(line), &(const char *){ NULL }), 0);
	assert_true(r.text_len < SMTP_REPLY_TEXT_MAX);
	line[3] = ' ';
	assert_int_equal(smtp_reply_feed(&r, line, sizeof(line), &(const char *){ NULL }), 1);
	assert_int_equal(strlen(r.text), r.text_len);
}

static void test_ehlo(void **state)
{
	struct smtp_reply r;
	struct smtp_ehlo e;

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example.jp Hello"), 0);
	assert_int_equal(feed(&r, "250-PIPELINING"), 0);
	assert_int_equal(feed(&r, "250-SIZE 10240000"), 0);
	assert_int_equal(feed(&r, "250-starttls"), 0);
	assert_int_equal(feed(&r, "250-AUTH LOGIN PLAIN"), 0);
	assert_int_equal(feed(&r, "250-ENHANCEDSTATUSCODES"), 0);
	assert_int_equal(feed(&r, "250-8BITMIME"), 0);
	assert_int_equal(feed(&r, "250 SMTPUTF8"), 1);
	smtp_ehlo_parse(&e, &r);
	assert_true(e.pipelining);
	assert_true(e.size);
	assert_int_equal(e.size_max, 10240000);
	assert_true(e.starttls);
	assert_true(e.auth_plain);
	assert_true(e.auth_login);
	assert_true(e.eightbitmime);
	assert_true(e.smtputf8);
	assert_false(e.dsn);

	/* the greeting line is not an extension; SIZE without a number */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-STARTTLS is what I say"), 0);
	assert_int_equal(feed(&r, "250-SIZE"), 0);
	assert_int_equal(feed(&r, "250 AUTH CRAM-MD5"), 1);
	smtp_ehlo_parse(&e, &r);
	assert_false(e.starttls);
	assert_true(e.size);
	assert_int_equal(e.size_max, 0);
	assert_false(e.auth_plain);
	assert_false(e.auth_login);

	/* a one-line EHLO reply: no extensions */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250 hello"), 1);
	smtp_ehlo_parse(&e, &r);
	assert_false(e.pipelining);
	assert_false(e.starttls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_enhanced_code_shapes),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_ehlo),
	};

	return cmocka_run_group_tests_name("smtp_client", tests, NULL, NULL);
}
