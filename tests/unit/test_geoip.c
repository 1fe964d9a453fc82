/* Unit tests for src/policy/geoip.c: a missing file, a broken file, and
 * lookups of known addresses in the real country database that
 * scripts/deps.sh fetched into build/geoip (YUBIN_GEOIP_DB overrides). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/geoip.h"

static const char *db_path(void)
{
	const char *p = getenv("YUBIN_GEOIP_DB");

	return p != NULL && p[0] != '\0' ? p : "build/geoip/country.mmdb";
}

static void test_missing_file(void **state)
{
	struct geoip *g = geoip_new("/nonexistent/country.mmdb");
	char cc[3] = "XX", err[300];

	assert_non_null(g);
	assert_false(geoip_is_loaded(g));
	assert_int_equal(geoip_lookup(g, "8.8.8.8", cc), GEOIP_NO_DATABASE);
	assert_string_equal(cc, "");
	geoip_error(g, err, sizeof(err));
	assert_non_null(strstr(err, "yubinctl geoip update"));
	geoip_free(g);
	geoip_free(NULL);
	assert_int_equal(geoip_lookup(NULL, "8.8.8.8", cc), GEOIP_NO_DATABASE);
}

static void test_broken_file(void **state)
{
	char path[] = "/tmp/yubin-geoip-XXXXXX", err[300];
	int fd = mkstemp(path);
	unsigned long nodes;
	struct geoip *g;
	char cc[3];

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a database at all", 21), 21);
	close(fd);
	g = geoip_new(path);
	assert_false(geoip_is_loaded(g));
	assert_int_equal(geoip_lookup(g, "8.8.8.8", cc), GEOIP_NO_DATABASE);
	assert_int_equal(geoip_check_file(path, &nodes, err, sizeof(err)), -1);
	geoip_free(g);
	unlink(path);
}

static void test_real_database(void **state)
{
	static const struct {
		const char *ip, *cc;
	} known[] = {
		{ "8.8.8.8", "US" },			/* Google DNS */
		{ "2001:4860:4860::8888", "US" },	/* Google DNS, IPv6 */
		{ "133.11.0.1", "JP" },			/* the University of Tokyo */
		{ "210.130.1.1", "JP" },		/* IIJ */
	};
	struct geoip *g;
	unsigned long nodes;
	char cc[3], err[300];

	if (access(db_path(), R_OK) < 0) {
		printf("SKIPPED: no country database at %s (scripts/deps.sh build fetches it)\n", db_path());
		skip();
	}
	assert_int_equal(geoip_check_file(db_path(), &nodes, err, sizeof(err)), 0);
	assert_true(nodes > 1000);
	g = geoip_new(db_path());
	assert_true(geoip_is_loaded(g));
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_int_equal(geoip_lookup(g, known[i].ip, cc), GEOIP_FOUND);
		if (strcmp(cc, known[i].cc) != 0)
			fail_msg("%s: expected %s, got %s", known[i].ip, known[i].cc, cc);
	}
	assert_int_equal(geoip_lookup(g, "127.0.0.1", cc), GEOIP_NOT_FOUND);
	assert_int_equal(geoip_lookup(g, "10.1.2.3", cc), GEOIP_NOT_FOUND);
	assert_int_equal(geoip_lookup(g, "not-an-ip", cc), GEOIP_BAD_ADDRESS);
	geoip_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_broken_file),
		cmocka_unit_test(test_real_database),
	};

	return cmocka_run_group_tests_name("geoip", tests, NULL, NULL);
}
