/* Unit tests for src/lib/dns_cache.c: TTLs from answer packets (positive,
 * negative with and without an SOA, failures), expiry on an injected
 * clock, the size bound, and hostile packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include <cmocka.h>

#include "lib/dns_cache.h"

/* ---- building answer packets */

struct pkt {
	unsigned char b[1024];
	size_t len;
	unsigned an, ns;
};

static void put16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void put_name(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		p->b[p->len++] = (unsigned char)l;
		memcpy(p->b + p->len, name, l);
		p->len += l;
		name += l + (dot != NULL);
	}
	p->b[p->len++] = 0;
}

/* A response to name/type with rcode (0 NOERROR, 3 NXDOMAIN). */
static void pkt_start(struct pkt *p, const char *name, int type, unsigned rcode)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);
	put16(p, 1);
	put16(p, 0);	/* ancount, nscount, arcount: patched */
	put16(p, 0);
	put16(p, 0);
	put_name(p, name);
	put16(p, (unsigned)type);
	put16(p, 1);
}

static void pkt_counts(struct pkt *p)
{
	p->b[6] = (unsigned char)(p->an >> 8);
	p->b[7] = (unsigned char)p->an;
	p->b[8] = (unsigned char)(p->ns >> 8);
	p->b[9] = (unsigned char)p->ns;
}

/* A TXT (or CNAME-typed) answer record with a compressed owner name. */
static void pkt_answer(struct pkt *p, int type, uint32_t ttl, const char *text)
{
	size_t l = strlen(text);

	put16(p, 0xc00c);
	put16(p, (unsigned)type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, (unsigned)l + 1);
	p->b[p->len++] = (unsigned char)l;
	memcpy(p->b + p->len, text, l);
	p->len += l;
	p->an++;
	pkt_counts(p);
}

static void pkt_soa(struct pkt *p, uint32_t ttl, uint32_t minimum)
{
	size_t rdlen_at;

	put16(p, 0xc00c);
	put16(p, ns_t_soa);
	put16(p, 1);
	put32(p, ttl);
	rdlen_at = p->len;
	put16(p, 0);
	put_name(p, "ns.example");
	put_name(p, "hostmaster.example");
	put32(p, 1);		/* serial */
	put32(p, 3600);		/* refresh */
	put32(p, 600);		/* retry */
	put32(p, 86400);	/* expire */
	put32(p, minimum);
	p->b[rdlen_at] = (unsigned char)((p->len - rdlen_at - 2) >> 8);
	p->b[rdlen_at + 1] = (unsigned char)(p->len - rdlen_at - 2);
	p->ns++;
	pkt_counts(p);
}

/* ---- an injected clock */

static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static int get(struct dns_cache *c, const char *name, int type, enum dns_result *res)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r = dns_cache_get(c, name, type, res, &buf, &len);

	free(buf);
	return r;
}

/* ---- TTLs */

static void test_ttl_answer_is_smallest(void **state)
{
	struct pkt p;

	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 300, "v=spf1 -all");
	pkt_answer(&p, ns_t_txt, 45, "other");
	assert_int_equal(dns_cache_ttl(DNS_OK, p.b, p.len), 45);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 0, "v=spf1 -all");
	assert_int_equal(dns_cache_ttl(DNS_OK, p.b, p.len), 0);	/* TTL 0: not cached */
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 0x80000001u, "x");	/* top bit: counts as 0 (RFC 2181) */
	assert_int_equal(dns_cache_ttl(DNS_OK, p.b, p.len), 0);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 10000000, "x");
	assert_int_equal(dns_cache_ttl(DNS_OK, p.b, p.len), DNS_CACHE_MAX_TTL);
}

static void test_ttl_negative_from_soa(void **state)
{
	struct pkt p;

	/* RFC 2308 section 5: min(SOA TTL, MINIMUM) */
	pkt_start(&p, "nx.example.test", ns_t_txt, 3);
	pkt_soa(&p, 3600, 300);
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, p.b, p.len), 300);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_soa(&p, 100, 900);
	assert_int_equal(dns_cache_ttl(DNS_NODATA, p.b, p.len), 100);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_soa(&p, 86400, 86400);
	assert_int_equal(dns_cache_ttl(DNS_NODATA, p.b, p.len), DNS_CACHE_NEG_MAX_TTL);
	/* without an SOA a negative answer is not cached */
	pkt_start(&p, "nx.example.test", ns_t_txt, 3);
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, p.b, p.len), 0);
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, NULL, 0), 0);
}

static void test_ttl_failure_is_short(void **state)
{
	assert_int_equal(dns_cache_ttl(DNS_TEMPFAIL, NULL, 0), DNS_CACHE_FAIL_TTL);
	assert_true(DNS_CACHE_FAIL_TTL <= 300);	/* RFC 2308 section 7 */
}

/* ---- expiry */

static void test_expiry_never_stale(void **state)
{
	struct dns_cache *c;
	struct pkt p;
	enum dns_result res = DNS_TEMPFAIL;
	unsigned char *buf = NULL;
	size_t len = 0;

	fake_now = 1000000;
	c = dns_cache_new(16, 1 << 20, fake_clock, &fake_now);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 60, "v=spf1 -all");
	dns_cache_put(c, "example.test", ns_t_txt, DNS_OK, p.b, p.len);
	assert_int_equal(dns_cache_get(c, "Example.TEST", ns_t_txt, &res, &buf, &len), 1);
	assert_int_equal(res, DNS_OK);
	assert_int_equal(len, p.len);
	assert_memory_equal(buf, p.b, p.len);
	free(buf);
	assert_int_equal(get(c, "example.test", ns_t_a, &res), 0);	/* another type */
	fake_now += 59999;
	assert_int_equal(get(c, "example.test", ns_t_txt, &res), 1);
	fake_now += 1;	/* exactly the TTL: gone */
	assert_int_equal(get(c, "example.test", ns_t_txt, &res), 0);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_free(c);
}

static void test_negative_and_failure_cached(void **state)
{
	struct dns_cache *c;
	struct pkt p;
	enum dns_result res = DNS_OK;

	fake_now = 0;
	c = dns_cache_new(16, 1 << 20, fake_clock, &fake_now);
	pkt_start(&p, "nx.example.test", ns_t_txt, 3);
	pkt_soa(&p, 3600, 120);
	dns_cache_put(c, "nx.example.test", ns_t_txt, DNS_NXDOMAIN, p.b, p.len);
	dns_cache_put(c, "dead.example.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	pkt_start(&p, "nosoa.example.test", ns_t_txt, 3);
	dns_cache_put(c, "nosoa.example.test", ns_t_txt, DNS_NXDOMAIN, p.b, p.len);
	assert_int_equal(get(c, "nx.example.test", ns_t_txt, &res), 1);
	assert_int_equal(res, DNS_NXDOMAIN);
	assert_int_equal(get(c, "dead.example.test", ns_t_txt, &res), 1);
	assert_int_equal(res, DNS_TEMPFAIL);
	assert_int_equal(get(c, "nosoa.example.test", ns_t_txt, &res), 0);
	fake_now = DNS_CACHE_FAIL_TTL * 1000 - 1;
	assert_int_equal(get(c, "dead.example.test", ns_t_txt, &res), 1);
	fake_now = DNS_CACHE_FAIL_TTL * 1000;	/* the failure goes first */
	assert_int_equal(get(c, "dead.example.test", ns_t_txt, &res), 0);
	assert_int_equal(get(c, "nx.example.test", ns_t_txt, &res), 1);
	fake_now = 120 * 1000;
	assert_int_equal(get(c, "nx.example.test", ns_t_txt, &res), 0);
	dns_cache_free(c);
}

static void test_replace_and_clear(void **state)
{
	struct dns_cache *c;
	struct pkt p;
	enum dns_result res;

	fake_now = 0;
	c = dns_cache_new(16, 1 << 20, fake_clock, &fake_now);
	dns_cache_put(c, "a.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	pkt_start(&p, "a.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 600, "x");
	dns_cache_put(c, "a.test", ns_t_txt, DNS_OK, p.b, p.len);
	assert_int_equal(dns_cache_count(c), 1);
	assert_int_equal(get(c, "a.test", ns_t_txt, &res), 1);
	assert_int_equal(res, DNS_OK);
	dns_cache_clear(c);
	assert_int_equal(get(c, "a.test", ns_t_txt, &res), 0);
	dns_cache_free(c);
	dns_cache_free(NULL);
}

/* ---- the size bound */

static void test_bounded_lru(void **state)
{
	struct dns_cache *c;
	enum dns_result res;
	char name[32];

	fake_now = 0;
	c = dns_cache_new(3, 1 << 20, fake_clock, &fake_now);
	dns_cache_put(c, "1.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	dns_cache_put(c, "2.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	dns_cache_put(c, "3.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	assert_int_equal(get(c, "1.test", ns_t_txt, &res), 1);	/* 1 is now the most recent */
	dns_cache_put(c, "4.test", ns_t_txt, DNS_TEMPFAIL, NULL, 0);
	assert_int_equal(dns_cache_count(c), 3);
	assert_int_equal(get(c, "2.test", ns_t_txt, &res), 0);	/* the least recent went */
	assert_int_equal(get(c, "1.test", ns_t_txt, &res), 1);
	assert_int_equal(get(c, "3.test", ns_t_txt, &res), 1);
	assert_int_equal(get(c, "4.test", ns_t_txt, &res), 1);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		dns_cache_put(c, name, ns_t_txt, DNS_TEMPFAIL, NULL, 0);
		assert_true(dns_cache_count(c) <= 3);
	}
	assert_int_equal(get(c, "n999.test", ns_t_txt, &res), 1);
	dns_cache_free(c);
}

static void test_bounded_bytes(void **state)
{
	struct dns_cache *c;
	enum dns_result res;
	static unsigned char big[DNS_CACHE_ANSWER_MAX + 1];
	struct pkt p;
	char name[32];

	fake_now = 0;
	c = dns_cache_new(1000, 3 * 100, fake_clock, &fake_now);
	/* answers of about 40 bytes: at most 7 fit in 300 bytes */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "b%d.test", i);
		pkt_start(&p, name, ns_t_txt, 0);
		pkt_answer(&p, ns_t_txt, 600, "x");
		dns_cache_put(c, name, ns_t_txt, DNS_OK, p.b, p.len);
		assert_true(dns_cache_bytes(c) <= 300);
	}
	assert_true(dns_cache_count(c) >= 5 && dns_cache_count(c) <= 8);
	assert_int_equal(get(c, "b19.test", ns_t_txt, &res), 1);
	assert_int_equal(get(c, "b0.test", ns_t_txt, &res), 0);
	dns_cache_free(c);
	/* an answer over DNS_CACHE_ANSWER_MAX is not kept */
	c = dns_cache_new(16, 1 << 20, fake_clock, &fake_now);
	pkt_start(&p, "huge.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 600, "x");
	memcpy(big, p.b, p.len);
	dns_cache_put(c, "huge.test", ns_t_txt, DNS_OK, big, sizeof(big));
	assert_int_equal(get(c, "huge.test", ns_t_txt, &res), 0);
	dns_cache_free(c);
}

/* ---- hostile packets */

static void test_hostile_packets(void **state)
{
	struct pkt p;
	unsigned char loop[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
				 0xc0, 0x0c, 0, 16, 0, 1 };	/* a name pointing at itself */
	unsigned char buf[64];

	assert_int_equal(dns_cache_ttl(DNS_OK, loop, sizeof(loop)), 0);
	pkt_start(&p, "example.test", ns_t_txt, 0);
	pkt_answer(&p, ns_t_txt, 60, "v=spf1 -all");
	for (size_t cut = 0; cut < p.len; cut++)
		assert_int_equal(dns_cache_ttl(DNS_OK, p.b, cut), 0);	/* truncated */
	p.b[p.len - 13] = 0xff;	/* rdlength past the end */
	assert_int_equal(dns_cache_ttl(DNS_OK, p.b, p.len), 0);
	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rand() % sizeof(buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = (unsigned char)rand();
		(void)dns_cache_ttl((enum dns_result)(rand() % 4 - 2), buf, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_answer_is_smallest),
		cmocka_unit_test(test_ttl_negative_from_soa),
		cmocka_unit_test(test_ttl_failure_is_short),
		cmocka_unit_test(test_expiry_never_stale),
		cmocka_unit_test(test_negative_and_failure_cached),
		cmocka_unit_test(test_replace_and_clear),
		cmocka_unit_test(test_bounded_lru),
		cmocka_unit_test(test_bounded_bytes),
		cmocka_unit_test(test_hostile_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
