/* Unit tests for src/lib/dns.c that need no DNS server: MX ordering,
 * address literals, and the dns.resolver syntax (lib/config.c). (Real lookups against a
 * local dnsmasq are in tests/integration/test_outbound.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/config.h"
#include "lib/dns.h"

static void test_mx_sort_stable(void **state)
{
	struct dns_mx mx[5] = {
		{ "c", 20 }, { "a", 10 }, { "d", 20 }, { "b", 10 }, { "z", 0 },
	};

	dns_mx_sort(mx, 5);
	assert_string_equal(mx[0].host, "z");
	assert_string_equal(mx[1].host, "a");
	assert_string_equal(mx[2].host, "b");
	assert_string_equal(mx[3].host, "c");
	assert_string_equal(mx[4].host, "d");
	dns_mx_sort(mx, 0);
}

static void test_addr_literals(void **state)
{
	struct dns_addr a[2];
	size_t n = 0;
	const char *error = NULL;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a[0].ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a[0].ss;

	/* a literal address needs no server at all */
	assert_int_equal(dns_addr_lookup("127.0.0.1:1", "127.0.0.5", 2525, a, 2, &n, &error), DNS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 2525);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000005);
	assert_int_equal(dns_addr_lookup("", "::1", 25, a, 2, &n, &error), DNS_OK);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 25);
}

static void test_resolver_syntax(void **state)
{
	const char *error = NULL;

	assert_int_equal(config_resolver_check("", &error), 0);
	assert_int_equal(config_resolver_check("127.0.0.1", &error), 0);
	assert_int_equal(config_resolver_check("127.0.0.1:5353", &error), 0);
	assert_int_equal(config_resolver_check("[::1]:53", &error), 0);
	assert_int_equal(config_resolver_check("[::1]", &error), 0);
	assert_int_equal(config_resolver_check("::1", &error), 0);
	assert_int_equal(config_resolver_check("localhost", &error), -1);
	assert_non_null(error);
	assert_int_equal(config_resolver_check("127.0.0.1:0", &error), -1);
	assert_int_equal(config_resolver_check("127.0.0.1:65536", &error), -1);
	assert_int_equal(config_resolver_check("127.0.0.1:", &error), -1);
	assert_int_equal(config_resolver_check("[::1", &error), -1);
	assert_int_equal(config_resolver_check("[::1]x", &error), -1);
	assert_int_equal(config_resolver_check("1.2.3.4.5", &error), -1);
}

static void test_unreachable_server_is_temporary(void **state)
{
	struct dns_mx *mx = NULL;
	size_t n = 9;
	const char *error = NULL;

	/* nothing listens on port 9 of 127.0.0.1: a temporary failure, never
	 * "no such domain" (which would bounce mail) */
	assert_int_equal(dns_mx_lookup("127.0.0.1:9", "example.test", &mx, &n, &error), DNS_TEMPFAIL);
	assert_null(mx);
	assert_int_equal(n, 0);
	assert_non_null(error);
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void test_deadline(void **state)
{
	/* a resolver on loopback that never answers: without a deadline a
	 * lookup would wait for c-ares's retries (seconds); with one it
	 * gives up as a temporary failure, and later lookups fail at once */
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timespec t0, t1;
	char resolver[64], **txt = NULL;
	const char *error = NULL;
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", ntohs(sin.sin_port));
	dns_deadline_set(300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dns_txt_lookup(resolver, "example.test", &txt, &n, &error), DNS_TEMPFAIL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ms_between(&t0, &t1) > 2000)
		fail_msg("the lookup took %ld ms past a 300 ms deadline", ms_between(&t0, &t1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dns_txt_lookup(resolver, "example.test", &txt, &n, &error), DNS_TEMPFAIL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ms_between(&t0, &t1) > 1000)
		fail_msg("a lookup after the deadline took %ld ms", ms_between(&t0, &t1));
	dns_deadline_set(0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_sort_stable),
		cmocka_unit_test(test_addr_literals),
		cmocka_unit_test(test_resolver_syntax),
		cmocka_unit_test(test_unreachable_server_is_temporary),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
