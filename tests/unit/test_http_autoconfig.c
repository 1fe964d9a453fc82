/* Unit tests for src/http/http_autoconfig.c's pure parts: the address in
 * an Autodiscover request body and the autoconfig paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_autoconfig.h"

static bool extract(const char *body, char *out, size_t size)
{
	return http_autodiscover_address(body, strlen(body), out, size);
}

static void test_address_taken(void **state)
{
	char out[400];

	assert_true(extract("<Request><EMailAddress>a@example.test</EMailAddress></Request>", out, sizeof(out)));
	assert_string_equal(out, "a@example.test");
	assert_true(extract("<EMailAddress>\r\n  b.c+d@Example.TEST \n</EMailAddress><EMailAddress>x@y</EMailAddress>",
			    out, sizeof(out)));
	assert_string_equal(out, "b.c+d@Example.TEST");
}

static void test_address_refused(void **state)
{
	static const char *const bad[] = {
		"", "no markup", "<EMailAddress>a@example.test", "</EMailAddress><EMailAddress>",
		"<EMailAddress></EMailAddress>", "<EMailAddress>   </EMailAddress>",
		"<EMailAddress>noat</EMailAddress>", "<EMailAddress>@example.test</EMailAddress>",
		"<EMailAddress>a@</EMailAddress>", "<EMailAddress>a@b@c</EMailAddress>",
		"<EMailAddress>a b@c</EMailAddress>", "<EMailAddress>a&amp;b@c</EMailAddress>",
		"<EMailAddress><x>a@c</x></EMailAddress>", "<EMailAddress>\"a\"@c</EMailAddress>",
		"<EMailAddress>\xc3\xa9@c</EMailAddress>",
	};
	char out[400], big[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(extract(bad[i], out, sizeof(out)));
	/* a local part of 65 bytes; an address longer than out */
	snprintf(big, sizeof(big), "<EMailAddress>%065d@c</EMailAddress>", 0);
	assert_false(extract(big, out, sizeof(out)));
	snprintf(big, sizeof(big), "<EMailAddress>%064d@c</EMailAddress>", 0);
	assert_true(extract(big, out, sizeof(out)));
	assert_false(extract(big, out, 20));
	/* the length given bounds the search: no NUL needed, none read past */
	assert_false(http_autodiscover_address("<EMailAddress>a@c</EMailAddress>", 20, out, sizeof(out)));
}

static void test_paths(void **state)
{
	assert_true(http_autoconfig_path("/mail/config-v1.1.xml"));
	assert_true(http_autoconfig_path("/mail/config-v1.1.xml?emailaddress=a%40b"));
	assert_true(http_autoconfig_path("/.well-known/autoconfig/mail/config-v1.1.xml"));
	assert_false(http_autoconfig_path("/mail/config-v1.1.xmlx"));
	assert_false(http_autoconfig_path("/.well-known/other"));
	assert_false(http_autoconfig_path("/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_taken),
		cmocka_unit_test(test_address_refused),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests_name("http_autoconfig", tests, NULL, NULL);
}
