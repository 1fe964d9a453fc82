/* Unit tests for src/policy/spf.c: check_host() against a table of DNS
 * records (RFC 7208 cases, the lookup limits, macros, hostile records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "policy/spf.h"

/* ---- the fake DNS: type, name, value; "!TEMP" as a value fails the
 * lookup temporarily, a name absent from the table is NXDOMAIN when no
 * record of any type has it, else NODATA. */

struct rr {
	const char *type, *name, *value;
};

static const struct rr *zone;
static unsigned queries;

static const struct rr base_zone[] = {
	{ "TXT", "pass.example", "v=spf1 ip4:192.0.2.0/24 -all" },
	{ "TXT", "pass.example", "some other text" },
	{ "TXT", "soft.example", "v=spf1 ~all" },
	{ "TXT", "neutral.example", "v=spf1 ?all" },
	{ "TXT", "empty.example", "v=spf1" },
	{ "TXT", "case.example", "V=SpF1 IP4:192.0.2.7 -ALL" },
	{ "TXT", "two.example", "v=spf1 -all" },
	{ "TXT", "two.example", "v=spf1 +all" },
	{ "TXT", "notspf.example", "v=spf10 +all" },
	{ "A", "nospf.example", "192.0.2.1" },
	{ "TXT", "temp.example", "!TEMP" },
	/* a */
	{ "TXT", "a.example", "v=spf1 a -all" },
	{ "A", "a.example", "192.0.2.10" },
	{ "A", "a.example", "192.0.2.11" },
	{ "AAAA", "a.example", "2001:db8::10" },
	{ "TXT", "aother.example", "v=spf1 a:a.example/28 -all" },
	{ "TXT", "a6.example", "v=spf1 a:a.example//64 -all" },
	{ "TXT", "atemp.example", "v=spf1 a:tempa.example -all" },
	{ "A", "tempa.example", "!TEMP" },
	/* mx */
	{ "TXT", "mx.example", "v=spf1 mx -all" },
	{ "MX", "mx.example", "mx1.mx.example" },
	{ "MX", "mx.example", "mx2.mx.example" },
	{ "A", "mx1.mx.example", "198.51.100.1" },
	{ "A", "mx2.mx.example", "198.51.100.2" },
	{ "TXT", "mxcidr.example", "v=spf1 mx:mx.example/24 -all" },
	{ "TXT", "manymx.example", "v=spf1 mx -all" },
	{ "MX", "manymx.example", "m1.example" }, { "MX", "manymx.example", "m2.example" },
	{ "MX", "manymx.example", "m3.example" }, { "MX", "manymx.example", "m4.example" },
	{ "MX", "manymx.example", "m5.example" }, { "MX", "manymx.example", "m6.example" },
	{ "MX", "manymx.example", "m7.example" }, { "MX", "manymx.example", "m8.example" },
	{ "MX", "manymx.example", "m9.example" }, { "MX", "manymx.example", "m10.example" },
	{ "MX", "manymx.example", "m11.example" },
	/* include and redirect */
	{ "TXT", "inc.example", "v=spf1 include:pass.example -all" },
	{ "TXT", "incfail.example", "v=spf1 include:two-fail.example ?all" },
	{ "TXT", "two-fail.example", "v=spf1 -all" },
	{ "TXT", "incnone.example", "v=spf1 include:nospf.example +all" },
	{ "TXT", "inctemp.example", "v=spf1 include:temp.example +all" },
	{ "TXT", "redir.example", "v=spf1 redirect=pass.example" },
	{ "TXT", "redirnone.example", "v=spf1 redirect=nospf.example" },
	{ "TXT", "redirall.example", "v=spf1 ?all redirect=pass.example" },
	{ "TXT", "redirmacro.example", "v=spf1 redirect=_spf.%{d}" },
	{ "TXT", "_spf.redirmacro.example", "v=spf1 ip4:192.0.2.99 -all" },
	/* exists */
	{ "TXT", "exists.example", "v=spf1 exists:%{ir}.%{l1r+}._spf.%{d} -all" },
	{ "A", "7.2.0.192.user._spf.exists.example", "127.0.0.2" },
	/* ptr */
	{ "TXT", "ptr.example", "v=spf1 ptr -all" },
	{ "PTR", "192.0.2.20", "host.ptr.example" },
	{ "PTR", "192.0.2.20", "other.example" },
	{ "A", "host.ptr.example", "192.0.2.20" },
	{ "PTR", "192.0.2.21", "liar.ptr.example" },
	{ "A", "liar.ptr.example", "192.0.2.99" },
	/* void lookups */
	{ "TXT", "void2.example", "v=spf1 a:nx1.example a:nx2.example ?all" },
	{ "TXT", "void3.example", "v=spf1 a:nx1.example a:nx2.example a:nx3.example ?all" },
	/* ip6 */
	{ "TXT", "v6.example", "v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 -all" },
	/* modifiers */
	{ "TXT", "unknownmod.example", "v=spf1 foo=bar moo.cow-far_out=man:dog/cat -all" },
	{ "TXT", "exp.example", "v=spf1 exp=explain.%{d} -all" },
	/* HELO */
	{ "TXT", "mail.helo.example", "v=spf1 ip4:192.0.2.50 -all" },
	{ NULL, NULL, NULL },
};

static const struct rr *extra;

static enum dns_result fake_find(const char *type, const char *name, const char **values, size_t max,
				 size_t *n_r)
{
	bool exists = false;
	size_t n = 0;

	queries++;
	for (int pass = 0; pass < 2; pass++) {
		const struct rr *t = pass == 0 ? zone : extra;
		for (size_t i = 0; t != NULL && t[i].type != NULL; i++) {
			if (strcasecmp(t[i].name, name) != 0)
				continue;
			exists = true;
			if (strcmp(t[i].type, type) != 0)
				continue;
			if (strcmp(t[i].value, "!TEMP") == 0)
				return DNS_TEMPFAIL;
			if (n < max)
				values[n] = t[i].value;
			n++;
		}
	}
	*n_r = n;
	if (n > 0)
		return DNS_OK;
	return exists ? DNS_NODATA : DNS_NXDOMAIN;
}

static enum dns_result fake_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	const char *v[16];
	size_t n = 0;
	enum dns_result r = fake_find("TXT", name, v, 16, &n);

	*txt_r = NULL;
	*n_r = 0;
	if (r != DNS_OK)
		return r;
	*txt_r = calloc(n, sizeof(char *));
	for (size_t i = 0; i < n && i < 16; i++)
		(*txt_r)[i] = strdup(v[i]);
	*n_r = n < 16 ? n : 16;
	return DNS_OK;
}

static void fake_free_txt(void *ctx, char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

static enum dns_result fake_addr(void *ctx, const char *name, int family, struct spf_ip *out, size_t max,
				 size_t *n_r)
{
	const char *v[16];
	size_t n = 0, k = 0;
	enum dns_result r = fake_find(family == AF_INET ? "A" : "AAAA", name, v, 16, &n);

	*n_r = 0;
	if (r != DNS_OK)
		return r;
	for (size_t i = 0; i < n && i < 16 && k < max; i++) {
		if (spf_ip_parse(v[i], &out[k]) == 0)
			k++;
	}
	*n_r = k;
	return k > 0 ? DNS_OK : DNS_NODATA;
}

static enum dns_result fake_mx(void *ctx, const char *name, char (*names)[DNS_NAME_MAX], size_t max,
			       size_t *n_r)
{
	const char *v[32];
	size_t n = 0;
	enum dns_result r = fake_find("MX", name, v, 32, &n);

	*n_r = 0;
	if (r != DNS_OK)
		return r;
	for (size_t i = 0; i < n && i < max; i++)
		snprintf(names[i], DNS_NAME_MAX, "%s", v[i]);
	*n_r = n < max ? n : max;
	return DNS_OK;
}

static enum dns_result fake_ptr(void *ctx, const struct spf_ip *ip, char (*names)[DNS_NAME_MAX],
				size_t max, size_t *n_r)
{
	char text[64];
	const char *v[16];
	size_t n = 0;
	enum dns_result r;

	inet_ntop(ip->family, ip->addr, text, sizeof(text));
	r = fake_find("PTR", text, v, 16, &n);
	*n_r = 0;
	if (r != DNS_OK)
		return r;
	for (size_t i = 0; i < n && i < max; i++)
		snprintf(names[i], DNS_NAME_MAX, "%s", v[i]);
	*n_r = n < max ? n : max;
	return DNS_OK;
}

static const struct spf_dns fake_dns = {
	.txt = fake_txt, .free_txt = fake_free_txt, .addr = fake_addr, .mx = fake_mx, .ptr = fake_ptr,
};

static struct spf_outcome out;

/* check_host for MAIL FROM user@domain from ip. */
static enum spf_result check(const char *ip, const char *from)
{
	struct spf_request req = { .helo = "client.example", .mail_from = from, .receiver = "mx.test" };

	assert_int_equal(spf_ip_parse(ip, &req.ip), 0);
	zone = base_zone;
	queries = 0;
	return spf_check(&fake_dns, &req, &out);
}

static void test_basic_results(void **state)
{
	assert_int_equal(check("192.0.2.7", "user@pass.example"), SPF_PASS);
	assert_string_equal(out.mechanism, "ip4:192.0.2.0/24");
	assert_string_equal(out.domain, "pass.example");
	assert_string_equal(out.identity, "user@pass.example");
	assert_false(out.helo_identity);
	assert_int_equal(check("198.51.100.7", "user@pass.example"), SPF_FAIL);
	assert_string_equal(out.mechanism, "-all");
	assert_int_equal(check("198.51.100.7", "user@soft.example"), SPF_SOFTFAIL);
	assert_int_equal(check("198.51.100.7", "user@neutral.example"), SPF_NEUTRAL);
	/* no mechanism matches and no redirect: neutral (4.7) */
	assert_int_equal(check("198.51.100.7", "user@empty.example"), SPF_NEUTRAL);
	assert_string_equal(out.mechanism, "default");
	/* names and version are case-insensitive */
	assert_int_equal(check("192.0.2.7", "user@case.example"), SPF_PASS);
	assert_int_equal(check("192.0.2.8", "user@CASE.example"), SPF_FAIL);
	/* the sender's domain is lowercased */
	assert_string_equal(out.domain, "case.example");
}

static void test_none_and_errors(void **state)
{
	assert_int_equal(check("192.0.2.7", "user@nospf.example"), SPF_NONE);
	assert_int_equal(check("192.0.2.7", "user@nx.example"), SPF_NONE);
	assert_int_equal(check("192.0.2.7", "user@notspf.example"), SPF_NONE);
	assert_int_equal(check("192.0.2.7", "user@two.example"), SPF_PERMERROR);
	assert_non_null(strstr(out.reason, "more than one SPF record"));
	assert_int_equal(check("192.0.2.7", "user@temp.example"), SPF_TEMPERROR);
	/* not a multi-label name, labels too long, empty labels: none (4.3) */
	assert_int_equal(check("192.0.2.7", "user@localhost"), SPF_NONE);
	assert_int_equal(check("192.0.2.7", "user@a..example"), SPF_NONE);
	{
		char from[120] = "u@";
		memset(from + 2, 'x', 64);
		strcpy(from + 66, ".example");
		assert_int_equal(check("192.0.2.7", from), SPF_NONE);
	}
	/* an address literal or no domain: nothing to check */
	assert_int_equal(check("192.0.2.7", "user@[192.0.2.1]"), SPF_NONE);
	assert_int_equal(check("192.0.2.7", "user"), SPF_NONE);
}

static void test_a_mx_ptr(void **state)
{
	assert_int_equal(check("192.0.2.11", "x@a.example"), SPF_PASS);
	assert_string_equal(out.mechanism, "a");
	assert_int_equal(check("192.0.2.12", "x@a.example"), SPF_FAIL);
	assert_int_equal(check("2001:db8::10", "x@a.example"), SPF_PASS);
	assert_int_equal(check("2001:db8::11", "x@a.example"), SPF_FAIL);
	/* an IPv4-mapped IPv6 client is an IPv4 client */
	assert_int_equal(check("::ffff:192.0.2.10", "x@a.example"), SPF_PASS);
	/* a:domain/28 covers .0 to .15 */
	assert_int_equal(check("192.0.2.15", "x@aother.example"), SPF_PASS);
	assert_int_equal(check("192.0.2.16", "x@aother.example"), SPF_FAIL);
	assert_int_equal(check("2001:db8::ffff", "x@a6.example"), SPF_PASS);
	assert_int_equal(check("2001:db9::10", "x@a6.example"), SPF_FAIL);
	assert_int_equal(check("192.0.2.10", "x@atemp.example"), SPF_TEMPERROR);
	/* mx */
	assert_int_equal(check("198.51.100.2", "x@mx.example"), SPF_PASS);
	assert_int_equal(check("198.51.100.3", "x@mx.example"), SPF_FAIL);
	assert_int_equal(check("198.51.100.200", "x@mxcidr.example"), SPF_PASS);
	assert_int_equal(check("198.51.101.1", "x@mxcidr.example"), SPF_FAIL);
	/* more than 10 MX names: permerror (4.6.4) */
	assert_int_equal(check("198.51.100.2", "x@manymx.example"), SPF_PERMERROR);
	assert_non_null(strstr(out.reason, "more than 10 MX names"));
	/* ptr: a validated name within the domain */
	assert_int_equal(check("192.0.2.20", "x@ptr.example"), SPF_PASS);
	/* a name whose address is not the client's is not validated */
	assert_int_equal(check("192.0.2.21", "x@ptr.example"), SPF_FAIL);
	/* no PTR at all: no match */
	assert_int_equal(check("192.0.2.22", "x@ptr.example"), SPF_FAIL);
	assert_int_equal(check("2001:db8:1::1", "x@v6.example"), SPF_PASS);
	assert_int_equal(check("2001:db9::1", "x@v6.example"), SPF_FAIL);
	assert_int_equal(check("192.0.2.1", "x@v6.example"), SPF_PASS);
}

static void test_include_redirect_exists(void **state)
{
	assert_int_equal(check("192.0.2.7", "x@inc.example"), SPF_PASS);
	assert_string_equal(out.mechanism, "include:pass.example");
	assert_int_equal(check("198.51.100.1", "x@inc.example"), SPF_FAIL);
	/* an included fail is "no match": evaluation goes on */
	assert_int_equal(check("198.51.100.1", "x@incfail.example"), SPF_NEUTRAL);
	/* included domain without a record: permerror; DNS trouble: temperror */
	assert_int_equal(check("198.51.100.1", "x@incnone.example"), SPF_PERMERROR);
	assert_int_equal(check("198.51.100.1", "x@inctemp.example"), SPF_TEMPERROR);
	assert_int_equal(check("192.0.2.7", "x@redir.example"), SPF_PASS);
	assert_int_equal(check("198.51.100.1", "x@redir.example"), SPF_FAIL);
	assert_int_equal(check("198.51.100.1", "x@redirnone.example"), SPF_PERMERROR);
	/* an "all" wins before the redirect is looked at */
	assert_int_equal(check("192.0.2.7", "x@redirall.example"), SPF_NEUTRAL);
	assert_int_equal(check("192.0.2.99", "x@redirmacro.example"), SPF_PASS);
	assert_int_equal(check("192.0.2.98", "x@redirmacro.example"), SPF_FAIL);
	/* exists with macros: 7.2.0.192.user._spf.exists.example */
	assert_int_equal(check("192.0.2.7", "user+tag@exists.example"), SPF_PASS);
	assert_int_equal(check("192.0.2.8", "user+tag@exists.example"), SPF_FAIL);
	/* modifiers: unknown ones and exp are ignored */
	assert_int_equal(check("192.0.2.8", "x@unknownmod.example"), SPF_FAIL);
	assert_int_equal(check("192.0.2.8", "x@exp.example"), SPF_FAIL);
}

static void test_helo_identity(void **state)
{
	struct spf_request req = { .helo = "mail.helo.example", .mail_from = "", .receiver = "mx.test" };

	zone = base_zone;
	spf_ip_parse("192.0.2.50", &req.ip);
	assert_int_equal(spf_check(&fake_dns, &req, &out), SPF_PASS);
	assert_true(out.helo_identity);
	assert_string_equal(out.identity, "postmaster@mail.helo.example");
	assert_string_equal(out.domain, "mail.helo.example");
	spf_ip_parse("192.0.2.51", &req.ip);
	req.mail_from = NULL;
	assert_int_equal(spf_check(&fake_dns, &req, &out), SPF_FAIL);
	req.helo = "[192.0.2.51]";
	assert_int_equal(spf_check(&fake_dns, &req, &out), SPF_NONE);
	req.helo = "";
	assert_int_equal(spf_check(&fake_dns, &req, &out), SPF_NONE);
	req.helo = "localhost";
	assert_int_equal(spf_check(&fake_dns, &req, &out), SPF_NONE);
}

/* A record served for "t.example" (and the chain targets in extra). */
static enum spf_result check_record(const char *ip, const char *record)
{
	struct rr rec[2] = { { "TXT", "t.example", record }, { NULL, NULL, NULL } };
	enum spf_result r;

	extra = rec;
	r = check(ip, "user@t.example");
	extra = NULL;
	return r;
}

static void test_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"v=spf1 foo -all",			/* unknown mechanism */
		"v=spf1 +all foo",			/* the whole record is checked first */
		"v=spf1 ip4:300.1.1.1 -all",
		"v=spf1 ip4:192.0.2.1/33 -all",
		"v=spf1 ip4:192.0.2.1/024 -all",
		"v=spf1 ip4 -all",
		"v=spf1 ip6:2001:db8::/129 -all",
		"v=spf1 ip6:2001:zz8:: -all",
		"v=spf1 a:foo -all",			/* no top-level label */
		"v=spf1 a:foo.123 -all",
		"v=spf1 a:foo.example/ -all",
		"v=spf1 a/33 -all",
		"v=spf1 a//129 -all",
		"v=spf1 mx:mx.example/24/24 -all",
		"v=spf1 include -all",
		"v=spf1 include: -all",
		"v=spf1 exists -all",
		"v=spf1 all:foo.example",
		"v=spf1 -redirect=x.example",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 exp=a.example exp=b.example -all",
		"v=spf1 exists:%{q}.example.com -all",
		"v=spf1 exists:%{d0}.example.com -all",
		"v=spf1 exists:%{d -all",
		"v=spf1 exists:%x.example.com -all",
		"v=spf1 exists:%{c}.example.com -all",	/* c, r, t: explanations only */
		"v=spf1 foo=%{z} -all",
		"v=spf1 9a -all",
		"v=spf1 - -all",
		"v=spf1 =x -all",
		NULL,
	};

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *error = NULL;
		enum spf_result r = check_record("192.0.2.7", bad[i]);
		if (r != SPF_PERMERROR)
			fail_msg("%s: %s", bad[i], spf_result_name(r));
		assert_int_equal(spf_record_check(bad[i], &error), -1);
		assert_non_null(error);
		assert_non_null(strstr(out.reason, "syntax error"));
	}
	/* and these are fine */
	static const char *const good[] = {
		"v=spf1",
		"v=spf1 ",
		"v=spf1  -all",
		"v=spf1 a/24//64 mx//48 ?ptr ~exists:%{i}.x.example -all",
		"v=spf1 a:%{d} mx:%{o}. include:foo-bar.example. -all",
		"v=spf1 a:host.1-2 -all",
		"v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all",
		"v=spf1 x-foo=%{ir}.%{v}%%%_%- -all",
		"v=spf1 exists:%{i}.%{h}.%{p}.%{v}._x.example -all",
		NULL,
	};
	for (size_t i = 0; good[i] != NULL; i++) {
		const char *error = NULL;
		if (spf_record_check(good[i], &error) != 0)
			fail_msg("%s: %s", good[i], error);
	}
}

static void test_lookup_limits(void **state)
{
	struct rr chain[16];
	char names[16][32], recs[16][64];

	/* 10 includes in a chain are fine, 11 are too many */
	for (int len = 10; len <= 11; len++) {
		int i;
		for (i = 0; i < len; i++) {
			snprintf(names[i], sizeof(names[i]), "c%d.example", i);
			snprintf(recs[i], sizeof(recs[i]), "v=spf1 include:c%d.example -all", i + 1);
			chain[i] = (struct rr){ "TXT", names[i], recs[i] };
		}
		snprintf(names[i], sizeof(names[i]), "c%d.example", i);
		chain[i] = (struct rr){ "TXT", names[i], "v=spf1 +all" };
		chain[i + 1] = (struct rr){ NULL, NULL, NULL };
		extra = chain;
		if (len == 10) {
			assert_int_equal(check("192.0.2.1", "x@c0.example"), SPF_PASS);
			assert_int_equal(out.lookups, 10);
		} else {
			assert_int_equal(check("192.0.2.1", "x@c0.example"), SPF_PERMERROR);
			assert_non_null(strstr(out.reason, "more than 10"));
		}
		extra = NULL;
	}
	/* a loop stops at the limit */
	{
		struct rr loop[] = { { "TXT", "loop.example", "v=spf1 include:loop.example -all" },
				     { NULL, NULL, NULL } };
		extra = loop;
		assert_int_equal(check("192.0.2.1", "x@loop.example"), SPF_PERMERROR);
		assert_true(queries <= 12);
		extra = NULL;
	}
	/* void lookups: two are tolerated, the third is an error */
	assert_int_equal(check("192.0.2.1", "x@void2.example"), SPF_NEUTRAL);
	assert_int_equal(out.voids, 2);
	assert_int_equal(check("192.0.2.1", "x@void3.example"), SPF_PERMERROR);
	/* a, mx, ptr, exists count; ip4, ip6, all do not */
	assert_int_equal(check_record("192.0.2.1", "v=spf1 a:a.example mx:mx.example ptr a:a.example"
				      " ip4:10.0.0.1 ip6:::1 a:a.example a:a.example a:a.example a:a.example"
				      " a:a.example a:a.example -all"), SPF_FAIL);
	assert_int_equal(out.lookups, 10);
	assert_int_equal(check_record("192.0.2.1", "v=spf1 a:a.example mx:mx.example ptr a:a.example"
				      " a:a.example a:a.example a:a.example a:a.example a:a.example"
				      " a:a.example a:a.example -all"), SPF_PERMERROR);
	/* a match before the limit is reached wins */
	assert_int_equal(check_record("192.0.2.10", "v=spf1 a:a.example a:a.example a:a.example"
				      " a:a.example a:a.example a:a.example a:a.example a:a.example"
				      " a:a.example a:a.example a:a.example -all"), SPF_PASS);
}

static void expand_is(const char *macro, const struct spf_macro_ctx *mc, const char *want)
{
	char buf[1024];
	const char *error = NULL;

	if (spf_macro_expand(macro, strlen(macro), mc, false, buf, sizeof(buf), &error) != 0)
		fail_msg("%s: %s", macro, error);
	if (strcmp(buf, want) != 0)
		fail_msg("%s gave %s, wanted %s", macro, buf, want);
}

static void test_macros(void **state)
{
	struct spf_ip ip4, ip6;
	struct spf_macro_ctx mc = {
		.sender = "strong-bad@email.example.com", .domain = "email.example.com",
		.helo = "mx.example.org", .ip = &ip4,
	};
	char buf[512];
	const char *error;

	spf_ip_parse("192.0.2.3", &ip4);
	spf_ip_parse("2001:db8::cb01", &ip6);
	/* RFC 7208 section 7.4 */
	expand_is("%{s}", &mc, "strong-bad@email.example.com");
	expand_is("%{o}", &mc, "email.example.com");
	expand_is("%{d}", &mc, "email.example.com");
	expand_is("%{d4}", &mc, "email.example.com");
	expand_is("%{d3}", &mc, "email.example.com");
	expand_is("%{d2}", &mc, "example.com");
	expand_is("%{d1}", &mc, "com");
	expand_is("%{dr}", &mc, "com.example.email");
	expand_is("%{d2r}", &mc, "example.email");
	expand_is("%{l}", &mc, "strong-bad");
	expand_is("%{l-}", &mc, "strong.bad");
	expand_is("%{lr}", &mc, "strong-bad");
	expand_is("%{lr-}", &mc, "bad.strong");
	expand_is("%{l1r-}", &mc, "strong");
	expand_is("%{ir}.%{v}._spf.%{d2}", &mc, "3.2.0.192.in-addr._spf.example.com");
	expand_is("%{lr-}.lp._spf.%{d2}", &mc, "bad.strong.lp._spf.example.com");
	expand_is("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", &mc, "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expand_is("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", &mc, "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expand_is("%{d2}.trusted-domains.example.net", &mc, "example.com.trusted-domains.example.net");
	expand_is("%{h}", &mc, "mx.example.org");
	expand_is("%{p}", &mc, "unknown");
	expand_is("%%%_%-", &mc, "% %20");
	expand_is("%{D2}", &mc, "example.com");
	mc.ip = &ip6;
	expand_is("%{ir}.%{v}._spf.%{d2}", &mc,
		  "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
	/* uppercase: URL-escaped */
	mc.sender = "a/b c@x.example";
	expand_is("%{L}", &mc, "a%2Fb%20c");
	expand_is("%{l}", &mc, "a/b c");
	/* a sender without local part: postmaster */
	mc.sender = "@x.example";
	expand_is("%{l}", &mc, "postmaster");
	/* several delimiters, many parts */
	mc.sender = "a.b-c+d=e,f/g_h@x.example";
	expand_is("%{l2r.-+=,/_}", &mc, "b.a");
	expand_is("%{l100}", &mc, "a.b-c+d=e,f/g_h");
	/* explanation letters */
	mc.exp = true;
	mc.ip = &ip4;
	mc.receiver = "mx.test";
	mc.now = 1700000000;
	expand_is("%{c} %{r} %{t}", &mc, "192.0.2.3 mx.test 1700000000");
	mc.exp = false;
	assert_int_equal(spf_macro_expand("%{c}", 4, &mc, false, buf, sizeof(buf), &error), -1);
	/* errors */
	static const char *const bad[] = { "%{d0}", "%{x}", "%", "%{d", "%a", "%{}", "%{d2x}", "a b",
					   "%{d-r}", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		error = NULL;
		if (spf_macro_expand(bad[i], strlen(bad[i]), &mc, false, buf, sizeof(buf), &error) != -1)
			fail_msg("%s expanded to %s", bad[i], buf);
		assert_non_null(error);
	}
	/* an expansion that does not fit */
	assert_int_equal(spf_macro_expand("%{s}%{s}", 8, &mc, false, buf, 20, &error), -1);
}

static void test_truncation(void **state)
{
	char label[64], sender[400], buf[2048];
	struct spf_ip ip;
	struct spf_macro_ctx mc = { .domain = "d.example", .ip = &ip };
	const char *error;

	spf_ip_parse("192.0.2.3", &ip);
	memset(label, 'a', 60);
	label[60] = '\0';
	snprintf(sender, sizeof(sender), "u@%s.%s.%s.%s.%s.example", label, label, label, label, label);
	mc.sender = sender;
	/* %{o}.%{d}: 5*61+8 + 10 bytes; labels go from the left until <= 253 */
	assert_int_equal(spf_macro_expand("%{o}.%{d}", 9, &mc, true, buf, sizeof(buf), &error), 0);
	assert_true(strlen(buf) <= 253);
	assert_string_equal(buf + strlen(buf) - 18, ".example.d.example");
	assert_true(buf[0] == 'a');
	/* not truncated when it is not a domain */
	assert_int_equal(spf_macro_expand("%{o}.%{d}", 9, &mc, false, buf, sizeof(buf), &error), 0);
	assert_int_equal(strlen(buf), 5 * 61 + 7 + 10);
}

static void test_hostile(void **state)
{
	char rec[8192];
	size_t n;

	/* a long list of ip4 terms: no lookups, evaluated to the end */
	n = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	for (int i = 0; i < 400 && n + 32 < sizeof(rec); i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n, " ip4:10.%d.%d.0/24", i / 256, i % 256);
	snprintf(rec + n, sizeof(rec) - n, " -all");
	assert_int_equal(check_record("10.1.100.9", rec), SPF_PASS);
	assert_int_equal(check_record("11.1.100.9", rec), SPF_FAIL);
	assert_int_equal(queries, 1);
	/* macros that blow up to huge names are refused, not overflowed */
	n = (size_t)snprintf(rec, sizeof(rec), "v=spf1 exists:");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n, "%%{s}");
	snprintf(rec + n, sizeof(rec) - n, ".example -all");
	assert_int_equal(check_record("192.0.2.1", rec), SPF_PERMERROR);
	/* every byte in a term */
	for (unsigned c = 1; c < 256; c++) {
		char r[64];
		const char *error;
		snprintf(r, sizeof(r), "v=spf1 a:x%c.example ip4:1.2.3.%c -all", (char)c, (char)c);
		(void)spf_record_check(r, &error);
		(void)check_record("192.0.2.1", r);
	}
	/* control characters and tabs are not separators */
	assert_int_equal(check_record("192.0.2.1", "v=spf1\t-all"), SPF_NONE);
	assert_int_equal(check_record("192.0.2.1", "v=spf1 -all\r\n"), SPF_PERMERROR);
}

static void test_names(void **state)
{
	assert_string_equal(spf_result_name(SPF_PASS), "pass");
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	assert_string_equal(spf_result_name(SPF_PERMERROR), "permerror");
	assert_string_equal(spf_result_name(SPF_TEMPERROR), "temperror");
	assert_string_equal(spf_result_name(SPF_NONE), "none");
	assert_string_equal(spf_result_name(SPF_NEUTRAL), "neutral");
	assert_string_equal(spf_result_name(SPF_FAIL), "fail");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_results),
		cmocka_unit_test(test_none_and_errors),
		cmocka_unit_test(test_a_mx_ptr),
		cmocka_unit_test(test_include_redirect_exists),
		cmocka_unit_test(test_helo_identity),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_lookup_limits),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
