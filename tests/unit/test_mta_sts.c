/* policy/mta_sts.c: the _mta-sts and _smtp._tls TXT records, the MTA-STS
 * policy document and mx pattern matching (RFC 8461, RFC 8460). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/mta_sts.h"

static int parse(const char *s, struct mta_sts_policy *p, const char **err)
{
	return mta_sts_policy_parse(s, strlen(s), p, err);
}

static void test_txt(void **state)
{
	char id[MTA_STS_ID_MAX + 1];
	const char *err = NULL;

	(void)state;
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=20160831085700Z;", id, &err), 1);
	assert_string_equal(id, "20160831085700Z");
	assert_int_equal(mta_sts_txt_parse("v=STSv1;id=abc", id, &err), 1);
	assert_string_equal(id, "abc");
	/* extension fields are skipped, the first id counts */
	assert_int_equal(mta_sts_txt_parse("v=STSv1; ext=1; id=A1 ; id=B2", id, &err), 1);
	assert_string_equal(id, "A1");
	/* not an STS record at all */
	assert_int_equal(mta_sts_txt_parse("v=spf1 -all", id, &err), 0);
	assert_int_equal(mta_sts_txt_parse("v=STSv10; id=1", id, &err), 0);
	assert_int_equal(mta_sts_txt_parse("", id, &err), 0);
	/* malformed STSv1 */
	assert_int_equal(mta_sts_txt_parse("v=STSv1", id, &err), -1);
	assert_string_equal(err, "no id field");
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=", id, &err), -1);
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=a-b", id, &err), -1);
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=123456789012345678901234567890123", id, &err), -1);
	assert_int_equal(mta_sts_txt_parse("v=STSv1; id=12345678901234567890123456789012", id, &err), 1);
	assert_int_equal(mta_sts_txt_parse("v=STSv1 id=1", id, &err), -1);
	assert_int_equal(mta_sts_txt_parse("v=STSv1; =1", id, &err), -1);
	assert_string_equal(id, "");
}

static void test_policy(void **state)
{
	struct mta_sts_policy p;
	const char *err = NULL;

	(void)state;
	assert_int_equal(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
			       "mx: *.example.net\r\nmx: backupmx.example.com.\r\nmax_age: 604800\r\n", &p, &err), 1);
	assert_int_equal(p.mode, MTA_STS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.n_mx, 3);
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.mx[2], "backupmx.example.com");
	/* LF lines, blanks around values, unknown keys, no final newline, upper case mx */
	assert_int_equal(parse("version:STSv1\nmode:  testing \nfoo: bar\nmx: MX.Example.COM\nmax_age: 86400", &p,
			       &err), 1);
	assert_int_equal(p.mode, MTA_STS_TESTING);
	assert_string_equal(p.mx[0], "mx.example.com");
	/* none needs no mx; a huge max_age is capped at a year */
	assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 9999999999\n", &p, &err), 1);
	assert_int_equal(p.mode, MTA_STS_NONE);
	assert_int_equal(p.max_age, MTA_STS_MAX_AGE_MAX);
	/* the first of a repeated field counts */
	assert_int_equal(parse("version: STSv1\nmode: testing\nmode: enforce\nmx: a.b\nmax_age: 1\n", &p, &err), 1);
	assert_int_equal(p.mode, MTA_STS_TESTING);
	/* errors, each with its reason */
	static const struct {
		const char *body, *error;
	} bad[] = {
		{ "mode: enforce\nmx: a.b\nmax_age: 1\n", "no version" },
		{ "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", "version is not STSv1" },
		{ "version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", "mode is not enforce, testing or none" },
		{ "version: STSv1\nmx: a.b\nmax_age: 1\n", "no mode" },
		{ "version: STSv1\nmode: enforce\nmx: a.b\n", "no max_age" },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", "max_age is not a number of seconds" },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 12345678901\n",
		  "max_age is not a number of seconds" },
		{ "version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx pattern" },
		{ "version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n", "an mx pattern is not a host name" },
		{ "version: STSv1\nmode: enforce\nmx: a.*.b\nmax_age: 1\n", "an mx pattern is not a host name" },
		{ "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", "an mx pattern is not a host name" },
		{ "version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n", "an mx pattern is not a host name" },
		{ "version: STSv1\nmode enforce\nmx: a.b\nmax_age: 1\n", "a line is not \"key: value\"" },
		{ ": x\n", "a line is not \"key: value\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(parse(bad[i].body, &p, &err), -1);
		assert_string_equal(err, bad[i].error);
	}
	/* a NUL inside, an oversized body */
	assert_int_equal(mta_sts_policy_parse("version: STS\0v1\n", 16, &p, &err), -1);
	assert_string_equal(err, "a NUL byte in the policy");
	assert_int_equal(mta_sts_policy_parse("", MTA_STS_POLICY_MAX + 1, &p, &err), -1);
	assert_string_equal(err, "the policy is too large");
}

static void test_policy_limits(void **state)
{
	static char body[MTA_STS_POLICY_MAX];
	struct mta_sts_policy p;
	const char *err = NULL;
	size_t len;

	(void)state;
	len = (size_t)snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i < MTA_STS_MX_MAX; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "mx: m%d.example\n", i);
	assert_int_equal(mta_sts_policy_parse(body, len, &p, &err), 1);
	assert_int_equal(p.n_mx, MTA_STS_MX_MAX);
	len += (size_t)snprintf(body + len, sizeof(body) - len, "mx: one-more.example\n");
	assert_int_equal(mta_sts_policy_parse(body, len, &p, &err), -1);
	assert_string_equal(err, "too many mx patterns");
	/* a pattern of the longest name fits; one longer is refused */
	len = (size_t)snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: *.");
	for (int i = 0; i < 4; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%.62s", i ? "." : "",
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(mta_sts_policy_parse(body, len, &p, &err), 1);
	assert_int_equal(strlen(p.mx[0]), 2 + 4 * 62 + 3);
	body[len++] = 'a';
	body[len++] = 'a';
	assert_int_equal(mta_sts_policy_parse(body, len, &p, &err), -1);
}

static void test_mx_match(void **state)
{
	struct mta_sts_policy p = { .n_mx = 2, .mx = { "mail.example.com", "*.example.net" } };

	(void)state;
	assert_true(mta_sts_mx_match("mail.example.com", "mail.example.com"));
	assert_true(mta_sts_mx_match("mail.example.com", "MAIL.Example.com."));
	assert_false(mta_sts_mx_match("mail.example.com", "mail.example.co"));
	assert_false(mta_sts_mx_match("mail.example.com", "xmail.example.com"));
	/* a wildcard covers exactly one label */
	assert_true(mta_sts_mx_match("*.example.net", "mx1.example.net"));
	assert_true(mta_sts_mx_match("*.example.net", "MX1.EXAMPLE.NET."));
	assert_false(mta_sts_mx_match("*.example.net", "example.net"));
	assert_false(mta_sts_mx_match("*.example.net", "a.b.example.net"));
	assert_false(mta_sts_mx_match("*.example.net", ".example.net"));
	assert_false(mta_sts_mx_match("*.example.net", "mx1.example.network"));
	assert_false(mta_sts_mx_match("", "x"));
	assert_false(mta_sts_mx_match("x", ""));
	assert_true(mta_sts_policy_allows(&p, "mx9.example.net"));
	assert_true(mta_sts_policy_allows(&p, "mail.example.com"));
	assert_false(mta_sts_policy_allows(&p, "evil.example.org"));
	assert_string_equal(mta_sts_mode_name(MTA_STS_ENFORCE), "enforce");
	assert_string_equal(mta_sts_mode_name(MTA_STS_TESTING), "testing");
	assert_string_equal(mta_sts_mode_name(MTA_STS_NONE), "none");
}

static void test_tlsrpt_txt(void **state)
{
	char rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1];
	const char *err = NULL;
	size_t n;

	(void)state;
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1; rua=mailto:reports@example.com", rua, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rua[0], "mailto:reports@example.com");
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1;rua=mailto:a@b.c,https://r.example/tls,ftp://x;", rua, &n,
					  &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(rua[1], "https://r.example/tls");
	assert_int_equal(tlsrpt_txt_parse("v=STSv1; id=1", rua, &n, &err), 0);
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1", rua, &n, &err), -1);
	assert_string_equal(err, "no rua field");
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1; rua=ftp://x", rua, &n, &err), -1);
	assert_string_equal(err, "no mailto: or https: address in rua");
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1; rua=mailto:", rua, &n, &err), -1);
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1 rua=mailto:a@b", rua, &n, &err), -1);
	/* at most TLSRPT_RUA_MAX kept */
	assert_int_equal(tlsrpt_txt_parse("v=TLSRPTv1; rua=mailto:a@b,mailto:c@d,mailto:e@f,mailto:g@h,mailto:i@j",
					  rua, &n, &err), 1);
	assert_int_equal(n, TLSRPT_RUA_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_limits),
		cmocka_unit_test(test_mx_match),
		cmocka_unit_test(test_tlsrpt_txt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
