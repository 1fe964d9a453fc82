/* Unit tests for the server's own operations in src/ops/: yubin.conf
 * through ops_conf (scope, validation, secrets masked, the file rewritten,
 * the reload hook, the audit row) and the GeoIP override table and lookup
 * of ops_geoip. A real SQLite file and yubin.conf in a temporary directory. */
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
#include "lib/fsutil.h"
#include "ops/ops_server.h"
#include "ops_fixture.h"

#define SECRET "S3cret-relay-pw"

static unsigned reloads;

static bool reload_cb(const struct ops *o)
{
	(void)o;
	reloads++;
	return true;
}

static int setup(void **state)
{
	struct fixture *f = ops_fixture_new("/tmp/yubin-test-opsc-XXXXXX", false, "a.example");
	static const char conf[] = "# test\nhostname = mail.a.example\nsmtp.max_recipients = 50\n";

	if (f == NULL)
		return -1;
	snprintf(f->conf, sizeof(f->conf), "%s/yubin.conf", f->dir);
	if (fs_write_file_atomic(f->conf, conf, strlen(conf), 0640) < 0)
		return -1;
	f->o.conf_reload = reload_cb;
	reloads = 0;
	*state = f;
	return 0;
}

static char *conf_text(const struct fixture *f)
{
	char *t = fs_read_file(f->conf, 1 << 20, NULL);

	assert_non_null(t);
	return t;
}

struct audit_rows {
	unsigned n;
	char text[16][700];
};

static void audit_cb(const struct dir_audit *a, void *ctx)
{
	struct audit_rows *r = ctx;

	if (r->n < 16)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s %s %s", a->actor, a->op, a->target,
			 a->summary);
}

static void test_conf_scope(void **state)
{
	struct fixture *f = *state;
	const struct ops_actor *no[] = { &f->dadmin, &f->user, &f->token };
	struct ops_conf_result r;
	struct ops_error err;
	const struct setting *s;
	char value[OPS_CONF_VALUE_MAX], *before = conf_text(f), *after;

	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ops_conf_set(&f->o, no[i], "smtp.max_recipients", "5", &r, &err), -1);
		assert_string_equal(err.code, "forbidden");
		assert_int_equal(ops_conf_get(&f->o, no[i], "smtp.max_recipients", false, &s, value, &err), -1);
		assert_string_equal(err.code, "forbidden");
	}
	/* secrets in clear: the command line only */
	assert_int_equal(ops_conf_get(&f->o, &f->admin, "smtp.relayhost_password", true, &s, value, &err), -1);
	assert_string_equal(err.code, "forbidden");
	after = conf_text(f);
	assert_string_equal(before, after);
	assert_int_equal(reloads, 0);
	free(before);
	free(after);
}

static void test_conf_set(void **state)
{
	struct fixture *f = *state;
	struct ops_conf_result r;
	struct ops_error err;
	struct audit_rows rows = { 0 };
	const struct setting *s;
	char value[OPS_CONF_VALUE_MAX], *text;

	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.max_recipients", " 7 ", &r, &err), 0);
	assert_string_equal(r.value, "7");
	assert_string_equal(r.old, "50");
	assert_false(r.restart);
	assert_true(r.reloaded);
	assert_int_equal(reloads, 1);
	text = conf_text(f);
	assert_non_null(strstr(text, "# test\n"));	/* other lines kept */
	assert_non_null(strstr(text, "smtp.max_recipients = 7\n"));
	assert_null(strstr(text, "= 50"));
	free(text);
	assert_int_equal(ops_conf_get(&f->o, &f->admin, "smtp.max_recipients", false, &s, value, &err), 0);
	assert_string_equal(value, "7");
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "server.workers", "3", &r, &err), 0);
	assert_true(r.restart);
	/* refusals: range, unknown key, a domain key, a line break */
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.max_recipients", "0", &r, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_non_null(strstr(err.en, "allowed"));
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "nope", "1", &r, &err), -1);
	assert_string_equal(err.code, "unknown_setting");
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "memo", "1", &r, &err), -1);
	assert_string_equal(err.code, "unknown_setting");
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "hostname", "a\nb = c", &r, &err), -1);
	assert_int_equal(reloads, 2);
	assert_int_equal(directory_audit_list(f->o.dir, NULL, 10, audit_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.text[1], "admin:boss config.set smtp.max_recipients"
			    " smtp.max_recipients = 7 (was 50)");
}

static void list_cb(const struct setting *s, const char *value, void *ctx)
{
	if (strcmp(s->key, "smtp.relayhost_password") == 0)
		snprintf(ctx, OPS_CONF_VALUE_MAX, "%s", value);
}

static void test_conf_secret(void **state)
{
	struct fixture *f = *state;
	struct ops_conf_result r;
	struct ops_error err;
	struct audit_rows rows = { 0 };
	const struct setting *s;
	char value[OPS_CONF_VALUE_MAX], *text;

	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.relayhost_password", SECRET, &r, &err), 0);
	assert_null(strstr(r.value, SECRET));
	assert_true(r.value[0] != '\0');
	text = conf_text(f);
	assert_non_null(strstr(text, "smtp.relayhost_password = " SECRET "\n"));
	free(text);
	assert_int_equal(ops_conf_get(&f->o, &f->admin, "smtp.relayhost_password", false, &s, value, &err), 0);
	assert_null(strstr(value, SECRET));
	assert_int_equal(ops_conf_get(&f->o, &f->cli, "smtp.relayhost_password", true, &s, value, &err), 0);
	assert_string_equal(value, SECRET);
	assert_int_equal(ops_conf_list(&f->o, &f->admin, false, list_cb, value, &err), 0);
	assert_null(strstr(value, SECRET));
	assert_int_equal(ops_conf_list(&f->o, &f->cli, true, list_cb, value, &err), 0);
	assert_string_equal(value, SECRET);
	/* a refused secret is not repeated in the message */
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.relayhost_password", SECRET "\nx = y", &r, &err),
			 -1);
	assert_null(strstr(err.en, SECRET));
	assert_null(strstr(err.ja, SECRET));
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.relayhost_password", "other", &r, &err), 0);
	assert_null(strstr(r.old, SECRET));
	assert_int_equal(directory_audit_list(f->o.dir, NULL, 10, audit_cb, &rows), 0);
	for (unsigned i = 0; i < rows.n; i++)
		assert_null(strstr(rows.text[i], SECRET));
}

static void test_conf_missing_file(void **state)
{
	struct fixture *f = *state;
	struct ops_conf_result r;
	struct ops_error err;

	unlink(f->conf);
	assert_int_equal(ops_conf_set(&f->o, &f->admin, "smtp.max_recipients", "5", &r, &err), -1);
	assert_non_null(strstr(err.en, "does not exist"));
	assert_int_equal(access(f->conf, F_OK), -1);	/* not made from nothing */
	assert_int_equal(reloads, 0);
}

struct override_rows {
	unsigned n;
	char text[8][80];
};

static void override_cb(const char *cidr, const char *country, int64_t created, void *ctx)
{
	struct override_rows *r = ctx;

	(void)created;
	if (r->n < 8)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s", cidr, country);
}

static void test_geoip_overrides(void **state)
{
	struct fixture *f = *state;
	struct override_rows rows = { 0 };
	struct ops_geoip_answer a;
	struct ops_error err;
	char cidr[OPS_CIDR_MAX], cc[3];

	assert_int_equal(ops_geoip_override_add(&f->o, &f->dadmin, "192.0.2.0/24", "US", cidr, cc, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_geoip_override_list(&f->o, &f->token, override_cb, &rows, &err), -1);
	assert_int_equal(ops_geoip_lookup(&f->o, &f->user, "192.0.2.1", &a, &err), -1);
	assert_int_equal(ops_geoip_override_add(&f->o, &f->admin, "192.0.2.0/24", "us", cidr, cc, &err), 0);
	assert_string_equal(cidr, "192.0.2.0/24");
	assert_string_equal(cc, "US");
	assert_int_equal(ops_geoip_override_add(&f->o, &f->admin, "192.0.2.128/25", "JP", cidr, cc, &err), 0);
	assert_int_equal(ops_geoip_override_add(&f->o, &f->admin, "192.0.2.0/24", "USA", cidr, cc, &err), -1);
	assert_string_equal(err.code, "invalid_country");
	assert_int_equal(ops_geoip_override_add(&f->o, &f->admin, "192.0.2.0/33", "US", cidr, cc, &err), -1);
	assert_string_equal(err.code, "invalid_cidr");
	assert_int_equal(ops_geoip_override_list(&f->o, &f->admin, override_cb, &rows, &err), 0);
	assert_int_equal(rows.n, 2);
	/* the longest prefix decides; no database in the directory */
	assert_int_equal(ops_geoip_lookup(&f->o, &f->admin, "192.0.2.200", &a, &err), 0);
	assert_int_equal(a.source, OPS_GEOIP_OVERRIDE);
	assert_string_equal(a.country, "JP");
	assert_string_equal(a.override_cidr, "192.0.2.128/25");
	assert_int_equal(a.db, GEOIP_NO_DATABASE);
	assert_int_equal(ops_geoip_lookup(&f->o, &f->admin, "10.1.2.3", &a, &err), 0);
	assert_int_equal(a.source, OPS_GEOIP_PRIVATE);
	assert_string_equal(a.country, "");
	assert_int_equal(ops_geoip_lookup(&f->o, &f->admin, "203.0.113.1", &a, &err), 0);
	assert_int_equal(a.source, OPS_GEOIP_NO_DATABASE);
	assert_int_equal(ops_geoip_lookup(&f->o, &f->admin, "nope", &a, &err), -1);
	assert_string_equal(err.code, "invalid_ip");
	assert_int_equal(ops_geoip_override_del(&f->o, &f->admin, "192.0.2.128/25", cidr, &err), 0);
	assert_int_equal(ops_geoip_override_del(&f->o, &f->admin, "192.0.2.128/25", cidr, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_geoip_lookup(&f->o, &f->admin, "192.0.2.200", &a, &err), 0);
	assert_string_equal(a.country, "US");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conf_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_geoip_overrides, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
