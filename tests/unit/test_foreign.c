/* Unit tests for src/policy/foreign.c: CIDR parsing and matching (IPv4,
 * IPv6, IPv4-mapped), lists, private ranges, brute-force keys, reverse-DNS
 * suffix matching and the order of the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/foreign.h"

static bool in_cidr(const char *cidr, const char *ip)
{
	struct net_cidr c;
	struct net_addr a;
	const char *error;

	assert_int_equal(net_cidr_parse(cidr, &c, &error), 0);
	assert_int_equal(net_addr_parse(ip, &a), 0);
	return net_cidr_contains(&c, &a);
}

static void test_cidr_v4(void **state)
{
	assert_true(in_cidr("192.0.2.0/24", "192.0.2.0"));
	assert_true(in_cidr("192.0.2.0/24", "192.0.2.255"));
	assert_false(in_cidr("192.0.2.0/24", "192.0.3.0"));
	assert_true(in_cidr("127.0.0.2/32", "127.0.0.2"));
	assert_false(in_cidr("127.0.0.2/32", "127.0.0.3"));
	assert_true(in_cidr("127.0.0.2", "127.0.0.2"));		/* a bare address is a /32 */
	assert_true(in_cidr("0.0.0.0/0", "203.0.113.9"));
	assert_false(in_cidr("0.0.0.0/0", "2001:db8::1"));	/* IPv4 /0 is not everything */
	assert_true(in_cidr("10.0.0.0/8", "::ffff:10.9.8.7"));	/* IPv4-mapped */
	assert_true(in_cidr("172.16.0.0/12", "172.31.255.255"));
	assert_false(in_cidr("172.16.0.0/12", "172.32.0.0"));
}

static void test_cidr_v6(void **state)
{
	assert_true(in_cidr("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in_cidr("2001:db8::/32", "2001:db9::1"));
	assert_true(in_cidr("2001:db8:1:2::/64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
	assert_false(in_cidr("2001:db8:1:2::/64", "2001:db8:1:3::1"));
	assert_true(in_cidr("::/0", "2001:db8::1"));
	assert_true(in_cidr("2001:db8::1/128", "2001:db8::1"));
	assert_true(in_cidr("2001:db8::/31", "2001:db9::1"));	/* odd prefix lengths */
}

static void test_cidr_errors(void **state)
{
	struct net_cidr c;
	const char *error;
	char buf[64];

	assert_int_equal(net_cidr_parse("192.0.2.1/24", &c, &error), -1);	/* host bits */
	assert_non_null(strstr(error, "host bits"));
	assert_int_equal(net_cidr_parse("192.0.2.0/33", &c, &error), -1);
	assert_int_equal(net_cidr_parse("2001:db8::/129", &c, &error), -1);
	assert_int_equal(net_cidr_parse("192.0.2.0/", &c, &error), -1);
	assert_int_equal(net_cidr_parse("192.0.2.0/-1", &c, &error), -1);
	assert_int_equal(net_cidr_parse("example.jp", &c, &error), -1);
	assert_int_equal(net_cidr_parse("", &c, &error), -1);
	assert_int_equal(net_cidr_parse("1.2.3.4.5/32", &c, &error), -1);
	assert_int_equal(net_cidr_parse("10.0.0.0/8", &c, &error), 0);
	net_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(net_cidr_parse("2001:DB8:0::/32", &c, &error), 0);
	net_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::/32");
	assert_int_equal(net_cidr_parse("127.0.0.2", &c, &error), 0);
	net_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.2/32");
}

static void test_cidr_lists(void **state)
{
	struct net_addr a;
	const char *error;

	assert_int_equal(net_addr_parse("198.51.100.7", &a), 0);
	assert_true(net_cidr_list_match("192.0.2.0/24, 198.51.100.0/24", &a));
	assert_true(net_cidr_list_match("  ,198.51.100.7,", &a));
	assert_false(net_cidr_list_match("192.0.2.0/24", &a));
	assert_false(net_cidr_list_match("", &a));
	assert_false(net_cidr_list_match("garbage 198.51.100.1/24", &a));	/* bad entries never match */
	assert_int_equal(net_cidr_list_check("192.0.2.0/24, 2001:db8::/32", &error), 0);
	assert_int_equal(net_cidr_list_check("", &error), 0);
	assert_int_equal(net_cidr_list_check("192.0.2.0/24,nonsense", &error), -1);
}

static void test_private_and_keys(void **state)
{
	static const char *const priv[] = { "127.0.0.1", "127.0.0.2", "10.1.1.1", "172.20.0.1",
		"192.168.1.1", "100.64.0.1", "169.254.1.1", "::1", "fd00::1", "fe80::1", "::ffff:192.168.0.1" };
	static const char *const pub[] = { "8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "203.0.113.9" };
	struct net_addr a;
	char key[64];

	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		assert_int_equal(net_addr_parse(priv[i], &a), 0);
		if (!net_addr_is_private(&a))
			fail_msg("%s should be private", priv[i]);
	}
	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		assert_int_equal(net_addr_parse(pub[i], &a), 0);
		if (net_addr_is_private(&a))
			fail_msg("%s should not be private", pub[i]);
	}
	assert_int_equal(net_addr_parse("203.0.113.9", &a), 0);
	net_addr_block_key(&a, key, sizeof(key));
	assert_string_equal(key, "203.0.113.9");
	assert_int_equal(net_addr_parse("2001:db8:1:2:3:4:5:6", &a), 0);
	net_addr_block_key(&a, key, sizeof(key));
	assert_string_equal(key, "2001:db8:1:2::/64");
	assert_int_equal(net_addr_parse("2001:db8:1:2:ffff::", &a), 0);
	net_addr_block_key(&a, key, sizeof(key));
	assert_string_equal(key, "2001:db8:1:2::/64");	/* one /64, one key */
	assert_int_equal(net_addr_parse("::ffff:203.0.113.9", &a), 0);
	net_addr_block_key(&a, key, sizeof(key));
	assert_string_equal(key, "203.0.113.9");
	assert_int_equal(net_addr_parse("nonsense", &a), -1);
	assert_int_equal(net_addr_parse("", &a), -1);
}

static void test_suffix_match(void **state)
{
	const char *list = "google.com,outlook.com, hotmail.com,ap-northeast-1.compute.amazonaws.com";

	assert_true(foreign_rdns_suffix_match(list, "mail-qk1-f170.google.com"));
	assert_true(foreign_rdns_suffix_match(list, "google.com"));
	assert_true(foreign_rdns_suffix_match(list, "MAIL.Google.COM."));
	assert_true(foreign_rdns_suffix_match(list, "ec2-13-112-1-1.ap-northeast-1.compute.amazonaws.com"));
	assert_true(foreign_rdns_suffix_match(list, "x.hotmail.com"));
	assert_false(foreign_rdns_suffix_match(list, "evilgoogle.com"));
	assert_false(foreign_rdns_suffix_match(list, "google.com.evil.example"));
	assert_false(foreign_rdns_suffix_match(list, "ec2-1-1-1-1.us-east-1.compute.amazonaws.com"));
	assert_false(foreign_rdns_suffix_match(list, "com"));
	assert_false(foreign_rdns_suffix_match(list, ""));
	assert_false(foreign_rdns_suffix_match("", "mail.google.com"));
	assert_true(foreign_rdns_suffix_match(".google.com", "a.google.com"));	/* leading dot ok */
	assert_true(foreign_rdns_suffix_match("localhost", "localhost"));
}

/* A reverse-DNS answer for the decision tests, counting its calls. */
struct fake_rdns {
	const char *names;
	unsigned calls;
};

static int fake_rdns(void *ctx, char *buf, size_t size)
{
	struct fake_rdns *f = ctx;

	f->calls++;
	if (f->names == NULL)
		return 0;
	snprintf(buf, size, "%s", f->names);
	return 1;
}

static void input_init(struct foreign_input *in, const char *ip, const char *db_cc, struct fake_rdns *f)
{
	memset(in, 0, sizeof(*in));
	assert_int_equal(net_addr_parse(ip, &in->addr), 0);
	in->enabled = true;
	in->db_cc = db_cc;
	in->missing_allow = true;
	in->home = "JP";
	in->domain_allow = "";
	in->server_allow = "";
	in->rdns_suffixes = "google.com,outlook.com";
	in->rdns = fake_rdns;
	in->rdns_ctx = f;
}

static void test_decision_order(void **state)
{
	struct fake_rdns f = { NULL, 0 };
	struct foreign_input in;
	struct foreign_decision d;

	/* home country */
	input_init(&in, "133.11.0.1", "JP", &f);
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_HOME);
	assert_string_equal(d.country, "JP");
	assert_int_equal(f.calls, 0);

	/* foreign: refused, no lookup wasted before the cheap rules */
	input_init(&in, "8.8.8.8", "US", &f);
	foreign_decide(&in, &d);
	assert_false(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_COUNTRY);
	assert_string_equal(d.country, "US");
	assert_int_equal(f.calls, 1);

	/* switched off: allowed, but the country is still known (auth-ok events) */
	in.enabled = false;
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_OFF);
	assert_string_equal(d.country, "US");

	/* the domain's and the server's CIDR lists, before reverse DNS */
	f.calls = 0;
	input_init(&in, "8.8.8.8", "US", &f);
	in.domain_allow = "8.8.8.0/24";
	in.server_allow = "8.0.0.0/8";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_ALLOW_DOMAIN);
	in.domain_allow = "";
	foreign_decide(&in, &d);
	assert_int_equal(d.rule, FOREIGN_RULE_ALLOW_SERVER);
	assert_int_equal(f.calls, 0);

	/* reverse DNS: any of the verified names may match */
	f.names = "host.example.net\nmail-yw1.google.com";
	in.server_allow = "";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_RDNS);
	assert_string_equal(d.rdns, "mail-yw1.google.com");
	f.names = "mail.evilgoogle.com";
	foreign_decide(&in, &d);
	assert_false(d.allowed);

	/* the database knows no country: refused (not shown to be at home) */
	f.names = NULL;
	input_init(&in, "192.0.2.1", "", &f);
	foreign_decide(&in, &d);
	assert_false(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_UNKNOWN);
}

static void test_private_and_override(void **state)
{
	struct fake_rdns f = { NULL, 0 };
	struct foreign_input in;
	struct foreign_decision d;

	input_init(&in, "127.0.0.2", NULL, &f);
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_PRIVATE);
	assert_string_equal(d.country, "");

	/* the override table comes before everything: a loopback address can be foreign */
	in.override_cc = "US";
	foreign_decide(&in, &d);
	assert_false(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_COUNTRY);
	assert_string_equal(d.country, "US");
	/* ... and beats the database */
	input_init(&in, "8.8.8.8", "US", &f);
	in.override_cc = "JP";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_HOME);
	/* the explicit exemptions still apply to an overridden address */
	input_init(&in, "127.0.0.2", NULL, &f);
	in.override_cc = "US";
	in.domain_allow = "127.0.0.2/32";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_ALLOW_DOMAIN);
	/* the home country is compared without case */
	input_init(&in, "8.8.8.8", "US", &f);
	in.home = "us";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
}

static void test_missing_database(void **state)
{
	struct fake_rdns f = { NULL, 0 };
	struct foreign_input in;
	struct foreign_decision d;

	input_init(&in, "8.8.8.8", NULL, &f);
	in.db_missing = true;
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_GEOIP_MISSING);
	in.missing_allow = false;
	foreign_decide(&in, &d);
	assert_false(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_GEOIP_MISSING);
	/* exemptions still work without a database */
	in.server_allow = "8.8.8.8";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	/* an override gives a country even then */
	in.server_allow = "";
	in.override_cc = "JP";
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_HOME);
	/* private addresses stay exempt */
	input_init(&in, "10.0.0.1", NULL, &f);
	in.db_missing = true;
	in.missing_allow = false;
	foreign_decide(&in, &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, FOREIGN_RULE_PRIVATE);
	assert_string_equal(foreign_rule_name(FOREIGN_RULE_GEOIP_MISSING), "geoip-missing");
}

static void test_rdns_lookup_bounded(void **state)
{
	char buf[256], resolver[64];
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timespec t0, t1;
	long ms;
	int fd;

	/* not an address: nothing, at once */
	assert_int_equal(foreign_rdns_lookup("127.0.0.1:1", "nonsense", 500, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* a resolver on loopback that never answers: the call returns within
	 * its bound, with nothing */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", ntohs(sin.sin_port));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(foreign_rdns_lookup(resolver, "192.0.2.1", 300, buf, sizeof(buf)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (ms > 1500)
		fail_msg("the lookup took %ld ms for a bound of 300 ms", ms);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_cidr_errors),
		cmocka_unit_test(test_cidr_lists),
		cmocka_unit_test(test_private_and_keys),
		cmocka_unit_test(test_suffix_match),
		cmocka_unit_test(test_decision_order),
		cmocka_unit_test(test_private_and_override),
		cmocka_unit_test(test_missing_database),
		cmocka_unit_test(test_rdns_lookup_bounded),
	};

	return cmocka_run_group_tests_name("foreign", tests, NULL, NULL);
}
