/* Unit tests for src/policy/dmarc.c: records, the From: domain,
 * organizational domains, alignment and the verdict with a table DNS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "policy/dmarc.h"

static void test_record(void **state)
{
	struct dmarc_record r;
	const char *e = NULL;

	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject", &r, &e), 1);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_false(r.has_sp);
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_int_equal(dmarc_record_parse("v=DMARC1;p=quarantine;sp=none;pct=20;adkim=s;aspf=s;"
					    "rua=mailto:d@example.org;np=reject;fo=1;zz=unknown;", &r, &e), 1);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_true(r.has_sp);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_true(r.has_np);
	assert_int_equal(r.np, DMARC_POLICY_REJECT);
	assert_int_equal(r.pct, 20);
	assert_true(r.adkim_strict);
	assert_true(r.aspf_strict);
	assert_string_equal(r.rua, "mailto:d@example.org");
	assert_int_equal(dmarc_record_parse("  v = DMARC1 ;  p = Reject ; pct = 0 ", &r, &e), 1);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.pct, 0);
	/* pct out of range: the default */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; pct=101", &r, &e), 1);
	assert_int_equal(r.pct, 100);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; pct=-1", &r, &e), 1);
	assert_int_equal(r.pct, 100);
	/* not DMARC records at all */
	assert_int_equal(dmarc_record_parse("v=spf1 -all", &r, &e), 0);
	assert_int_equal(dmarc_record_parse("p=reject; v=DMARC1", &r, &e), 0);
	assert_int_equal(dmarc_record_parse("v=DMARC2; p=reject", &r, &e), 0);
	assert_int_equal(dmarc_record_parse("", &r, &e), 0);
	assert_int_equal(dmarc_record_parse("v=DMARC1x; p=reject", &r, &e), 0);
	/* DMARC records without a usable policy */
	assert_int_equal(dmarc_record_parse("v=DMARC1", &r, &e), -1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=block", &r, &e), -1);
	assert_non_null(strstr(e, "invalid policy"));
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=reject; sp=maybe", &r, &e), -1);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p", &r, &e), -1);
	/* ... unless there is a reporting address: p=none (6.6.3) */
	assert_int_equal(dmarc_record_parse("v=DMARC1; rua=mailto:x@example.org", &r, &e), 1);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=bogus; rua=mailto:x@example.org", &r, &e), 1);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	/* hostile: very long, every byte */
	{
		char big[4000];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "v=DMARC1; p=reject; x=", 22);
		assert_int_equal(dmarc_record_parse(big, &r, &e), -1);
		for (unsigned c = 1; c < 256; c++) {
			char t[40];
			snprintf(t, sizeof(t), "v=DMARC1; p=re%cject; %c=%c", (char)c, (char)c, (char)c);
			(void)dmarc_record_parse(t, &r, &e);
		}
	}
}

static int from(const char *header, char *dom)
{
	const char *e = NULL;
	int r = dmarc_from_domain(header, strlen(header), dom, 256, &e);

	if (r <= 0)
		assert_non_null(e);
	return r;
}

static void test_from_domain(void **state)
{
	char d[256];

	assert_int_equal(from("From: user@Example.ORG\r\nTo: x@y.test\r\n\r\nbody\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("Subject: x\r\nFrom: \"Doe, John @ home\" <john@sub.example.org.>\r\n\r\n", d), 1);
	assert_string_equal(d, "sub.example.org");
	assert_int_equal(from("From: John (the @man, really) Doe <john@example.org> (work)\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From: john@example.org (John Doe)\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From: \"a@evil.test\"@example.org\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From:\r\n John\r\n <john@example.org>\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From: <@route.test,@other.test:john@example.org>\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("from: A <a@example.org>, B <b@EXAMPLE.org>\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From: friends: a@example.org, b@example.org;\r\n\r\n", d), 1);
	assert_string_equal(d, "example.org");
	/* the body never counts */
	assert_int_equal(from("To: x@y.test\r\n\r\nFrom: a@example.org\r\n", d), 0);
	assert_int_equal(from("To: x@y.test\r\n\r\n", d), 0);
	/* what DMARC cannot use */
	assert_int_equal(from("From: a@example.org\r\nFrom: b@example.org\r\n\r\n", d), -1);
	assert_int_equal(from("From: a@example.org, b@evil.test\r\n\r\n", d), -1);
	assert_int_equal(from("From: A <a@evil.test> <a@example.org>\r\n\r\n", d), -1);
	assert_int_equal(from("From: John Doe\r\n\r\n", d), -1);
	assert_int_equal(from("From: \r\n\r\n", d), -1);
	assert_int_equal(from("From: undisclosed:;\r\n\r\n", d), -1);
	assert_int_equal(from("From: a@[192.0.2.1]\r\n\r\n", d), -1);
	assert_int_equal(from("From: <a@example.org\r\n\r\n", d), -1);
	assert_int_equal(from("From: a@exa mple.org\r\n\r\n", d), 1);	/* CFWS inside a domain */
	assert_string_equal(d, "example.org");
	assert_int_equal(from("From: a@example..org\r\n\r\n", d), -1);
	assert_int_equal(from("From: a@exa/mple.org\r\n\r\n", d), -1);
	assert_int_equal(from("From: a@\r\n\r\n", d), -1);
	/* hostile */
	{
		char big[3000];
		int n = snprintf(big, sizeof(big), "From: ");
		memset(big + n, 'a', 1500);
		snprintf(big + n + 1500, sizeof(big) - (size_t)n - 1500, "@example.org\r\n\r\n");
		assert_int_equal(from(big, d), -1);
		for (unsigned c = 1; c < 256; c++) {
			char h[64];
			const char *e;
			snprintf(h, sizeof(h), "From: %c\"(<a@b%c.example>%c\r\n\r\n", (char)c, (char)c, (char)c);
			(void)dmarc_from_domain(h, strlen(h), d, sizeof(d), &e);
		}
		assert_int_equal(from("From: ((((((a@b.example\r\n\r\n", d), -1);
		assert_int_equal(from("From: \"unterminated <a@b.example>\r\n\r\n", d), -1);
	}
}

static void test_org_and_alignment(void **state)
{
	char o[256];

	dmarc_org_domain("mail.sub.example.com", o, sizeof(o));
	assert_string_equal(o, "example.com");
	dmarc_org_domain("Example.COM.", o, sizeof(o));
	assert_string_equal(o, "example.com");
	dmarc_org_domain("x.foo.co.uk", o, sizeof(o));
	assert_string_equal(o, "foo.co.uk");
	dmarc_org_domain("co.uk", o, sizeof(o));
	assert_string_equal(o, "co.uk");
	dmarc_org_domain("a.b.example.test", o, sizeof(o));
	assert_string_equal(o, "example.test");
	assert_true(dmarc_aligned("example.org", "EXAMPLE.org", true));
	assert_true(dmarc_aligned("bounce.example.org", "example.org", false));
	assert_false(dmarc_aligned("bounce.example.org", "example.org", true));
	assert_true(dmarc_aligned("a.example.org", "b.example.org", false));
	assert_false(dmarc_aligned("example.org", "example.net", false));
	assert_false(dmarc_aligned("a.co.uk", "b.co.uk", false));
	assert_false(dmarc_aligned("", "example.org", false));
	assert_false(dmarc_aligned(NULL, "example.org", false));
}

/* ---- evaluation against a table */

struct txt_rr {
	const char *name, *value;
};

static const struct txt_rr zone[] = {
	{ "_dmarc.reject.example", "v=DMARC1; p=reject" },
	{ "_dmarc.quar.example", "v=DMARC1; p=quarantine; pct=50" },
	{ "_dmarc.sub.example", "v=DMARC1; p=reject; sp=quarantine" },
	{ "_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s" },
	{ "_dmarc.none.example", "v=DMARC1; p=none" },
	{ "_dmarc.two.example", "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", "v=DMARC1; p=none" },
	{ "_dmarc.other.example", "some text" },
	{ "_dmarc.broken.example", "v=DMARC1; p=sometimes" },
	{ "_dmarc.temp.example", "!TEMP" },
	{ "_dmarc.own.sub.example", "v=DMARC1; p=none" },
	{ NULL, NULL },
};

static unsigned lookups;

static enum dns_result table_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	size_t n = 0;

	lookups++;
	*txt_r = calloc(8, sizeof(char *));
	for (size_t i = 0; zone[i].name != NULL; i++) {
		if (strcasecmp(zone[i].name, name) != 0)
			continue;
		if (strcmp(zone[i].value, "!TEMP") == 0) {
			free(*txt_r);
			*txt_r = NULL;
			return DNS_TEMPFAIL;
		}
		(*txt_r)[n++] = strdup(zone[i].value);
	}
	*n_r = n;
	if (n == 0) {
		free(*txt_r);
		*txt_r = NULL;
		return DNS_NXDOMAIN;
	}
	return DNS_OK;
}

static void table_free(void *ctx, char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

static struct dmarc_verdict v;

static enum dmarc_res eval(const char *from_domain, const char *spf_domain, bool spf_pass, const char *dkim,
			   unsigned sample)
{
	const char *d[1] = { dkim };
	struct dmarc_input in = {
		.from_domain = from_domain, .spf_domain = spf_domain, .spf_pass = spf_pass,
		.dkim_domains = d, .ndkim = dkim != NULL ? 1 : 0, .sample = sample,
	};

	lookups = 0;
	return dmarc_evaluate(table_txt, table_free, NULL, &in, &v);
}

static void test_evaluate(void **state)
{
	/* aligned SPF, aligned DKIM, relaxed alignment */
	assert_int_equal(eval("reject.example", "reject.example", true, NULL, 0), DMARC_RES_PASS);
	assert_true(v.spf_aligned);
	assert_false(v.dkim_aligned);
	assert_int_equal(v.disposition, DMARC_POLICY_NONE);
	assert_int_equal(eval("reject.example", "bounce.reject.example", true, NULL, 0), DMARC_RES_PASS);
	assert_int_equal(eval("reject.example", "evil.test", true, "mail.reject.example", 0), DMARC_RES_PASS);
	assert_true(v.dkim_aligned);
	/* SPF passing for an unaligned domain, SPF failing: fail */
	assert_int_equal(eval("reject.example", "evil.test", true, "evil.test", 0), DMARC_RES_FAIL);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	assert_int_equal(v.disposition, DMARC_POLICY_REJECT);
	assert_string_equal(v.record_domain, "reject.example");
	assert_int_equal(eval("reject.example", "reject.example", false, NULL, 0), DMARC_RES_FAIL);
	/* a subdomain: the organizational domain's record, sp= applies */
	assert_int_equal(eval("mail.sub.example", "x.test", false, NULL, 0), DMARC_RES_FAIL);
	assert_string_equal(v.record_domain, "sub.example");
	assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(lookups, 2);
	/* without sp= the subdomain gets p= */
	assert_int_equal(eval("a.b.reject.example", "x.test", false, NULL, 0), DMARC_RES_FAIL);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	/* a subdomain with its own record: its p= */
	assert_int_equal(eval("own.sub.example", "x.test", false, NULL, 0), DMARC_RES_FAIL);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	assert_int_equal(lookups, 1);
	/* strict alignment */
	assert_int_equal(eval("strict.example", "bounce.strict.example", true, "mail.strict.example", 0),
			 DMARC_RES_FAIL);
	assert_int_equal(eval("strict.example", "strict.example", true, NULL, 0), DMARC_RES_PASS);
	/* pct=50: samples 0..49 get the policy, 50..99 the next lower one */
	assert_int_equal(eval("quar.example", "x.test", false, NULL, 49), DMARC_RES_FAIL);
	assert_int_equal(v.disposition, DMARC_POLICY_QUARANTINE);
	assert_int_equal(eval("quar.example", "x.test", false, NULL, 50), DMARC_RES_FAIL);
	assert_int_equal(v.disposition, DMARC_POLICY_NONE);
	assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
	/* p=none: fail, nothing to do */
	assert_int_equal(eval("none.example", "x.test", false, NULL, 0), DMARC_RES_FAIL);
	assert_int_equal(v.disposition, DMARC_POLICY_NONE);
	/* no record, several records, other TXT: none */
	assert_int_equal(eval("nothing.example", "x.test", false, NULL, 0), DMARC_RES_NONE);
	assert_int_equal(eval("two.example", "x.test", false, NULL, 0), DMARC_RES_NONE);
	assert_non_null(strstr(v.reason, "more than one"));
	assert_int_equal(lookups, 1);
	assert_int_equal(eval("other.example", "x.test", false, NULL, 0), DMARC_RES_NONE);
	/* a broken record and DNS trouble */
	assert_int_equal(eval("broken.example", "x.test", false, NULL, 0), DMARC_RES_PERMERROR);
	assert_int_equal(eval("temp.example", "x.test", false, NULL, 0), DMARC_RES_TEMPERROR);
	assert_int_equal(eval("", "x.test", false, NULL, 0), DMARC_RES_NONE);
	assert_string_equal(dmarc_res_name(DMARC_RES_FAIL), "fail");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_from_domain),
		cmocka_unit_test(test_org_and_alignment),
		cmocka_unit_test(test_evaluate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
