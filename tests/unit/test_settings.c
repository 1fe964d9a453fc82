/* Unit tests for src/settings/: the table's shape, the one boolean parser,
 * durations, the check and normalisation of values per type, the warning
 * for very wide exemption ranges, masking of secrets, and the typed
 * getters on a real directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "directory/directory.h"
#include "lib/config.h"
#include "settings/settings.h"

static void test_table_shape(void **state)
{
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = settings_get(i);
		char norm[2048], warn[256];
		const char *error;

		assert_int_equal(s->id, i);
		assert_non_null(s->key);
		assert_true(s->scopes != 0);
		assert_true(s->help_en != NULL && s->help_en[0] != '\0');
		assert_true(s->help_ja != NULL && s->help_ja[0] != '\0');
		/* one key per scope */
		for (unsigned sc = SETTING_SERVER; sc <= SETTING_ACCOUNT; sc <<= 1) {
			if ((s->scopes & sc) != 0)
				assert_ptr_equal(settings_find(s->key, sc), s);
		}
		/* every default passes its own check */
		if (s->def != NULL)
			assert_int_equal(settings_check(s, "a@example.test", s->def, norm, sizeof(norm), warn,
							sizeof(warn), &error), 0);
		if (s->scopes == SETTING_SERVER)
			assert_true(s->size > 0);
	}
	assert_null(settings_find("foreign-auth", SETTING_SERVER));
	assert_null(settings_find("foreign-auth", SETTING_ACCOUNT));
	assert_non_null(settings_find("foreign-auth", SETTING_DOMAIN));
	assert_null(settings_find("hostname", SETTING_DOMAIN));
	assert_string_equal(settings_key(SETTING_FOREIGN_AUTH), "foreign-auth");
}

static void test_bool_parse(void **state)
{
	static const char *const on[] = { "on", "ON", "yes", "Yes", "true", "TRUE", "1" };
	static const char *const off[] = { "off", "Off", "no", "NO", "false", "False", "0" };
	static const char *const bad[] = { "", "2", "y", "enable", "onn", " on", "-1", "off " };
	bool v;

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		v = false;
		assert_int_equal(settings_bool_parse(on[i], &v), 0);
		assert_true(v);
	}
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		v = true;
		assert_int_equal(settings_bool_parse(off[i], &v), 0);
		assert_false(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(settings_bool_parse(bad[i], &v), -1);
}

static void test_duration(void **state)
{
	uint64_t v;

	assert_int_equal(settings_duration_parse("90", &v), 0);
	assert_true(v == 90);
	assert_int_equal(settings_duration_parse("90s", &v), 0);
	assert_true(v == 90);
	assert_int_equal(settings_duration_parse("5m", &v), 0);
	assert_true(v == 300);
	assert_int_equal(settings_duration_parse("2H", &v), 0);
	assert_true(v == 7200);
	assert_int_equal(settings_duration_parse("1d", &v), 0);
	assert_true(v == 86400);
	assert_int_equal(settings_duration_parse("", &v), -1);
	assert_int_equal(settings_duration_parse("m", &v), -1);
	assert_int_equal(settings_duration_parse("5w", &v), -1);
	assert_int_equal(settings_duration_parse("-5", &v), -1);
	assert_int_equal(settings_duration_parse("99999999999d", &v), -1);
}

/* settings_check of id with value: expect r, then the stored form. */
static void check(enum setting_id id, const char *name, const char *value, int r, const char *stored,
		  bool warns)
{
	char norm[2048], warn[512];
	const char *error = NULL;

	assert_int_equal(settings_check(settings_get(id), name, value, norm, sizeof(norm), warn,
					sizeof(warn), &error), r);
	if (r < 0) {
		assert_non_null(error);
		return;
	}
	assert_string_equal(norm, stored);
	assert_int_equal(warn[0] != '\0', warns);
}

static void test_check_values(void **state)
{
	check(SETTING_FOREIGN_AUTH, "example.test", "No", 0, "off", false);
	check(SETTING_FOREIGN_AUTH, "example.test", "TRUE", 0, "on", false);
	check(SETTING_FOREIGN_AUTH, "example.test", "maybe", -1, NULL, false);
	check(SETTING_FOREIGN_AUTH_COUNTRY, "example.test", "us", 0, "US", false);
	check(SETTING_FOREIGN_AUTH_COUNTRY, "example.test", "JPN", -1, NULL, false);
	check(SETTING_TRASH_EXPIRE_DAYS, "example.test", "3650", 0, "3650", false);
	check(SETTING_TRASH_EXPIRE_DAYS, "example.test", "3651", -1, NULL, false);
	check(SETTING_SEND_LIMIT_HOUR, "a@example.test", "unlimited", 0, "unlimited", false);
	check(SETTING_SEND_LIMIT_HOUR, "a@example.test", "10000001", -1, NULL, false);
	check(SETTING_ADMIN_ADDRESS, "example.test", "Boss@Example.Test", 0, "boss@example.test", false);
	check(SETTING_ADMIN_ADDRESS, "example.test", "not an address", -1, NULL, false);
	check(SETTING_FORWARD, "a@example.test", "X@Remote.Test  b@example.test", 0,
	      "X@remote.test, b@example.test", false);
	check(SETTING_FORWARD, "a@example.test", "off", 0, "", false);
	check(SETTING_FORWARD, "a@example.test", "a@example.test", -1, NULL, false);
	check(SETTING_CONF_LOG_LEVEL, "", "warn", 0, "warn", false);
	check(SETTING_CONF_LOG_LEVEL, "", "loud", -1, NULL, false);
	check(SETTING_CONF_SMTP_TIMEOUT, "", "5m", 0, "5m", false);
	check(SETTING_CONF_SMTP_TIMEOUT, "", "2d", -1, NULL, false);
	check(SETTING_CONF_LISTEN_ADDRESS, "", "127.0.0.1, ::1", 0, "127.0.0.1, ::1", false);
	/* the proxy's hops to the nodes (issue 16 §3) */
	check(SETTING_CONF_PROXY_NODE_TLS_NAME, "", "", 0, "", false);
	check(SETTING_CONF_PROXY_NODE_TLS_NAME, "", "Nodes.Example.Test", 0, "nodes.example.test", false);
	check(SETTING_CONF_PROXY_NODE_TLS_NAME, "", "bad name", -1, NULL, false);
	check(SETTING_CONF_PROXY_NODE_TLS, "", "on", 0, "on", false);
	check(SETTING_CONF_PROXY_NODE_TLS, "", "verify", -1, NULL, false);
	check(SETTING_CONF_PROXY_NODE_CA_FILE, "", "nodes.pem", -1, NULL, false);
	check(SETTING_CONF_PROXY_SIEVE_PORT, "", "0", -1, NULL, false);
	check(SETTING_CONF_PROXY_SIEVE_PORT, "", "4190", 0, "4190", false);
	check(SETTING_CONF_LISTEN_ADDRESS, "", "localhost", -1, NULL, false);
	check(SETTING_CONF_DNS_RESOLVER, "", "127.0.0.1:5353", 0, "127.0.0.1:5353", false);
	check(SETTING_CONF_DNS_RESOLVER, "", "resolver.example", -1, NULL, false);
	check(SETTING_MEMO, "a@example.test", "line\nbreak", -1, NULL, false);
	check(SETTING_SENDER_POLICY, "example.test", "domain", 0, "domain", false);
	check(SETTING_SENDER_POLICY, "example.test", "loose", -1, NULL, false);
	check(SETTING_SEND_AS, "a@example.test", "Sales@Other.test  *@Shared.test", 0,
	      "sales@other.test, *@shared.test", false);
	check(SETTING_SEND_AS, "a@example.test", "off", 0, "", false);
	check(SETTING_SEND_AS, "a@example.test", "not an address", -1, NULL, false);
	check(SETTING_CONF_EVENTS_RETENTION_DAYS, "", "0", 0, "0", false);
	check(SETTING_CONF_EVENTS_RETENTION_DAYS, "", "7", 0, "7", false);
	check(SETTING_CONF_EVENTS_RETENTION_DAYS, "", "6", -1, NULL, false);
	check(SETTING_CONF_EVENTS_RETENTION_DAYS, "", "36501", -1, NULL, false);
	check(SETTING_CONF_AUDIT_RETENTION_DAYS, "", "1", -1, NULL, false);
	check(SETTING_CONF_AUTH_CACHE_ENTRIES, "", "1000", -1, NULL, false);
	check(SETTING_CONF_AUTH_CACHE_ENTRIES, "", "131072", 0, "131072", false);
}

static void test_cidr_lists(void **state)
{
	char norm[256], warn[512];
	const char *error;
	const struct setting *s = settings_get(SETTING_FOREIGN_AUTH_ALLOW);

	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "192.0.2.0/24,  2001:DB8::/32", 0,
	      "192.0.2.0/24, 2001:db8::/32", false);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "", 0, "", false);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "127.0.0.1/8", -1, NULL, false);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "not-a-cidr", -1, NULL, false);
	/* accepted, with a warning that says what it means */
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "0.0.0.0/0", 0, "0.0.0.0/0", true);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "::/0", 0, "::/0", true);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "192.0.2.0/24, 64.0.0.0/2", 0,
	      "192.0.2.0/24, 64.0.0.0/2", true);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "10.0.0.0/8", 0, "10.0.0.0/8", false);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "2000::/3", 0, "2000::/3", true);
	check(SETTING_FOREIGN_AUTH_ALLOW, "example.test", "2001:db8::/16", -1, NULL, false);
	check(SETTING_CONF_FOREIGN_AUTH_ALLOW, "", "0.0.0.0/0", 0, "0.0.0.0/0", true);
	assert_int_equal(settings_check(s, "example.test", "0.0.0.0/0", norm, sizeof(norm), warn,
					sizeof(warn), &error), 0);
	assert_non_null(strstr(warn, "anywhere in the world"));
	/* a list longer than the stored field is refused, not cut */
	{
		char big[4096] = "";

		for (int i = 0; i < 200; i++)
			snprintf(big + strlen(big), sizeof(big) - strlen(big), "192.0.%d.0/24,", i);
		assert_int_equal(settings_check(settings_get(SETTING_CONF_FOREIGN_AUTH_ALLOW), "", big, norm,
						sizeof(norm), warn, sizeof(warn), &error), -1);
	}
}

static void test_display(void **state)
{
	const struct setting *pw = settings_get(SETTING_CONF_SMTP_RELAYHOST_PASSWORD);
	const struct setting *user = settings_get(SETTING_CONF_SMTP_RELAYHOST_USER);

	assert_string_equal(settings_display(pw, "s3cret", false), "********");
	assert_string_equal(settings_display(pw, "s3cret", true), "s3cret");
	assert_string_equal(settings_display(pw, "", false), "");
	assert_string_equal(settings_display(user, "relayuser", false), "relayuser");
}

static void test_getters(void **state)
{
	char path[] = "/tmp/yubin-settings-XXXXXX", db[300], err[256], buf[64];
	struct settings_foreign f;
	struct directory *dir;
	struct config cfg;
	uint64_t hour, day;
	const char *error;

	assert_non_null(mkdtemp(path));
	snprintf(db, sizeof(db), "%s/yubin.db", path);
	dir = directory_open(db, err, sizeof(err));
	assert_non_null(dir);
	assert_int_equal(directory_domain_add(dir, "example.test", &error), 0);
	/* defaults */
	assert_true(settings_domain_bool(dir, "example.test", SETTING_FOREIGN_AUTH));
	assert_false(settings_domain_bool(dir, "example.test", SETTING_BATV));
	assert_true(settings_domain_uint(dir, "example.test", SETTING_TRASH_EXPIRE_DAYS) == 7);
	assert_int_equal(settings_domain_string(dir, "example.test", SETTING_ADMIN_ADDRESS, buf,
						sizeof(buf)), 0);
	assert_string_equal(buf, "");
	settings_foreign_get(dir, "example.test", &f);
	assert_true(f.on && !f.mail);
	assert_string_equal(f.home, "JP");
	assert_true(settings_foreign_applies(&f, "smtp"));
	assert_false(settings_foreign_applies(&f, "pop3"));
	/* values written by older versions in other spellings read the same */
	assert_int_equal(directory_setting_set(dir, "domain", "example.test", "foreign-auth", "No", &error), 0);
	assert_false(settings_domain_bool(dir, "example.test", SETTING_FOREIGN_AUTH));
	settings_foreign_get(dir, "example.test", &f);
	assert_false(settings_foreign_applies(&f, "smtp"));
	/* account over domain over yubin.conf */
	settings_conf_defaults(&cfg);
	settings_send_limits(dir, &cfg, "a@example.test", &hour, &day);
	assert_true(hour == 1500 && day == 15000);
	assert_int_equal(directory_setting_set(dir, "domain", "example.test", "send-limit-hour", "20", &error), 0);
	assert_int_equal(directory_setting_set(dir, "account", "a@example.test", "send-limit-day", "unlimited",
					       &error), 0);
	settings_send_limits(dir, &cfg, "a@example.test", &hour, &day);
	assert_true(hour == 20 && day == 0);
	assert_int_equal(directory_setting_set(dir, "domain", "example.test", "abuse-detect", "off", &error), 0);
	assert_false(settings_account_bool(dir, "a@example.test", SETTING_ABUSE_DETECT));
	assert_int_equal(directory_setting_set(dir, "account", "a@example.test", "abuse-detect", "on", &error), 0);
	assert_true(settings_account_bool(dir, "a@example.test", SETTING_ABUSE_DETECT));
	/* settings_store checks, normalises and refuses what is not of the scope */
	{
		char norm[64], warn[256], stored[16];

		assert_int_equal(settings_store(dir, SETTING_DOMAIN, "example.test",
						settings_get(SETTING_FOREIGN_AUTH_MAIL), "YES", norm, sizeof(norm),
						warn, sizeof(warn), &error), 0);
		assert_int_equal(directory_setting_get(dir, "domain", "example.test", "foreign-auth-mail",
						       stored, sizeof(stored)), 1);
		assert_string_equal(stored, "on");
		assert_int_equal(settings_store(dir, SETTING_DOMAIN, "example.test",
						settings_get(SETTING_FOREIGN_AUTH_MAIL), "sure", norm, sizeof(norm),
						warn, sizeof(warn), &error), -1);
		assert_int_equal(settings_store(dir, SETTING_ACCOUNT, "a@example.test",
						settings_get(SETTING_FOREIGN_AUTH_MAIL), "on", norm, sizeof(norm),
						warn, sizeof(warn), &error), -1);
		assert_int_equal(settings_store(dir, SETTING_ACCOUNT, "a@example.test",
						settings_get(SETTING_MEMO), "hi", norm, sizeof(norm), warn,
						sizeof(warn), &error), -1);
		/* send-as names only hosted domains */
		assert_int_equal(settings_store(dir, SETTING_ACCOUNT, "a@example.test",
						settings_get(SETTING_SEND_AS), "b@nowhere.test", norm, sizeof(norm),
						warn, sizeof(warn), &error), -1);
		assert_non_null(strstr(error, "nowhere.test"));
		assert_int_equal(settings_store(dir, SETTING_ACCOUNT, "a@example.test",
						settings_get(SETTING_SEND_AS), "B@Example.Test", norm, sizeof(norm),
						warn, sizeof(warn), &error), 0);
		assert_string_equal(norm, "b@example.test");
		settings_foreign_get(dir, "example.test", &f);
		assert_true(f.mail);
	}
	/* an unreadable stored value gives the default */
	assert_int_equal(directory_setting_set(dir, "domain", "example.test", "trash-expire-days", "lots",
					       &error), 0);
	assert_true(settings_domain_uint(dir, "example.test", SETTING_TRASH_EXPIRE_DAYS) == 7);
	directory_close(dir);
	unlink(db);
	snprintf(db, sizeof(db), "rm -rf %s", path);
	assert_int_equal(system(db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shape),
		cmocka_unit_test(test_bool_parse),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_check_values),
		cmocka_unit_test(test_cidr_lists),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_getters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
