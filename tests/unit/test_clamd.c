/* Unit tests for src/proto/clamd.c: clamd's replies to INSTREAM (clean,
 * found, errors, hostile and truncated replies), addresses and framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/clamd.h"

static int parse(const char *s, size_t len, char *name, size_t size)
{
	const char *error = NULL;
	int r = clamd_reply_parse(s, len, name, size, &error);

	if (r < 0)
		assert_non_null(error);
	return r;
}

#define PARSE(lit, name) parse(lit, sizeof(lit) - 1, name, sizeof(name))

static void test_reply_clean(void **state)
{
	char name[CLAMD_NAME_MAX];

	(void)state;
	assert_int_equal(PARSE("stream: OK", name), CLAMD_CLEAN);
	assert_int_equal(PARSE("stream: OK\0", name), CLAMD_CLEAN);
	assert_int_equal(PARSE("stream: OK\n", name), CLAMD_CLEAN);
	assert_string_equal(name, "");
}

static void test_reply_found(void **state)
{
	char name[CLAMD_NAME_MAX], small[8];

	(void)state;
	assert_int_equal(PARSE("stream: Win.Test.EICAR_HDB-1 FOUND\0", name), CLAMD_FOUND);
	assert_string_equal(name, "Win.Test.EICAR_HDB-1");
	assert_int_equal(PARSE("stream: Yubin.Test.EICAR.UNOFFICIAL FOUND", name), CLAMD_FOUND);
	assert_string_equal(name, "Yubin.Test.EICAR.UNOFFICIAL");
	/* cut to the buffer */
	assert_int_equal(PARSE("stream: Win.Test.EICAR_HDB-1 FOUND", small), CLAMD_FOUND);
	assert_string_equal(small, "Win.Tes");
}

static void test_reply_error(void **state)
{
	char name[CLAMD_NAME_MAX];

	(void)state;
	assert_int_equal(PARSE("INSTREAM size limit exceeded. ERROR\0", name), CLAMD_ERROR);
	assert_string_equal(name, "INSTREAM size limit exceeded.");
	assert_int_equal(PARSE("stream: Can't allocate memory ERROR", name), CLAMD_ERROR);
	assert_string_equal(name, "Can't allocate memory");
	/* control bytes in the text never reach a reply or a log */
	assert_int_equal(PARSE("stream: a\rb\x01 ERROR", name), CLAMD_ERROR);
	assert_string_equal(name, "a?b?");
	assert_int_equal(PARSE("stream: ERROR", name), CLAMD_ERROR);
	assert_string_equal(name, "stream:");
	assert_int_equal(PARSE(" ERROR", name), CLAMD_ERROR);
	assert_string_equal(name, "");
}

static void test_reply_malformed(void **state)
{
	char name[CLAMD_NAME_MAX];

	(void)state;
	assert_int_equal(PARSE("", name), -1);
	assert_int_equal(PARSE("\0", name), -1);
	assert_int_equal(PARSE("stream:", name), -1);
	assert_int_equal(PARSE("stream: ", name), -1);
	assert_int_equal(PARSE("stream: OKAY", name), -1);
	assert_int_equal(PARSE("stream: FOUND", name), -1);
	assert_int_equal(PARSE("stream:  FOUND", name), -1);
	assert_int_equal(PARSE("stream: two words FOUND", name), -1);
	assert_int_equal(PARSE("stream: a\x01 FOUND", name), -1);
	assert_int_equal(PARSE("PONG", name), -1);
	assert_int_equal(PARSE("stream: OK\0stream: OK", name), -1);
	assert_int_equal(PARSE("stream: OK\nstream: X FOUND", name), -1);
	assert_int_equal(PARSE("Stream: OK", name), -1);
}

static void test_reply_long(void **state)
{
	char big[CLAMD_REPLY_MAX + 2], name[CLAMD_NAME_MAX];

	(void)state;
	memset(big, 'A', sizeof(big));
	memcpy(big, "stream: ", 8);
	memcpy(big + sizeof(big) - 6, " FOUND", 6);
	assert_int_equal(parse(big, sizeof(big), name, sizeof(name)), -1);
	/* at the limit: accepted, the name cut */
	memcpy(big + CLAMD_REPLY_MAX - 6, " FOUND", 6);
	assert_int_equal(parse(big, CLAMD_REPLY_MAX, name, sizeof(name)), CLAMD_FOUND);
	assert_int_equal(strlen(name), CLAMD_NAME_MAX - 1);
}

/* Every prefix of a good reply is either incomplete-looking garbage
 * (refused) or, at full length, the verdict: never a crash. */
static void test_reply_prefixes(void **state)
{
	static const char full[] = "stream: Win.Test.EICAR_HDB-1 FOUND";
	char name[CLAMD_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(full) - 1; i++) {
		char *copy = malloc(i + 1);
		assert_non_null(copy);
		memcpy(copy, full, i);
		assert_int_equal(parse(copy, i, name, sizeof(name)), -1);
		free(copy);
	}
	assert_int_equal(parse(full, sizeof(full) - 1, name, sizeof(name)), CLAMD_FOUND);
}

static void test_address(void **state)
{
	struct clamd_address a;
	const char *error;

	(void)state;
	assert_int_equal(clamd_address_parse("/run/clamav/clamd.ctl", &a, &error), 0);
	assert_int_equal(a.transport, CLAMD_UNIX);
	assert_string_equal(a.path, "/run/clamav/clamd.ctl");
	assert_int_equal(clamd_address_parse("127.0.0.1:3310", &a, &error), 0);
	assert_int_equal(a.transport, CLAMD_TCP);
	assert_string_equal(a.ip, "127.0.0.1");
	assert_int_equal(a.port, 3310);
	assert_int_equal(clamd_address_parse("[::1]:3310", &a, &error), 0);
	assert_string_equal(a.ip, "::1");
	assert_int_equal(clamd_address_parse("192.0.2.1:3310", &a, &error), -1);
	assert_int_equal(clamd_address_parse("[2001:db8::1]:3310", &a, &error), -1);
	assert_int_equal(clamd_address_parse("localhost:3310", &a, &error), -1);
	assert_int_equal(clamd_address_parse("127.0.0.1", &a, &error), -1);
	assert_int_equal(clamd_address_parse("127.0.0.1:0", &a, &error), -1);
	assert_int_equal(clamd_address_parse("127.0.0.1:65536", &a, &error), -1);
	assert_int_equal(clamd_address_parse("127.0.0.1:33a", &a, &error), -1);
	assert_int_equal(clamd_address_parse("relative/clamd.ctl", &a, &error), -1);
	assert_int_equal(clamd_address_parse("[::1]3310", &a, &error), -1);
	{
		char longpath[200];
		memset(longpath, 'a', sizeof(longpath) - 1);
		longpath[0] = '/';
		longpath[sizeof(longpath) - 1] = '\0';
		assert_int_equal(clamd_address_parse(longpath, &a, &error), -1);
	}
}

static void test_chunk_header(void **state)
{
	unsigned char h[4];

	(void)state;
	clamd_chunk_header(0x01020304u, h);
	assert_memory_equal(h, "\x01\x02\x03\x04", 4);
	clamd_chunk_header(0, h);
	assert_memory_equal(h, "\0\0\0\0", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_clean),
		cmocka_unit_test(test_reply_found),
		cmocka_unit_test(test_reply_error),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_reply_long),
		cmocka_unit_test(test_reply_prefixes),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_chunk_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
