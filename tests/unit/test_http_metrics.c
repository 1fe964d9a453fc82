/* Unit tests for src/http/http_metrics.c: who may read /metrics. Only a
 * loopback peer address passes; the integration test reaches the refusal
 * over a real socket only on machines with a non-loopback address, so
 * the check is tested here for every kind of address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "http/http_metrics.h"

static void test_loopback(void **state)
{
	assert_true(http_addr_is_loopback("127.0.0.1"));
	assert_true(http_addr_is_loopback("127.0.0.2"));
	assert_true(http_addr_is_loopback("127.255.255.254"));
	assert_true(http_addr_is_loopback("::1"));
	assert_true(http_addr_is_loopback("0:0:0:0:0:0:0:1"));
	assert_true(http_addr_is_loopback("::ffff:127.0.0.1"));
	assert_true(http_addr_is_loopback("::ffff:127.1.2.3"));
}

static void test_refused(void **state)
{
	assert_false(http_addr_is_loopback(NULL));
	assert_false(http_addr_is_loopback(""));
	assert_false(http_addr_is_loopback("128.0.0.1"));
	assert_false(http_addr_is_loopback("126.255.255.255"));
	assert_false(http_addr_is_loopback("10.0.0.1"));
	assert_false(http_addr_is_loopback("192.0.2.2"));
	assert_false(http_addr_is_loopback("0.0.0.0"));
	assert_false(http_addr_is_loopback("::"));
	assert_false(http_addr_is_loopback("::2"));
	assert_false(http_addr_is_loopback("2001:db8::1"));
	assert_false(http_addr_is_loopback("fe80::1"));
	assert_false(http_addr_is_loopback("::ffff:10.0.0.1"));
	/* IPv4-compatible (deprecated) and NAT64 forms are not loopback */
	assert_false(http_addr_is_loopback("::127.0.0.1"));
	assert_false(http_addr_is_loopback("64:ff9b::127.0.0.1"));
	/* not addresses at all */
	assert_false(http_addr_is_loopback("localhost"));
	assert_false(http_addr_is_loopback("127.0.0.1 "));
	assert_false(http_addr_is_loopback(" 127.0.0.1"));
	assert_false(http_addr_is_loopback("127.0.0.1%lo"));
	assert_false(http_addr_is_loopback("127.1"));
	assert_false(http_addr_is_loopback("[::1]"));
	assert_false(http_addr_is_loopback("::1%lo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("http_metrics", tests, NULL, NULL);
}
