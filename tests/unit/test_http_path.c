/* Unit tests for src/http/http_path.c: request paths to file names (no
 * way out of the static root), content types, Accept-Encoding and
 * If-None-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_path.h"

static void expect_file(const char *raw, const char *want)
{
	char out[64];

	assert_int_equal(http_path_to_file(raw, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void expect_refused(const char *raw)
{
	char out[64];

	assert_int_equal(http_path_to_file(raw, out, sizeof(out)), -1);
}

static void test_paths(void **state)
{
	expect_file("/", "index.html");
	expect_file("/app.js", "app.js");
	expect_file("/sub/", "sub/index.html");
	expect_file("/a%20b.txt", "a b.txt");
	expect_file("/%E6%97%A5.html", "\xe6\x97\xa5.html");
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "index.html", "/..", "/../x", "/a/../x", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x",
		"/a%2fb", "/a%2F..%2Fb", "/a%5cb", "/a\\b", "/a%00b", "/a%0ab", "/a%7f",
		"//x", "/a//b", "/.hidden", "/a/./b", "/%", "/%4", "/%zz", "/%2", NULL,
	};

	for (int i = 0; bad[i] != NULL; i++)
		expect_refused(bad[i]);
	/* too long for the buffer */
	expect_refused("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_refused("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/");
	expect_refused(NULL);
}

static void test_types(void **state)
{
	assert_string_equal(http_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("a/b.JS"), "text/javascript; charset=utf-8");
	assert_string_equal(http_content_type("x.svg"), "image/svg+xml");
	assert_string_equal(http_content_type("noext"), "application/octet-stream");
	assert_string_equal(http_content_type("dir.html/file"), "application/octet-stream");
}

static void test_gzip(void **state)
{
	assert_true(http_accepts_gzip("gzip"));
	assert_true(http_accepts_gzip("br, gzip;q=0.5"));
	assert_true(http_accepts_gzip("deflate, GZIP"));
	assert_true(http_accepts_gzip("*"));
	assert_false(http_accepts_gzip(NULL));
	assert_false(http_accepts_gzip(""));
	assert_false(http_accepts_gzip("br"));
	assert_false(http_accepts_gzip("gzip;q=0"));
	assert_false(http_accepts_gzip("gzip; q=0.000"));
	assert_true(http_accepts_gzip("gzip;q=0.001"));
	assert_false(http_accepts_gzip("xgzip, gzipx"));
}

static void test_etag(void **state)
{
	assert_true(http_etag_matches("\"a-1\"", "\"a-1\""));
	assert_true(http_etag_matches("\"x\", \"a-1\"", "\"a-1\""));
	assert_true(http_etag_matches("W/\"a-1\"", "\"a-1\""));
	assert_true(http_etag_matches("*", "\"a-1\""));
	assert_false(http_etag_matches(NULL, "\"a-1\""));
	assert_false(http_etag_matches("\"a-12\"", "\"a-1\""));
	assert_false(http_etag_matches("\"a-1-gz\"", "\"a-1\""));
	assert_false(http_etag_matches("", "\"a-1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_etag),
	};

	return cmocka_run_group_tests_name("http_path", tests, NULL, NULL);
}
