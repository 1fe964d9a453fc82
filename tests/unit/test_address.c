/* Unit tests for src/mail/address.c: RFC 5321 path parsing, the relay
 * tricks a local domain must refuse, limits, hostile bytes, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/address.h"

/* Parses a counted string; asserts success and the bytes consumed. */
static void parse_ok(const char *s, size_t len, struct mail_path *p, size_t consumed)
{
	const char *error = NULL;
	size_t used = 0;
	int r = mail_path_parse(s, len, p, &used, &error);

	if (r != 0)
		fail_msg("parse of \"%.*s\" failed: %s", (int)len, s, error);
	assert_int_equal(used, consumed);
}

/* Parses a NUL-terminated path and asserts the exact outcome. */
static void check_ok(const char *s, const char *local, const char *domain, const char *trick)
{
	struct mail_path p;
	const char *t;

	parse_ok(s, strlen(s), &p, strlen(s));
	assert_false(p.null_path);
	assert_string_equal(p.local, local);
	assert_string_equal(p.domain, domain);
	t = mail_path_relay_trick(&p);
	if (trick == NULL) {
		if (t != NULL)
			fail_msg("%s: unexpected trick %s", s, t);
	} else {
		assert_non_null(t);
		assert_string_equal(t, trick);
	}
}

static void check_fail_len(const char *s, size_t len, const char *expected_error)
{
	struct mail_path p;
	const char *error = NULL;
	size_t used = 999;

	if (mail_path_parse(s, len, &p, &used, &error) == 0)
		fail_msg("parse of \"%.*s\" should fail", (int)len, s);
	assert_non_null(error);
	assert_string_equal(error, expected_error);
	assert_int_equal(used, 999);	/* untouched on failure */
}

static void check_fail(const char *s, const char *expected_error)
{
	check_fail_len(s, strlen(s), expected_error);
}

static void test_plain(void **state)
{
	struct mail_path p;

	check_ok("<user@example.test>", "user", "example.test", NULL);
	check_ok("<first.last+tag@mail.example.test>", "first.last+tag", "mail.example.test", NULL);
	check_ok("<a-b_c=d{e}~f'g`h|i#j$k&l*m/n=o?p^q@x-y.test>",
		 "a-b_c=d{e}~f'g`h|i#j$k&l*m/n=o?p^q", "x-y.test", NULL);
	/* local part case kept, domain lowercased */
	check_ok("<User.Name@EXAMPLE.Test>", "User.Name", "example.test", NULL);
	/* a single-label domain parses (whether it is local is the caller's call) */
	check_ok("<postmaster@localhost>", "postmaster", "localhost", NULL);
	parse_ok("<u@example.test>", 16, &p, 16);
	assert_false(p.source_route || p.local_quoted || p.domain_literal);
}

static void test_null_path(void **state)
{
	struct mail_path p;
	char buf[16] = "junk";

	parse_ok("<>", 2, &p, 2);
	assert_true(p.null_path);
	assert_string_equal(p.local, "");
	assert_string_equal(p.domain, "");
	assert_null(mail_path_relay_trick(&p));
	mail_path_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "");
	parse_ok("   <> SIZE=10", 13, &p, 5);
	assert_true(p.null_path);
}

static void test_consumed_and_spaces(void **state)
{
	struct mail_path p;

	/* leading spaces are skipped; consumption stops after '>' */
	parse_ok("  <a@b.test> BODY=8BITMIME", 26, &p, 12);
	assert_string_equal(p.local, "a");
	parse_ok("<a@b.test>>", 11, &p, 10);
	/* the length is honoured: no NUL needed, bytes after len not read */
	parse_ok("<a@b.test>XXXX", 10, &p, 10);
	check_fail_len("<a@b.test>", 9, "unexpected character in address");
}

static void test_syntax_errors(void **state)
{
	check_fail("", "address must be enclosed in <>");
	check_fail("   ", "address must be enclosed in <>");
	check_fail("user@example.test", "address must be enclosed in <>");
	check_fail("\t<user@example.test>", "address must be enclosed in <>");
	check_fail("<", "missing local part");
	check_fail("<user@example.test", "unexpected character in address");
	check_fail("<user>", "address needs a domain (user@domain)");
	check_fail("<user@>", "missing domain");
	check_fail("<@example.test>", "bad source route");
	check_fail("< user@example.test>", "missing local part");
	check_fail("<user @example.test>", "address needs a domain (user@domain)");
	check_fail("<user@ example.test>", "missing domain");
	check_fail("<user@example.test >", "unexpected character in address");
	check_fail("<user@exa_mple.test>", "unexpected character in address");
	check_fail("<.user@example.test>", "empty label in local part");
	check_fail("<us..er@example.test>", "empty label in local part");
	check_fail("<user.@example.test>", "local part ends with a dot");
	check_fail("<user@.example.test>", "empty label in domain");
	check_fail("<user@example..test>", "empty label in domain");
	check_fail("<<user@example.test>>", "missing local part");
	check_fail("<user(comment)@example.test>", "address needs a domain (user@domain)");
}

static void test_double_at(void **state)
{
	check_fail("<user@@example.test>", "missing domain");
	check_fail("<user@other.test@example.test>", "unexpected character in address");
	check_fail("<@@example.test:u@x.test>", "bad source route");
}

static void test_trick_percent_hack(void **state)
{
	check_ok("<user%other.test@example.test>", "user%other.test", "example.test", "percent hack");
	check_ok("<user%other.test%third.test@example.test>", "user%other.test%third.test",
		 "example.test", "percent hack");
}

static void test_trick_bang_path(void **state)
{
	check_ok("<other.test!user@example.test>", "other.test!user", "example.test", "bang path");
	check_ok("<a!b!user@example.test>", "a!b!user", "example.test", "bang path");
}

static void test_trick_quoted_at(void **state)
{
	struct mail_path p;

	check_ok("<\"user@other.test\"@example.test>", "user@other.test", "example.test",
		 "quoted local part");
	parse_ok("<\"user@other.test\"@example.test>", 32, &p, 32);
	assert_true(p.local_quoted);
	/* any quoted local part counts: it is how '@' and '%' get hidden */
	check_ok("<\"john smith\"@example.test>", "john smith", "example.test", "quoted local part");
	check_ok("<\"\"@example.test>", "", "example.test", "quoted local part");
}

static void test_trick_source_route(void **state)
{
	struct mail_path p;

	check_ok("<@a.test,@b.test:user@c.test>", "user", "c.test", "source route");
	parse_ok("<@a.test:user@c.test>", 21, &p, 21);
	assert_true(p.source_route);
	check_fail("<@a.test,b.test:user@c.test>", "bad source route");
	check_fail("<@a.test;user@c.test>", "bad source route");
	check_fail("<@a.test,@b.test>", "bad source route");
	check_fail("<@a.test", "bad source route");
}

static void test_trick_ip_literal(void **state)
{
	struct mail_path p;

	check_ok("<user@[192.0.2.1]>", "user", "[192.0.2.1]", "IP address literal");
	parse_ok("<user@[IPv6:2001:DB8::1]>", 25, &p, 25);
	assert_true(p.domain_literal);
	assert_string_equal(p.domain, "[ipv6:2001:db8::1]");
	assert_string_equal(mail_path_relay_trick(&p), "IP address literal");
	check_fail("<user@[192.0.2.1>", "bad address literal");
	check_fail("<user@[192.0.2.1", "unterminated address literal");
	check_fail("<user@[192.0.2 .1]>", "bad address literal");
	check_fail("<user@[1\\]>", "bad address literal");
	check_fail("<user@[192.0.2.1]x>", "unexpected character in address");
}

static void test_trick_trailing_dot(void **state)
{
	check_ok("<user@example.test.>", "user", "example.test.", "trailing dot in domain");
	check_ok("<user@EXAMPLE.TEST.>", "user", "example.test.", "trailing dot in domain");
}

static void test_trick_order(void **state)
{
	/* several tricks at once: the first in the documented order is named */
	check_ok("<@a.test:\"x%y\"@[10.0.0.1]>", "x%y", "[10.0.0.1]", "source route");
	check_ok("<\"x%y\"@[10.0.0.1]>", "x%y", "[10.0.0.1]", "IP address literal");
	check_ok("<\"x%y\"@example.test.>", "x%y", "example.test.", "trailing dot in domain");
	check_ok("<a%b!c@example.test>", "a%b!c", "example.test", "percent hack");
}

static void test_quoted_local(void **state)
{
	struct mail_path p;

	check_ok("<\"a\\\"b\"@example.test>", "a\"b", "example.test", "quoted local part");
	check_ok("<\"a\\\\b\"@example.test>", "a\\b", "example.test", "quoted local part");
	check_ok("<\"a b.\"@example.test>", "a b.", "example.test", "quoted local part");
	parse_ok("<\"a>b\"@example.test>", 20, &p, 20);
	assert_string_equal(p.local, "a>b");
	check_fail("<\"abc@example.test>", "unterminated quoted local part");
	check_fail("<\"abc\\", "unterminated quoted local part");
	check_fail("<\"a\tb\"@example.test>", "control character in address");
	check_fail("<\"a\\\rb\"@example.test>", "control character in address");
	check_fail("<\"a\x7f\"@example.test>", "control character in address");
	check_fail("<\"ab\"c@example.test>", "address needs a domain (user@domain)");
}

static void test_hostile_bytes(void **state)
{
	static const char nul_local[] = "<us\0er@example.test>";
	static const char nul_domain[] = "<user@exa\0mple.test>";
	static const char nul_quoted[] = "<\"us\0er\"@example.test>";

	check_fail_len(nul_local, sizeof(nul_local) - 1, "address needs a domain (user@domain)");
	check_fail_len(nul_domain, sizeof(nul_domain) - 1, "unexpected character in address");
	check_fail_len(nul_quoted, sizeof(nul_quoted) - 1, "control character in address");
	check_fail("<user\r@example.test>", "address needs a domain (user@domain)");
	check_fail("<user@example.test\r\n>", "unexpected character in address");
	/* 8-bit (SMTPUTF8) is taken as it is, in both parts */
	check_ok("<\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6@\xe4\xbe\x8b\xe3\x81\x88.jp>",
		 "\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6", "\xe4\xbe\x8b\xe3\x81\x88.jp", NULL);
	check_ok("<\xff\xfe@\x80.test>", "\xff\xfe", "\x80.test", NULL);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_local_part_limit(void **state)
{
	char *l64 = repeat('a', 64), *l65 = repeat('a', 65), *l300 = repeat('a', 300);
	char buf[1024];

	snprintf(buf, sizeof(buf), "<%s@example.test>", l64);
	check_ok(buf, l64, "example.test", NULL);
	snprintf(buf, sizeof(buf), "<%s@example.test>", l65);
	check_fail(buf, "local part longer than 64 octets");
	snprintf(buf, sizeof(buf), "<%s@example.test>", l300);
	check_fail(buf, "local part too long");
	/* quoted: the limit counts the unquoted text */
	snprintf(buf, sizeof(buf), "<\"%s\"@example.test>", l64);
	check_ok(buf, l64, "example.test", "quoted local part");
	snprintf(buf, sizeof(buf), "<\"%s\"@example.test>", l65);
	check_fail(buf, "local part longer than 64 octets");
	snprintf(buf, sizeof(buf), "<\"%s\"@example.test>", l300);
	check_fail(buf, "local part too long");
	free(l64);
	free(l65);
	free(l300);
}

/* A domain of exactly n octets made of 9-octet labels and a tail. */
static void make_domain(char *buf, size_t n)
{
	size_t o = 0;

	while (n - o > 10) {
		memcpy(buf + o, "abcdefgh.", 9);
		o += 9;
	}
	memset(buf + o, 'z', n - o);
	buf[n] = '\0';
}

static void test_path_limit(void **state)
{
	char dom[400], local64[65], buf[1024];

	memset(local64, 'l', 64);
	local64[64] = '\0';
	/* 64 + '@' + 191 = 256 octets between the brackets: accepted */
	make_domain(dom, 191);
	snprintf(buf, sizeof(buf), "<%s@%s>", local64, dom);
	check_ok(buf, local64, dom, NULL);
	/* 257: refused */
	make_domain(dom, 192);
	snprintf(buf, sizeof(buf), "<%s@%s>", local64, dom);
	check_fail(buf, "address longer than 256 octets");
	/* a domain of 255 octets fits the domain rule but not the path */
	make_domain(dom, 255);
	snprintf(buf, sizeof(buf), "<u@%s>", dom);
	check_fail(buf, "address longer than 256 octets");
	make_domain(dom, 254);
	snprintf(buf, sizeof(buf), "<u@%s>", dom);
	check_ok(buf, "u", dom, NULL);
	make_domain(dom, 256);
	snprintf(buf, sizeof(buf), "<u@%s>", dom);
	check_fail(buf, "domain too long");
	/* a source route counts toward the path length */
	make_domain(dom, 238);	/* "@" 238 ":" "user@example.test" = 257 */
	snprintf(buf, sizeof(buf), "<@%s:%s@example.test>", dom, "user");
	check_fail(buf, "address longer than 256 octets");
	make_domain(dom, 237);
	snprintf(buf, sizeof(buf), "<@%s:%s@example.test>", dom, "user");
	check_ok(buf, "user", "example.test", "source route");
}

static void test_very_long_input(void **state)
{
	size_t n = 1 << 20;
	char *s = repeat('a', n);

	s[0] = '<';
	check_fail_len(s, n, "local part too long");
	memset(s + 1, '.', 10);
	check_fail_len(s, n, "empty label in local part");
	s[1] = 'a';
	s[2] = '@';
	memset(s + 3, 'b', n - 3);
	check_fail_len(s, n, "domain too long");
	free(s);
}

static void test_format(void **state)
{
	struct mail_path p;
	char buf[300];

	parse_ok("<User@Example.TEST>", 19, &p, 19);
	mail_path_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "User@example.test");
	parse_ok("<\"a\\\"b\\\\c d\"@example.test>", 26, &p, 26);
	mail_path_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "\"a\\\"b\\\\c d\"@example.test");
	parse_ok("<@r.test:u@[10.0.0.1]>", 22, &p, 22);
	mail_path_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "u@[10.0.0.1]");	/* the route is dropped */
}

static void test_format_small_buffer(void **state)
{
	struct mail_path p;
	char buf[64];

	parse_ok("<\"q\\\"q\\\"q\"@example.test>", 24, &p, 24);
	for (size_t size = 1; size < 24; size++) {
		memset(buf, '#', sizeof(buf));
		mail_path_format(&p, buf, size);
		assert_true(strlen(buf) < size);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], '#');
	}
}

/* Formatting then parsing gives the same path back. */
static void check_roundtrip(const char *s)
{
	struct mail_path a, b;
	char fmt[600], wrapped[610];

	parse_ok(s, strlen(s), &a, strlen(s));
	mail_path_format(&a, fmt, sizeof(fmt));
	snprintf(wrapped, sizeof(wrapped), "<%s>", fmt);
	parse_ok(wrapped, strlen(wrapped), &b, strlen(wrapped));
	assert_string_equal(a.local, b.local);
	assert_string_equal(a.domain, b.domain);
	assert_int_equal(a.local_quoted, b.local_quoted);
	assert_int_equal(a.domain_literal, b.domain_literal);
}

static void test_format_roundtrip(void **state)
{
	check_roundtrip("<plain@example.test>");
	check_roundtrip("<\"with space\"@example.test>");
	check_roundtrip("<\"q\\\"uote\\\\\"@example.test>");
	check_roundtrip("<\"user@other\"@example.test>");
	check_roundtrip("<user%other@example.test>");
	check_roundtrip("<u@[IPv6:::1]>");
	check_roundtrip("<u@example.test.>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_null_path),
		cmocka_unit_test(test_consumed_and_spaces),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_double_at),
		cmocka_unit_test(test_trick_percent_hack),
		cmocka_unit_test(test_trick_bang_path),
		cmocka_unit_test(test_trick_quoted_at),
		cmocka_unit_test(test_trick_source_route),
		cmocka_unit_test(test_trick_ip_literal),
		cmocka_unit_test(test_trick_trailing_dot),
		cmocka_unit_test(test_trick_order),
		cmocka_unit_test(test_quoted_local),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_local_part_limit),
		cmocka_unit_test(test_path_limit),
		cmocka_unit_test(test_very_long_input),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_format_roundtrip),
	};

	return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
