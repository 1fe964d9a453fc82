/* Unit tests for src/spam/spam_rules.c: reading check results back from
 * Authentication-Results, and which rules fire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spam/spam_rules.h"

static bool fired(const struct spam_rule_hit *hits, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(hits[i].name, name) == 0)
			return true;
	}
	return false;
}

static void test_auth_results(void **state)
{
	static const char msg[] =
		"Authentication-Results: mx.example.test;\r\n\tspf=softfail smtp.mailfrom=a@b.example;\r\n"
		"\tdkim=fail header.d=b.example; dkim=PASS header.d=c.example;\r\n\tdmarc=none header.from=b.example\r\n"
		"Authentication-Results: upstream.example; spf=pass; dmarc=fail\r\n"
		"From: a@b.example\r\n\r\nbody dmarc=fail\r\n";
	struct spam_auth auth;

	assert_true(spam_auth_from_message(msg, sizeof(msg) - 1, &auth));
	assert_string_equal(auth.spf, "softfail");
	assert_string_equal(auth.dkim, "pass");	/* any pass wins */
	assert_string_equal(auth.dmarc, "none");	/* the topmost field only */
	assert_false(spam_auth_from_message("From: a@b\r\n\r\nx", 15, &auth));
	assert_string_equal(auth.spf, "");
	/* "xdmarc=" is not the method; a value cut short is not read */
	static const char odd[] = "Authentication-Results: h; xdmarc=fail; spf=\r\n\r\n";
	assert_true(spam_auth_from_message(odd, sizeof(odd) - 1, &auth));
	assert_string_equal(auth.dmarc, "");
	assert_string_equal(auth.spf, "");
}

static void test_rules(void **state)
{
	struct spam_rule_hit hits[SPAM_RULES_MAX];
	struct spam_auth auth;
	double total;
	size_t n;
	static const char good[] = "From: a@b.example\r\nSubject: hi\r\n\r\nbody \xe2\x80\x94\r\n";
	static const char bad[] = "Subject: \xe5\xae\x89\xe3\x81\x84\r\n\r\nbody\r\n";

	memset(&auth, 0, sizeof(auth));
	n = spam_rules_eval(good, sizeof(good) - 1, NULL, hits, &total);
	assert_int_equal(n, 0);
	assert_true(total == 0);
	strcpy(auth.spf, "fail");
	strcpy(auth.dkim, "fail");
	strcpy(auth.dmarc, "fail");
	n = spam_rules_eval(bad, sizeof(bad) - 1, &auth, hits, &total);
	assert_int_equal(n, 5);
	assert_true(fired(hits, n, "SPF_FAIL") && fired(hits, n, "DKIM_FAIL") && fired(hits, n, "DMARC_FAIL"));
	assert_true(fired(hits, n, "NO_FROM") && fired(hits, n, "HEADER_8BIT_UNENCODED"));
	assert_true(total > 4.29 && total < 4.31);
	strcpy(auth.spf, "softfail");
	strcpy(auth.dkim, "pass");
	strcpy(auth.dmarc, "pass");
	n = spam_rules_eval(good, sizeof(good) - 1, &auth, hits, &total);
	assert_int_equal(n, 1);
	assert_string_equal(hits[0].name, "SPF_SOFTFAIL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_results),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
