/* Unit tests for src/lib/keycache.c: sizing, expiry, least-recently-used
 * eviction within a set, and no thrash at half the capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/keycache.h"

/* A deterministic pseudo-random key (splitmix64) for n. */
static void key_for(uint64_t n, unsigned char key[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (n * 4 + (uint64_t)i + 1) * 0x9e3779b97f4a7c15ULL;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(key + i * 8, &z, 8);
	}
}

static void test_sizing(void **state)
{
	struct keycache *c = keycache_new(1000);

	(void)state;
	assert_non_null(c);
	assert_int_equal(keycache_capacity(c), 1024);
	keycache_free(c);
	c = keycache_new(1);
	assert_int_equal(keycache_capacity(c), KEYCACHE_WAYS);
	keycache_free(c);
	keycache_free(NULL);
}

static void test_hit_miss_expiry(void **state)
{
	struct keycache *c = keycache_new(64);
	unsigned char a[32], b[32];

	(void)state;
	key_for(1, a);
	key_for(2, b);
	assert_false(keycache_check(c, a, 100));
	keycache_store(c, a, 200, 100);
	assert_true(keycache_check(c, a, 199));
	assert_false(keycache_check(c, b, 150));
	assert_false(keycache_check(c, a, 200));	/* expired */
	keycache_store(c, a, 300, 250);			/* stored again: one entry, refreshed */
	assert_true(keycache_check(c, a, 299));
	keycache_free(c);
}

/* Keys of one set: the one used longest ago goes, not a recent one. */
static void test_lru_within_a_set(void **state)
{
	struct keycache *c = keycache_new(KEYCACHE_WAYS);	/* one set */
	unsigned char k[KEYCACHE_WAYS + 1][32];

	(void)state;
	for (int i = 0; i <= KEYCACHE_WAYS; i++)
		key_for((uint64_t)i + 10, k[i]);
	for (int i = 0; i < KEYCACHE_WAYS; i++)
		keycache_store(c, k[i], 1000, 1);
	assert_true(keycache_check(c, k[0], 2));	/* k[0] used again: k[1] is now the oldest */
	keycache_store(c, k[KEYCACHE_WAYS], 1000, 3);
	assert_true(keycache_check(c, k[0], 4));
	assert_false(keycache_check(c, k[1], 4));
	for (int i = 2; i <= KEYCACHE_WAYS; i++)
		assert_true(keycache_check(c, k[i], 4));
	keycache_free(c);
}

/* An expired entry is taken before any live one. */
static void test_expired_replaced_first(void **state)
{
	struct keycache *c = keycache_new(KEYCACHE_WAYS);
	unsigned char k[KEYCACHE_WAYS + 1][32];

	(void)state;
	for (int i = 0; i <= KEYCACHE_WAYS; i++)
		key_for((uint64_t)i + 100, k[i]);
	for (int i = 0; i < KEYCACHE_WAYS; i++)
		keycache_store(c, k[i], i == 5 ? 10 : 1000, 1);
	keycache_store(c, k[KEYCACHE_WAYS], 1000, 20);
	for (int i = 0; i <= KEYCACHE_WAYS; i++)
		assert_int_equal(keycache_check(c, k[i], 21), i != 5);
	keycache_free(c);
}

/* Half the capacity in use (a proxy's logged-in users): all but a
 * handful stay cached through rounds of logins (a direct-mapped table
 * of the same size loses about a fifth every round). */
static void test_no_thrash_at_half_capacity(void **state)
{
	struct keycache *c = keycache_new(65536);
	size_t n = keycache_capacity(c) / 2, misses = 0;
	unsigned char k[32];

	(void)state;
	for (uint64_t i = 0; i < n; i++) {
		key_for(i, k);
		keycache_store(c, k, 1000000, 1);
	}
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < n; i++) {
			key_for(i, k);
			if (!keycache_check(c, k, 2 + round)) {
				misses++;
				keycache_store(c, k, 1000000, 2 + round);
			}
		}
	}
	print_message("misses %zu of %zu\n", misses, n * 3);
	assert_true(misses < n / 1000);
	keycache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizing),
		cmocka_unit_test(test_hit_miss_expiry),
		cmocka_unit_test(test_lru_within_a_set),
		cmocka_unit_test(test_expired_replaced_first),
		cmocka_unit_test(test_no_thrash_at_half_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
