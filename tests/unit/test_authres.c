/* Unit tests for src/mail/authres.c: building Authentication-Results and
 * finding forged copies of ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mail/authres.h"

static void test_build_full(void **state)
{
	struct authres_dkim d[2] = {
		{ "pass", "example.org", "sel1", "abc/def+ghi=", "" },
		{ "fail", "other.example", "s2", "zzzz", "signature did not \"verify\"" },
	};
	struct authres ar = {
		.authserv_id = "mail.example.test",
		.spf_result = "pass", .spf_identity = "user@example.org",
		.spf_comment = "192.0.2.7 matched ip4:192.0.2.0/24 (of example.org)",
		.dkim_checked = true, .dkim = d, .ndkim = 2,
		.dmarc_result = "pass", .dmarc_from = "example.org", .dmarc_policy = "reject",
		.dmarc_comment = "p=reject dis=none",
	};
	struct strbuf b = STRBUF_INIT;

	authres_build(&ar, &b);
	assert_string_equal(strbuf_cstr(&b),
		"Authentication-Results: mail.example.test;\r\n"
		"\tspf=pass (192.0.2.7 matched ip4:192.0.2.0/24 [of example.org]) smtp.mailfrom=user@example.org;\r\n"
		"\tdkim=pass header.d=example.org header.s=sel1 header.b=\"abc/def+ghi=\";\r\n"
		"\tdkim=fail reason=\"signature did not \\\"verify\\\"\" header.d=other.example header.s=s2"
		" header.b=zzzz;\r\n"
		"\tdmarc=pass (p=reject dis=none) header.from=example.org policy.dmarc=reject\r\n");
	strbuf_free(&b);
}

static void test_build_edge(void **state)
{
	struct authres ar = { .authserv_id = "mx.test" };
	struct strbuf b = STRBUF_INIT;

	authres_build(&ar, &b);
	assert_string_equal(strbuf_cstr(&b), "Authentication-Results: mx.test; none\r\n");
	strbuf_truncate(&b, 0);
	/* HELO identity, odd values quoted, unknown result words refused */
	ar.spf_result = "pass";
	ar.spf_helo = true;
	ar.spf_identity = "we;ird(helo)\r\n";
	ar.dkim_checked = true;
	ar.dmarc_result = "bogus";
	ar.dmarc_comment = "a (nested) \\ comment\r\nX-Injected: 1";
	authres_build(&ar, &b);
	assert_string_equal(strbuf_cstr(&b),
		"Authentication-Results: mx.test;\r\n"
		"\tspf=pass smtp.helo=\"we;ird(helo)\";\r\n"
		"\tdkim=none;\r\n"
		"\tdmarc=permerror (a [nested] / comment??X-Injected: 1)\r\n");
	strbuf_truncate(&b, 0);
	/* a local part that is not a dot-atom: quoted */
	ar.spf_helo = false;
	ar.spf_identity = "\"a b\"@example.org";
	ar.dkim_checked = false;
	ar.dmarc_result = NULL;
	authres_build(&ar, &b);
	assert_string_equal(strbuf_cstr(&b),
		"Authentication-Results: mx.test;\r\n\tspf=pass smtp.mailfrom=\"\\\"a b\\\"@example.org\"\r\n");
	strbuf_free(&b);
}

static void test_find_ours(void **state)
{
	const char msg[] =
		"Authentication-Results: mail.example.test; spf=pass smtp.mailfrom=a@b.example\r\n"
		"Received: from x\r\n"
		"authentication-results:   (comment) MAIL.Example.Test.;\r\n"
		"\tdkim=pass header.d=b.example\r\n"
		"Authentication-Results: other.example; dkim=pass\r\n"
		"Authentication-Results: \"mail.example.test\"; none\r\n"
		"Authentication-Results: mail.example.testing; none\r\n"
		"Authentication-Results: mail.example.test(c); none\r\n"
		"Subject: hi\r\n"
		"\r\n"
		"Authentication-Results: mail.example.test; in the body\r\n";
	struct authres_range r[8];
	bool more;
	size_t n = authres_find_ours(msg, sizeof(msg) - 1, "mail.example.test", r, 8, &more);

	assert_int_equal(n, 4);
	assert_false(more);
	assert_int_equal(r[0].offset, 0);
	assert_memory_equal(msg + r[0].offset + r[0].size, "Received:", 9);
	assert_memory_equal(msg + r[1].offset, "authentication-results:", 23);
	assert_memory_equal(msg + r[1].offset + r[1].size, "Authentication-Results: other", 29);
	assert_memory_equal(msg + r[2].offset, "Authentication-Results: \"mail", 29);
	assert_memory_equal(msg + r[3].offset, "Authentication-Results: mail.example.test(c)", 44);
	assert_int_equal(authres_find_ours(msg, sizeof(msg) - 1, "mail.example.test", r, 2, &more), 2);
	assert_true(more);
	assert_int_equal(authres_find_ours(msg, sizeof(msg) - 1, "nobody.test", r, 8, &more), 0);
	/* LF-only, no body, hostile bytes */
	{
		const char lf[] = "Authentication-Results: mx.test; none\nSubject: x\n";
		assert_int_equal(authres_find_ours(lf, sizeof(lf) - 1, "mx.test", r, 8, &more), 1);
		assert_int_equal(r[0].size, 38);
		for (unsigned c = 0; c < 256; c++) {
			char h[64];
			int len = snprintf(h, sizeof(h), "Authentication-Results: (%c\"mx.test%c;\r\n\r\n", (char)c, (char)c);
			(void)authres_find_ours(h, (size_t)len, "mx.test", r, 8, &more);
		}
	}
	{
		char id[16];
		assert_int_equal(authres_authserv_id(" ((a)b) x.test ; none", 21, id, sizeof(id)), 0);
		assert_string_equal(id, "x.test");
		assert_int_equal(authres_authserv_id("  ", 2, id, sizeof(id)), -1);
		assert_int_equal(authres_authserv_id("\"unterminated", 13, id, sizeof(id)), -1);
		assert_int_equal(authres_authserv_id("waytoolongforthebuffer", 22, id, sizeof(id)), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_full),
		cmocka_unit_test(test_build_edge),
		cmocka_unit_test(test_find_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
