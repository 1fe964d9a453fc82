/* Unit tests for src/lib/json_parse.c: the grammar of RFC 8259 exactly,
 * UTF-8 and \u escapes with surrogates, the caller's limits, and input
 * cut at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json_parse.h"

static const struct json_limits lim = { 4096, 8, 256 };

static struct json_doc *parse(const char *text)
{
	const char *error = NULL;
	size_t off;

	return json_parse(text, strlen(text), &lim, &error, &off);
}

static void expect_bad(const char *text, const char *want_error)
{
	const char *error = NULL;
	size_t off;
	struct json_doc *doc = json_parse(text, strlen(text), &lim, &error, &off);

	if (doc != NULL)
		fail_msg("accepted: %s", text);
	assert_non_null(error);
	if (want_error != NULL)
		assert_string_equal(error, want_error);
}

static void test_values(void **state)
{
	struct json_doc *doc = parse(" {\"a\" : [1, -0.5e+3, true, false, null], \"b\":{\"c\":\"d\"}}\r\n");
	const struct json_value *root, *a, *b;

	assert_non_null(doc);
	root = json_doc_root(doc);
	assert_int_equal(root->type, JSON_OBJECT);
	assert_int_equal(root->count, 2);
	a = json_member(root, "a");
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->count, 5);
	assert_int_equal(a->child->type, JSON_NUMBER);
	assert_int_equal(a->child->next->len, 7);
	assert_memory_equal(a->child->next->text, "-0.5e+3", 7);
	assert_int_equal(a->child->next->next->type, JSON_TRUE);
	assert_int_equal(a->child->next->next->next->next->type, JSON_NULL);
	b = json_member(root, "b");
	assert_string_equal(json_value_str(json_member(b, "c")), "d");
	assert_null(json_member(root, "z"));
	json_doc_free(doc);
	/* any value at the top */
	doc = parse("\"x\"");
	assert_string_equal(json_value_str(json_doc_root(doc)), "x");
	json_doc_free(doc);
	doc = parse("0");
	assert_int_equal(json_doc_root(doc)->type, JSON_NUMBER);
	json_doc_free(doc);
}

static void test_strings(void **state)
{
	struct json_doc *doc = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u3042\\ud83d\\ude00\xe6\x97\xa5\"");
	const struct json_value *v;

	assert_non_null(doc);
	v = json_doc_root(doc);
	assert_string_equal(v->text, "\"\\/\b\f\n\r\t\xc3\xa9\xe3\x81\x82\xf0\x9f\x98\x80\xe6\x97\xa5");
	json_doc_free(doc);
	/* \u0000 is valid JSON, but not a C string */
	doc = parse("\"a\\u0000b\"");
	assert_non_null(doc);
	assert_int_equal(json_doc_root(doc)->len, 3);
	assert_null(json_value_str(json_doc_root(doc)));
	json_doc_free(doc);
	expect_bad("\"\\ud800\"", "high surrogate without a low one");
	expect_bad("\"\\ud800\\u0041\"", "high surrogate without a low one");
	expect_bad("\"\\udc00\"", "lone low surrogate");
	expect_bad("\"\\u12g4\"", "bad \\u escape");
	expect_bad("\"\\u12\"", "bad \\u escape");
	expect_bad("\"\\x\"", "bad escape");
	expect_bad("\"\\'\"", "bad escape");
	expect_bad("\"a\tb\"", "control character in a string");
	expect_bad("\"a\nb\"", "control character in a string");
	expect_bad("\"\xc0\xaf\"", "invalid UTF-8");		/* overlong '/' */
	expect_bad("\"\xed\xa0\x80\"", "invalid UTF-8");		/* encoded surrogate */
	expect_bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8");	/* past U+10FFFF */
	expect_bad("\"\xe3\x81\"", "invalid UTF-8");		/* truncated */
	expect_bad("\"\xff\"", "invalid UTF-8");
	expect_bad("\"abc", "unterminated string");
	expect_bad("'a'", "unexpected character");
}

static void test_grammar(void **state)
{
	const char *bad[] = {
		"", " ", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "tru", "nul",
		"True", "[1,]", "[,1]", "{\"a\":1,}", "{a:1}", "{\"a\" 1}", "{\"a\":}", "[1 2]", "{} {}",
		"[", "{", "]", "\xef\xbb\xbf{}", "\v{}", "\f[]", "{\"a\":1,\"a\":2}", "[\"a\"]x", "1 2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(bad[i], NULL);
	expect_bad("{\"a\":1,\"a\":2}", "duplicate member name");
}

static void test_limits(void **state)
{
	struct json_limits small = { 16, 2, 4 };
	const char *error;
	size_t off;
	struct json_doc *doc;

	doc = json_parse("[[1]]", 5, &small, &error, &off);
	assert_non_null(doc);
	json_doc_free(doc);
	assert_null(json_parse("[[[1]]]", 7, &small, &error, &off));
	assert_string_equal(error, "nested too deeply");
	assert_null(json_parse("[1,2,3,4]", 9, &small, &error, &off));
	assert_string_equal(error, "too many values");
	assert_null(json_parse("\"0123456789abcdef\"", 18, &small, &error, &off));
	assert_string_equal(error, "document too large");
	/* deep nesting is refused by depth, not by the stack */
	{
		static char deep[4001];
		struct json_limits big = { sizeof(deep), 64, 100000 };

		memset(deep, '[', 4000);
		assert_null(json_parse(deep, 4000, &big, &error, &off));
		assert_string_equal(error, "nested too deeply");
		assert_int_equal(off, 64);
	}
}

static void test_numbers(void **state)
{
	struct json_doc *doc = parse("[0, 5000, 18446744073709551615, 18446744073709551616, 1.0, -1, 1e2]");
	const struct json_value *v = json_doc_root(doc)->child;
	uint64_t n;

	assert_int_equal(json_value_uint(v, 10, &n), 0);
	assert_int_equal(n, 0);
	v = v->next;
	assert_int_equal(json_value_uint(v, 5000, &n), 0);
	assert_int_equal(n, 5000);
	assert_int_equal(json_value_uint(v, 4999, &n), -1);
	v = v->next;
	assert_int_equal(json_value_uint(v, UINT64_MAX, &n), 0);
	assert_true(n == UINT64_MAX);
	v = v->next;
	assert_int_equal(json_value_uint(v, UINT64_MAX, &n), -1);
	for (v = v->next; v != NULL; v = v->next)
		assert_int_equal(json_value_uint(v, UINT64_MAX, &n), -1);
	json_doc_free(doc);
}

/* Every prefix of a valid document is refused, without reading past it. */
static void test_truncated(void **state)
{
	const char *text = "{\"k\":[\"\\u00e9\\ud83d\\ude00\xe6\x97\xa5\",-1.5e3,true,null,{}]}";
	size_t len = strlen(text);
	const char *error;
	size_t off;

	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n > 0 ? n : 1);

		memcpy(copy, text, n);
		assert_null(json_parse(copy, n, &lim, &error, &off));
		assert_true(off <= n);
		free(copy);
	}
	{
		struct json_doc *doc = json_parse(text, len, &lim, &error, &off);
		assert_non_null(doc);
		json_doc_free(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests_name("json_parse", tests, NULL, NULL);
}
