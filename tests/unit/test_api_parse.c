/* Unit tests for src/http/api_parse.c: route patterns with decoded
 * segments, the answer's language, the session cookie, Origin and
 * Content-Type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/api_parse.h"

static void test_path_match(void **state)
{
	char p[API_PARAMS_MAX][API_PARAM_MAX];
	char longseg[400];

	assert_true(api_path_match("/api/v1/domains", "/api/v1/domains", p));
	assert_false(api_path_match("/api/v1/domains", "/api/v1/domains/", p));
	assert_false(api_path_match("/api/v1/domains", "/api/v1/domain", p));
	assert_false(api_path_match("/api/v1/domains", "/api/v1/domainsx", p));
	assert_true(api_path_match("/api/v1/domains/{d}/settings/{k}", "/api/v1/domains/a.test/settings/batv", p));
	assert_string_equal(p[0], "a.test");
	assert_string_equal(p[1], "batv");
	assert_true(api_path_match("/api/v1/accounts/{a}", "/api/v1/accounts/u%40a.test", p));
	assert_string_equal(p[0], "u@a.test");
	/* "accounts.csv" is a segment of its own, not {a}.csv */
	assert_true(api_path_match("/api/v1/domains/{d}/accounts.csv", "/api/v1/domains/x/accounts.csv", p));
	assert_false(api_path_match("/api/v1/domains/{d}/accounts", "/api/v1/domains/x/accounts.csv", p));
	assert_false(api_path_match("/api/v1/domains/{d}", "/api/v1/domains/", p));
	assert_false(api_path_match("/api/v1/domains/{d}", "/api/v1/domains//", p));
	assert_false(api_path_match("/api/v1/domains/{d}", "/api/v1/domains/a/b", p));
	assert_false(api_path_match("/api/v1/domains/{d}", "/api/v1/domains/a%2Fb", p));
	assert_false(api_path_match("/api/v1/domains/{d}", "/api/v1/domains/a%00b", p));
	/* a mail folder's name may hold an encoded '/', never a raw one or NUL */
	assert_true(api_path_match_slash("/m/{f}/x", "/m/a%2Fb/x", p, true));
	assert_string_equal(p[0], "a/b");
	assert_false(api_path_match_slash("/m/{f}/x", "/m/a%2Fb/x", p, false));
	assert_false(api_path_match_slash("/m/{f}/x", "/m/a/b/x", p, true));
	assert_false(api_path_match_slash("/m/{f}/x", "/m/a%00b/x", p, true));
	memset(longseg, 'a', sizeof(longseg) - 1);
	longseg[sizeof(longseg) - 1] = '\0';
	{
		char path[500];

		strcpy(path, "/api/v1/domains/");
		strcat(path, longseg);
		assert_false(api_path_match("/api/v1/domains/{d}", path, p));
	}
}

static void test_lang(void **state)
{
	assert_false(api_lang_is_ja(NULL, NULL));
	assert_true(api_lang_is_ja("ja", "en"));
	assert_false(api_lang_is_ja("en", "ja"));
	assert_false(api_lang_is_ja("fr", "en"));
	assert_true(api_lang_is_ja("fr", "ja"));
	assert_true(api_lang_is_ja(NULL, "ja-JP"));
	assert_true(api_lang_is_ja(NULL, "ja,en"));
	assert_false(api_lang_is_ja(NULL, "en,ja"));		/* a tie: the first */
	assert_true(api_lang_is_ja(NULL, "en;q=0.5, ja;q=0.9"));
	assert_false(api_lang_is_ja(NULL, "ja;q=0.4, en-US"));
	assert_true(api_lang_is_ja(NULL, "fr-FR,fr;q=0.9,  ja-JP;q=0.8, en;q=0.7"));
	assert_false(api_lang_is_ja(NULL, "jav, de"));		/* Javanese is not Japanese */
	assert_false(api_lang_is_ja(NULL, "ja;q=0"));
	assert_false(api_lang_is_ja(NULL, ""));
}

static void test_cookie(void **state)
{
	char out[66];

	api_cookie_value("yubin_session=abc", "yubin_session", out, sizeof(out));
	assert_string_equal(out, "abc");
	api_cookie_value("a=1; yubin_session=xyz; b=2", "yubin_session", out, sizeof(out));
	assert_string_equal(out, "xyz");
	api_cookie_value("xyubin_session=1; yubin_sessionx=2", "yubin_session", out, sizeof(out));
	assert_string_equal(out, "");
	api_cookie_value(NULL, "yubin_session", out, sizeof(out));
	assert_string_equal(out, "");
	api_cookie_value("yubin_session=", "yubin_session", out, sizeof(out));
	assert_string_equal(out, "");
	{
		char big[200] = "yubin_session=";

		memset(big + 14, 'f', 100);
		big[114] = '\0';
		api_cookie_value(big, "yubin_session", out, sizeof(out));
		assert_string_equal(out, "");
	}
}

static void test_query_compact(void **state)
{
	const char *cases[][2] = {
		{ "", "" }, { "&", "" }, { "&&", "" }, { "lang=en", "lang=en" },
		{ "&lang=en", "lang=en" }, { "lang=en&", "lang=en" },
		{ "a=1&&b=2", "a=1&b=2" }, { "&&a=1&&&b=&&", "a=1&b=" }, { "x", "x" },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		api_query_compact(cases[i][0], out);
		assert_string_equal(out, cases[i][1]);
	}
}

static void test_origin_and_type(void **state)
{
	assert_true(api_origin_is_host("https://mail.example.test:10443", "mail.example.test:10443"));
	assert_true(api_origin_is_host("https://Mail.Example.test", "mail.example.test"));
	assert_false(api_origin_is_host("http://mail.example.test", "mail.example.test"));
	assert_false(api_origin_is_host("https://evil.test", "mail.example.test"));
	assert_false(api_origin_is_host("https://mail.example.test.evil.test", "mail.example.test"));
	assert_false(api_origin_is_host("null", "mail.example.test"));
	assert_false(api_origin_is_host("https://mail.example.test", NULL));
	assert_true(api_type_is_json("application/json"));
	assert_true(api_type_is_json("Application/JSON; charset=utf-8"));
	assert_false(api_type_is_json("application/jsonx"));
	assert_false(api_type_is_json("text/plain"));
	assert_false(api_type_is_json("application/x-www-form-urlencoded"));
	assert_false(api_type_is_json(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_origin_and_type),
		cmocka_unit_test(test_query_compact),
	};

	return cmocka_run_group_tests_name("api_parse", tests, NULL, NULL);
}
