/* Unit tests for the IMAP helpers: mailbox names (mUTF-7), dates,
 * response string writing and the arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/strbuf.h"
#include "proto/imap_date.h"
#include "proto/imap_mailbox.h"
#include "proto/imap_parser.h"
#include "proto/imap_write.h"

static void mutf7_ok(const char *m, const char *u)
{
	struct strbuf b = STRBUF_INIT;

	if (imap_mutf7_to_utf8(m, strlen(m), &b) < 0)
		fail_msg("\"%s\" rejected", m);
	assert_string_equal(strbuf_cstr(&b), u);
	strbuf_truncate(&b, 0);
	assert_int_equal(imap_utf8_to_mutf7(u, strlen(u), &b), 0);
	assert_string_equal(strbuf_cstr(&b), m);
	strbuf_free(&b);
}

static void mutf7_bad(const char *m)
{
	struct strbuf b = STRBUF_INIT;

	if (imap_mutf7_to_utf8(m, strlen(m), &b) == 0)
		fail_msg("\"%s\" accepted", m);
	strbuf_free(&b);
}

static void test_mutf7(void **state)
{
	mutf7_ok("INBOX", "INBOX");
	mutf7_ok("", "");
	mutf7_ok("&-", "&");
	mutf7_ok("a&-b&-", "a&b&");
	/* RFC 3501 5.1.3 examples */
	mutf7_ok("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	mutf7_ok("&AOk-t&AOk-", "\xc3\xa9t\xc3\xa9");
	mutf7_ok("&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* a non-BMP character: a surrogate pair */
	mutf7_ok("&2D3eAA-", "\xf0\x9f\x98\x80");
	mutf7_ok("&AAk-", "\t");
	mutf7_ok("Sent &MLkw,DDRMPwwuzDzMMgwqDDz-", "Sent " "\xe3\x82\xb9\xe3\x83\xbc\xe3\x83\x91\xe3\x83\xbc\xe3\x82\xbb\xe3\x83\xb3\xe3\x83\x88\xe3\x82\xa8\xe3\x83\xb3");
	mutf7_ok("&j,dg0TDhMPww6w-", "\xe8\xbf\xb7\xe6\x83\x91\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab");

	mutf7_bad("&");
	mutf7_bad("&AOk");		/* no "-" */
	mutf7_bad("&AOk-&");
	mutf7_bad("&AGE-");		/* "a" must be direct */
	mutf7_bad("&AOl-");		/* non-zero padding bits */
	mutf7_bad("&AO-");		/* not a whole unit */
	mutf7_bad("&2D0-");		/* lone high surrogate */
	mutf7_bad("&3gA-");		/* lone low surrogate */
	mutf7_bad("&2D3YPQ-");	/* high then high */
	mutf7_bad("&AOk/-");		/* "/" is not modified base64 */
	mutf7_bad("&AOk=-");
	mutf7_bad("\xc3\xa9");		/* raw 8-bit */
	mutf7_bad("a\tb");
	mutf7_bad("a\x7f");
}

static void test_utf8(void **state)
{
	struct strbuf b = STRBUF_INIT;

	assert_true(imap_utf8_is_valid("\xe9\x83\xb5", 3));
	assert_false(imap_utf8_is_valid("\xc0\xaf", 2));	/* overlong */
	assert_false(imap_utf8_is_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(imap_utf8_is_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(imap_utf8_is_valid("\xe9\x83", 2));	/* truncated */
	assert_false(imap_utf8_is_valid("\x80", 1));
	assert_int_equal(imap_utf8_to_mutf7("\xe9\x83", 2, &b), -1);
	strbuf_free(&b);
}

static void test_mailbox(void **state)
{
	struct strbuf b = STRBUF_INIT;
	const char *err = NULL;
	char name[32];

	assert_true(imap_mailbox_is_inbox("inbox"));
	assert_true(imap_mailbox_is_inbox("InBoX"));
	assert_false(imap_mailbox_is_inbox("INBOX/x"));
	assert_false(imap_mailbox_is_inbox("INBOXES"));
	strcpy(name, "inbox/Sub");
	imap_mailbox_name_normalize(name, '/');
	assert_string_equal(name, "INBOX/Sub");
	strcpy(name, "Inboxes");
	imap_mailbox_name_normalize(name, '/');
	assert_string_equal(name, "Inboxes");
	strcpy(name, "inbox.x");
	imap_mailbox_name_normalize(name, '/');
	assert_string_equal(name, "inbox.x");

	assert_int_equal(imap_mailbox_decode("inbox/&AOk-", 11, false, '/', &b, &err), 0);
	assert_string_equal(strbuf_cstr(&b), "INBOX/\xc3\xa9");
	strbuf_truncate(&b, 0);
	assert_int_equal(imap_mailbox_decode("a&b\xc3\xa9", 5, true, '/', &b, &err), 0);
	assert_string_equal(strbuf_cstr(&b), "a&b\xc3\xa9");
	strbuf_truncate(&b, 0);
	assert_int_equal(imap_mailbox_decode("a&b", 3, false, '/', &b, &err), -1);
	assert_string_equal(err, "Mailbox name is not valid modified UTF-7");
	assert_int_equal(b.len, 0);
	assert_int_equal(imap_mailbox_decode("\xc3", 1, true, '/', &b, &err), -1);
	assert_string_equal(err, "Mailbox name is not valid UTF-8");
	assert_int_equal(imap_mailbox_decode("", 0, true, '/', &b, &err), -1);
	assert_string_equal(err, "Empty mailbox name");
	assert_int_equal(imap_mailbox_decode("a\nb", 3, true, '/', &b, &err), -1);
	assert_string_equal(err, "Control characters in mailbox name");
	strbuf_free(&b);
}

static void test_date(void **state)
{
	struct imap_date d, e;
	char out[IMAP_DATE_SIZE];

	assert_int_equal(imap_date_parse("1-Feb-2024", 10, &d), 0);
	assert_int_equal(d.year, 2024);
	assert_int_equal(d.month, 2);
	assert_int_equal(d.day, 1);
	imap_date_format(&d, out);
	assert_string_equal(out, "01-Feb-2024");
	assert_int_equal(imap_date_parse("29-feb-2024", 11, &d), 0);
	assert_int_equal(imap_date_parse("29-Feb-2023", 11, &d), -1);
	assert_int_equal(imap_date_parse("29-Feb-1900", 11, &d), -1);
	assert_int_equal(imap_date_parse("29-Feb-2000", 11, &d), 0);
	assert_int_equal(imap_date_parse("31-Apr-2024", 11, &d), -1);
	assert_int_equal(imap_date_parse("00-Jan-2024", 11, &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-0000", 10, &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-24", 8, &d), -1);
	assert_int_equal(imap_date_parse("1 Jan 2024", 10, &d), -1);
	assert_int_equal(imap_date_parse("+1-Jan-2024", 11, &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-2024x", 11, &d), -1);
	assert_int_equal(imap_date_parse("1-Jen-2024", 10, &d), -1);
	assert_int_equal(imap_date_parse("1-Jan-2024", 10, &d), 0);
	assert_true(imap_date_to_time(&d) == 1704067200);
	assert_int_equal(imap_date_parse("1-Jan-1970", 10, &e), 0);
	assert_int_equal(imap_date_days(&e), 0);
	assert_int_equal(imap_date_cmp(&d, &e), 1);
	assert_int_equal(imap_date_cmp(&e, &d), -1);
	assert_int_equal(imap_date_cmp(&d, &d), 0);
	assert_int_equal(imap_date_parse("31-Dec-1969", 11, &e), 0);
	assert_int_equal(imap_date_days(&e), -1);
}

static void test_datetime(void **state)
{
	struct imap_datetime dt;
	char out[IMAP_DATETIME_SIZE];

	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 +0900", 26, &dt), 0);
	assert_true(dt.utc == 1707105909);
	assert_int_equal(imap_datetime_format(dt.utc, dt.zone_minutes, out), 0);
	assert_string_equal(out, "05-Feb-2024 13:05:09 +0900");
	assert_int_equal(imap_datetime_format(dt.utc, 0, out), 0);
	assert_string_equal(out, "05-Feb-2024 04:05:09 +0000");
	assert_int_equal(imap_datetime_format(0, -150, out), 0);
	assert_string_equal(out, "31-Dec-1969 21:30:00 -0230");
	assert_int_equal(imap_datetime_format(951782400, 0, out), 0);	/* leap day */
	assert_string_equal(out, "29-Feb-2000 00:00:00 +0000");
	assert_int_equal(imap_datetime_parse(" 1-Jan-2000 00:00:00 -0130", 26, &dt), 0);
	assert_true(dt.utc == 946690200);
	assert_int_equal(dt.zone_minutes, -90);
	assert_int_equal(imap_datetime_parse("31-Dec-9999 23:59:59 +0000", 26, &dt), 0);
	assert_int_equal(imap_datetime_format(dt.utc, 0, out), 0);
	assert_string_equal(out, "31-Dec-9999 23:59:59 +0000");
	assert_int_equal(imap_datetime_format(dt.utc + 1, 0, out), -1);
	assert_int_equal(imap_datetime_format(0, 1440, out), -1);

	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 +0900 ", 27, &dt), -1);
	assert_int_equal(imap_datetime_parse("5-Feb-2024 13:05:09 +09000", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 24:05:09 +0900", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:60:09 +0900", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:61 +0900", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 +0960", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 +2400", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 -2359", 26, &dt), 0);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 13:05:09 0900 ", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024T13:05:09 +0900", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("30-Feb-2024 13:05:09 +0900", 26, &dt), -1);
	assert_int_equal(imap_datetime_parse("05-Feb-2024 1:05:09 +09000", 26, &dt), -1);
	/* a leap second is accepted and counted as :59 */
	assert_int_equal(imap_datetime_parse("31-Dec-2016 23:59:60 +0000", 26, &dt), 0);
	assert_true(dt.utc == 1483228799);
}

#define check_astring(s, len, flags, lit) check_astring_n(s, len, flags, lit, sizeof(lit) - 1)

static void check_astring_n(const char *s, size_t len, unsigned flags, const char *expected,
			    size_t explen)
{
	struct strbuf b = STRBUF_INIT;

	imap_write_astring(&b, s, len, flags);
	assert_int_equal(b.len, explen);
	assert_memory_equal(b.data, expected, b.len);
	strbuf_free(&b);
}

static void test_write(void **state)
{
	struct strbuf b = STRBUF_INIT;
	char big[IMAP_WRITE_QUOTED_MAX + 1];

	check_astring("INBOX", 5, 0, "INBOX");
	check_astring("a]b", 3, 0, "a]b");
	check_astring("", 0, 0, "\"\"");
	check_astring("NIL", 3, 0, "\"NIL\"");
	check_astring("nil", 3, 0, "\"nil\"");
	check_astring("a b", 3, 0, "\"a b\"");
	check_astring("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
	check_astring("a(b", 3, 0, "\"a(b\"");
	check_astring("a*", 2, 0, "\"a*\"");
	check_astring("a%", 2, 0, "\"a%\"");
	check_astring("a{", 2, 0, "\"a{\"");
	check_astring("a[b", 3, 0, "\"a[b\"");
	check_astring("a\r\nb", 4, 0, "{4}\r\na\r\nb");
	check_astring("\xc3\xa9", 2, 0, "{2}\r\n\xc3\xa9");
	check_astring("\xc3\xa9", 2, IMAP_WRITE_UTF8, "\"\xc3\xa9\"");
	check_astring("a\0b", 3, 0, "{3}\r\na\0b");
	check_astring("a\0b", 3, IMAP_WRITE_LITERAL8, "~{3}\r\na\0b");
	memset(big, 'x', sizeof(big));
	big[0] = ' ';
	imap_write_astring(&b, big, sizeof(big), 0);
	assert_memory_equal(b.data, "{1025}\r\n ", 9);
	assert_int_equal(b.len, 8 + sizeof(big));

	strbuf_truncate(&b, 0);
	imap_write_nstring(&b, NULL, 0, 0);
	strbuf_append_c(&b, ' ');
	imap_write_nstring(&b, "x", 1, 0);
	strbuf_append_c(&b, ' ');
	imap_write_string(&b, "x", 1, 0);
	strbuf_append_c(&b, ' ');
	imap_write_literal(&b, "x", 1, IMAP_WRITE_LITERAL8);
	assert_string_equal(strbuf_cstr(&b), "NIL \"x\" \"x\" {1}\r\nx");

	strbuf_truncate(&b, 0);
	imap_write_mailbox(&b, "INBOX/\xc3\xa9t\xc3\xa9", false);
	strbuf_append_c(&b, ' ');
	imap_write_mailbox(&b, "Sent Items & more", false);
	strbuf_append_c(&b, ' ');
	imap_write_mailbox(&b, "\xc3\xa9 x", true);
	assert_string_equal(strbuf_cstr(&b), "INBOX/&AOk-t&AOk- \"Sent Items &- more\" \"\xc3\xa9 x\"");
	strbuf_free(&b);
}

/* Big allocations get blocks of their own; small ones keep filling the
 * current block, and reset frees all. */
static void test_arena(void **state)
{
	struct imap_arena *a = imap_arena_new();

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 50; i++) {
			char *s = imap_arena_alloc(a, (size_t)(i % 5 == 0 ? 20000 : 700));

			assert_non_null(s);
			assert_int_equal(s[0], 0);
			memset(s, 'x', i % 5 == 0 ? 20000 : 700);
		}
		assert_true(imap_arena_used(a) >= 10 * 20000);
		assert_string_equal(imap_arena_strndup(a, "abc", 2), "ab");
		imap_arena_reset(a);
		assert_int_equal(imap_arena_used(a), 0);
	}
	assert_null(imap_arena_alloc(a, SIZE_MAX - 8));
	imap_arena_free(a);
	imap_arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutf7),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
