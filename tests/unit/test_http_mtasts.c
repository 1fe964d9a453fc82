/* Unit tests for src/http/http_mtasts.c's pure part: the domain of a
 * Host header "mta-sts.DOMAIN[:PORT]". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_mtasts.h"

static void test_domain_taken(void **state)
{
	char out[64];

	assert_true(http_mtasts_domain("mta-sts.example.jp", out, sizeof(out)));
	assert_string_equal(out, "example.jp");
	assert_true(http_mtasts_domain("MTA-STS.Example.JP:443", out, sizeof(out)));
	assert_string_equal(out, "example.jp");
	assert_true(http_mtasts_domain("mta-sts.example.jp.", out, sizeof(out)));
	assert_string_equal(out, "example.jp");
	assert_true(http_mtasts_domain("mta-sts.a-b.example", out, sizeof(out)));
	assert_string_equal(out, "a-b.example");
}

static void test_domain_refused(void **state)
{
	char out[16];
	static const char *const bad[] = {
		"example.jp", "mta-sts.", "mta-sts", "mta-sts.:443", "mta-sts.example.jp:", "mta-sts.example.jp:x",
		"mta-sts.example.jp:443:1", "mta-sts.exa mple.jp", "mta-sts.ex/ample", "mta-sts.[::1]",
		"mta-sts.much-too-long-for-the-buffer.example", "xmta-sts.example.jp", "mta-sts..",
	};

	assert_false(http_mtasts_domain(NULL, out, sizeof(out)));
	assert_string_equal(out, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_mtasts_domain(bad[i], out, sizeof(out)))
			fail_msg("accepted %s as %s", bad[i], out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_taken),
		cmocka_unit_test(test_domain_refused),
	};

	return cmocka_run_group_tests_name("http_mtasts", tests, NULL, NULL);
}
