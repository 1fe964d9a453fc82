/* Unit tests for src/lib/https_reply.c: https:// URLs, and HTTP/1.1
 * responses fed whole and one byte at a time (Content-Length, chunked,
 * to-close and HEAD bodies), oversized and malformed ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/https_client.h"

static const struct https_limits lim = { 1024, 4096 };

static void test_url(void **state)
{
	struct https_url u;
	const char *error;

	assert_int_equal(https_url_parse("https://ca.test/dir", &u, &error), 0);
	assert_string_equal(u.host, "ca.test");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/dir");
	assert_int_equal(https_url_parse("HTTPS://127.0.0.1:14000", &u, &error), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 14000);
	assert_string_equal(u.path, "/");
	assert_int_equal(https_url_parse("https://[::1]:8443/a?b=c#frag", &u, &error), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8443);
	assert_string_equal(u.path, "/a?b=c");
	assert_int_equal(https_url_parse("https://h.test?q", &u, &error), 0);
	assert_string_equal(u.path, "/?q");
	static const char *const bad[] = {
		"http://ca.test/", "https://", "https:///x", "https://user@ca.test/", "https://ca.test:0/",
		"https://ca.test:99999/", "https://ca.test:/", "https://ca test/", "https://ca.test/a b",
		"https://[::1/", "https://ca.test:12a/", "ftp://x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(https_url_parse(bad[i], &u, &error), -1);
}

/* Feeds text one byte more at a time: 0 until the last byte, then want. */
static void feed(const char *text, bool head, int want, struct https_response *resp)
{
	size_t len = strlen(text);
	const char *error = NULL;

	for (size_t i = 0; i < len; i++) {
		int r = https_response_parse(text, i, false, head, &lim, resp, &error);
		if (r == -1 && want == -1)
			return;
		assert_int_equal(r, 0);
	}
	assert_int_equal(https_response_parse(text, len, false, head, &lim, resp, &error), want);
}

static void test_content_length(void **state)
{
	struct https_response r;
	const char text[] = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			    "Replay-Nonce: abc_-1\r\nlocation:  https://ca/o/1 \r\nContent-Length: 7\r\n\r\n{\"a\":1}";

	feed(text, false, 1, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(https_response_header(&r, "Location"), "https://ca/o/1");
	assert_string_equal(https_response_header(&r, "REPLAY-NONCE"), "abc_-1");
	assert_null(https_response_header(&r, "Link"));
	assert_int_equal(r.body_len, 7);
	assert_string_equal(r.body, "{\"a\":1}");
	https_response_clear(&r);
	/* bytes after the body (none expected with Connection: close) are not the body's */
	{
		const char *error;
		const char extra[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
		assert_int_equal(https_response_parse(extra, strlen(extra), false, false, &lim, &r, &error), 1);
		assert_string_equal(r.body, "ok");
		assert_int_equal(r.body_len, 2);
	}
	https_response_clear(&r);
}

static void test_chunked(void **state)
{
	struct https_response r;

	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "5;ext=1\r\n-----\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n", false, 1, &r);
	assert_int_equal(r.body_len, 8);
	assert_string_equal(r.body, "-----abc");
	https_response_clear(&r);
	/* a chunk size that is not hex, a chunk over the limit, a missing CRLF */
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, -1, &r);
}

static void test_to_close_and_head(void **state)
{
	struct https_response r;
	const char *error;
	const char text[] = "HTTP/1.0 200 OK\r\n\r\nuntil the end";

	assert_int_equal(https_response_parse(text, strlen(text), false, false, &lim, &r, &error), 0);
	assert_int_equal(https_response_parse(text, strlen(text), true, false, &lim, &r, &error), 1);
	assert_string_equal(r.body, "until the end");
	https_response_clear(&r);
	/* HEAD: the length says what GET would send; no body follows */
	feed("HTTP/1.1 200 OK\r\nReplay-Nonce: n1\r\nContent-Length: 99\r\n\r\n", true, 1, &r);
	assert_int_equal(r.body_len, 0);
	assert_string_equal(https_response_header(&r, "Replay-Nonce"), "n1");
	https_response_clear(&r);
	/* the peer closed early */
	assert_int_equal(https_response_parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 41, true, false,
					      &lim, &r, &error), -1);
	assert_int_equal(https_response_parse("HTTP/1.1 200 OK\r\nX", 18, true, false, &lim, &r, &error), -1);
}

static void test_limits_and_malformed(void **state)
{
	struct https_response r;
	const char *error;
	char *big = malloc(3000);

	memset(big, 'a', 2999);
	big[2999] = '\0';
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	/* no end of header within the limit */
	assert_int_equal(https_response_parse(big, strlen(big), false, false, &lim, &r, &error), -1);
	free(big);
	feed("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 2000 OK\r\n\r\n", false, -1, &r);
	feed("HTTP/2 200 OK\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\n folded: no\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", false, -1, &r);
	feed("HTTP/1.1 200 OK\r\nBad name: x\r\n\r\n", false, -1, &r);
	assert_int_equal(https_response_parse("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 25, false, false, &lim, &r,
					      &error), -1);
	{
		char many[2048] = "HTTP/1.1 200 OK\r\n";
		for (int i = 0; i < 41; i++)
			strcat(many, "A: b\r\n");
		strcat(many, "\r\n");
		assert_int_equal(https_response_parse(many, strlen(many), false, false, &lim, &r, &error), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_to_close_and_head),
		cmocka_unit_test(test_limits_and_malformed),
	};

	return cmocka_run_group_tests_name("https_reply", tests, NULL, NULL);
}
