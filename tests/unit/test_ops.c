/* Unit tests for src/ops/: who may do what (a domain administrator only
 * its domains, a mail user only itself), bulk adds all or nothing with the
 * bad line named, and audit rows without secrets. A real SQLite file and
 * mailboxes in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "directory/directory.h"
#include "lib/fsutil.h"
#include "ops/ops.h"
#include "ops_fixture.h"

#define PW "Corr3ct-Horse"
#define PW2 "Batt3ry-Staple"

static int setup(void **state)
{
	struct fixture *f = ops_fixture_new("/tmp/yubin-test-ops-XXXXXX", true, "b.example");

	if (f == NULL)
		return -1;
	*state = f;
	return 0;
}

static void add_ok(struct fixture *f, const struct ops_actor *actor, const char *address)
{
	struct ops_account_new n = { .address = address, .password = PW, .memo = "" };
	struct dir_account a;
	struct ops_error err;

	if (ops_account_add(&f->o, actor, &n, &a, &err) != 0)
		fail_msg("add %s: %s %s", address, err.code, err.en);
}

static bool exists(struct fixture *f, const char *address)
{
	struct dir_account a;

	return directory_account_get(f->o.dir, address, &a) > 0;
}

static void test_domain_admin_only_its_domains(void **state)
{
	struct fixture *f = *state;
	struct ops_account_new n = { .address = "x@b.example", .password = PW, .memo = "" };
	struct dir_account a;
	struct ops_error err;
	unsigned old;
	bool changed;

	add_ok(f, &f->cli, "victim@b.example");
	add_ok(f, &f->dadmin, "mine@a.example");
	assert_int_equal(ops_account_add(&f->o, &f->dadmin, &n, &a, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_false(exists(f, "x@b.example"));
	assert_int_equal(ops_account_quota(&f->o, &f->dadmin, "victim@b.example", 10, &old, &err), -1);
	assert_string_equal(err.code, "forbidden");
	/* Case in the domain does not get around the scope. */
	assert_int_equal(ops_account_enable(&f->o, &f->dadmin, "victim@B.EXAMPLE", false, &changed,
					    &err), -1);
	assert_string_equal(err.code, "forbidden");
	/* An account that does not exist in another domain: forbidden too, so
	 * a domain administrator cannot probe other domains. */
	assert_int_equal(ops_account_memo(&f->o, &f->dadmin, "nobody@b.example", "x", &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_quota(&f->o, &f->dadmin, "mine@a.example", 10, &old, &err), 0);
	assert_int_equal(old, DIR_QUOTA_DEFAULT_MB);
	/* A token scoped to b.example: b, never a. */
	assert_int_equal(ops_account_quota(&f->o, &f->token, "mine@a.example", 20, &old, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_quota(&f->o, &f->token, "victim@b.example", 20, &old, &err), 0);
}

static void test_user_only_itself(void **state)
{
	struct fixture *f = *state;
	struct ops_del_result res;
	struct ops_error err;
	unsigned old;
	bool lifted;

	add_ok(f, &f->cli, "u@a.example");
	add_ok(f, &f->cli, "other@a.example");
	assert_int_equal(ops_account_passwd(&f->o, &f->user, "other@a.example", PW, PW2, &lifted, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_passwd(&f->o, &f->user, "u@a.example", NULL, PW2, &lifted, &err), -1);
	assert_string_equal(err.code, "current_password_required");
	assert_int_equal(ops_account_passwd(&f->o, &f->user, "u@a.example", "wrong-one1", PW2, &lifted,
					    &err), -1);
	assert_string_equal(err.code, "wrong_password");
	assert_string_equal(err.field, "current_password");
	assert_int_equal(ops_account_passwd(&f->o, &f->user, "u@a.example", PW, PW2, &lifted, &err), 0);
	/* Not the administrator's operations, not even on itself. */
	assert_int_equal(ops_account_quota(&f->o, &f->user, "u@a.example", 5000, &old, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_del(&f->o, &f->user, "u@a.example", &res, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_true(exists(f, "u@a.example"));
}

static void test_errors_have_codes_and_fields(void **state)
{
	struct fixture *f = *state;
	struct ops_account_new n = { .address = "new@a.example", .password = "short", .memo = "" };
	struct dir_account a;
	struct ops_error err;
	unsigned old;

	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), -1);
	assert_string_equal(err.code, "invalid_password");
	assert_string_equal(err.field, "password");
	assert_true(err.en[0] != '\0' && err.ja[0] != '\0');
	n.address = "new@nowhere.example";
	n.password = PW;
	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), -1);
	assert_string_equal(err.code, "not_found");
	add_ok(f, &f->cli, "dup@a.example");
	n.address = "DUP@a.example";
	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), -1);
	assert_string_equal(err.code, "exists");
	assert_int_equal(ops_account_quota(&f->o, &f->cli, "dup@a.example", 5001, &old, &err), -1);
	assert_string_equal(err.code, "invalid_quota");
	assert_string_equal(err.field, "quota");
	assert_int_equal(ops_account_quota(&f->o, &f->cli, "none@a.example", 10, &old, &err), -1);
	assert_string_equal(err.code, "not_found");
}

static void test_bulk_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct ops_error err;
	unsigned count = 99;
	const char *bad =
		"# address,password,MB,memo\n"
		"one@a.example," PW ",100,first\n"
		"\n"
		"two@a.example," PW ",9999,second\n"
		"three@a.example," PW ",,third, with a comma\n";
	const char *dup =
		"one@a.example," PW "\r\n"
		"ONE@a.example," PW "\r\n";
	const char *good =
		"one@a.example," PW ",100,first\n"
		"two@a.example," PW ",200,second\n"
		"three@a.example," PW ",,third, with a comma\n";
	struct dir_account a;

	assert_int_equal(ops_account_add_bulk(&f->o, &f->cli, bad, &count, &err), -1);
	assert_int_equal(count, 0);
	assert_string_equal(err.code, "invalid_quota");
	assert_int_equal(err.line, 4);
	assert_false(exists(f, "one@a.example"));
	assert_int_equal(ops_account_add_bulk(&f->o, &f->cli, dup, &count, &err), -1);
	assert_string_equal(err.code, "exists");
	assert_int_equal(err.line, 2);
	assert_false(exists(f, "one@a.example"));
	/* A domain administrator of a.example cannot slip in another domain. */
	assert_int_equal(ops_account_add_bulk(&f->o, &f->dadmin,
					      "ok@a.example," PW "\nno@b.example," PW "\n", &count,
					      &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(err.line, 2);
	assert_false(exists(f, "ok@a.example"));
	assert_int_equal(ops_account_add_bulk(&f->o, &f->cli, good, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_int_equal(directory_account_get(f->o.dir, "three@a.example", &a), 1);
	assert_string_equal(a.memo, "third, with a comma");
	assert_int_equal(a.quota_mb, DIR_QUOTA_DEFAULT_MB);
	assert_int_equal(directory_account_get(f->o.dir, "two@a.example", &a), 1);
	assert_int_equal(a.quota_mb, 200);
}

static void test_bulk_limit(void **state)
{
	struct fixture *f = *state;
	char *text = malloc(101 * 64), *p = text;
	struct ops_error err;
	unsigned count;

	for (int i = 0; i < 101; i++)
		p += sprintf(p, "u%d@a.example," PW "\n", i);
	assert_int_equal(ops_account_add_bulk(&f->o, &f->cli, text, &count, &err), -1);
	assert_string_equal(err.code, "too_many");
	assert_false(exists(f, "u0@a.example"));
	free(text);
}

static void test_settings_scope(void **state)
{
	struct fixture *f = *state;
	struct ops_setting_result r;
	struct ops_error err;
	char value[64];

	add_ok(f, &f->cli, "u@a.example");
	add_ok(f, &f->cli, "x@b.example");
	/* a mail user: its own forwarding only */
	assert_int_equal(ops_setting_set(&f->o, &f->user, SETTING_ACCOUNT, "u@a.example", "forward",
					 "away@elsewhere.example", &r, &err), 0);
	assert_int_equal(ops_setting_set(&f->o, &f->user, SETTING_ACCOUNT, "x@b.example", "forward",
					 "away@elsewhere.example", &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_setting_set(&f->o, &f->user, SETTING_ACCOUNT, "u@a.example", "memo", "m",
					 &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_setting_set(&f->o, &f->user, SETTING_DOMAIN, "a.example", "batv", "on",
					 &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	/* a domain administrator: its domain only */
	assert_int_equal(ops_setting_set(&f->o, &f->dadmin, SETTING_DOMAIN, "b.example", "batv", "on",
					 &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(directory_setting_get(f->o.dir, "domain", "b.example", "batv", value,
					       sizeof(value)), 0);
	assert_int_equal(ops_setting_set(&f->o, &f->dadmin, SETTING_DOMAIN, "a.example", "batv", "yes",
					 &r, &err), 0);
	assert_string_equal(r.value, "on");
	assert_int_equal(ops_setting_set(&f->o, &f->dadmin, SETTING_ACCOUNT, "u@a.example", "enabled",
					 "off", &r, &err), 0);
	assert_true(r.changed);
	assert_int_equal(ops_setting_set(&f->o, &f->dadmin, SETTING_ACCOUNT, "u@a.example", "no-such",
					 "1", &r, &err), -1);
	assert_string_equal(err.code, "unknown_setting");
	assert_int_equal(ops_setting_set(&f->o, &f->dadmin, SETTING_DOMAIN, "a.example", "batv", "maybe",
					 &r, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "batv");
}

static void test_admin_login(void **state)
{
	struct fixture *f = *state;
	const char *doms[] = { "a.example" };
	struct ops_scope dom = { "domain", doms, 1 }, srv = { "server", NULL, 0 };
	struct ops_actor actor;
	struct ops_error err;

	assert_int_equal(ops_admin_add(&f->o, &f->cli, "alice", &dom, PW, &err), 0);
	assert_int_equal(ops_admin_add(&f->o, &f->cli, "alice", &srv, PW, &err), -1);
	assert_string_equal(err.code, "exists");
	assert_int_equal(ops_admin_add(&f->o, &f->cli, "Bad Name", &srv, PW, &err), -1);
	assert_string_equal(err.code, "invalid_name");
	/* a domain administrator manages no administrators */
	assert_int_equal(ops_admin_add(&f->o, &f->dadmin, "eve", &dom, PW, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_admin_login(&f->o, "alice", PW, "192.0.2.1", &actor, &err), 0);
	assert_int_equal(actor.kind, OPS_ACTOR_DOMAIN_ADMIN);
	assert_int_equal(actor.ndomains, 1);
	assert_string_equal(actor.domains[0], "a.example");
	assert_string_equal(actor.ip, "192.0.2.1");
	assert_true(ops_may_domain(&actor, "a.example"));
	assert_false(ops_may_domain(&actor, "b.example"));
	assert_int_equal(ops_admin_login(&f->o, "alice", PW2, "", &actor, &err), -1);
	assert_string_equal(err.code, "bad_login");
	assert_int_equal(ops_admin_login(&f->o, "nobody", PW, "", &actor, &err), -1);
	assert_string_equal(err.code, "bad_login");
	assert_int_equal(ops_admin_passwd(&f->o, &f->cli, "alice", PW2, &err), 0);
	assert_int_equal(ops_admin_login(&f->o, "alice", PW, "", &actor, &err), -1);
	assert_int_equal(ops_admin_login(&f->o, "alice", PW2, "", &actor, &err), 0);
	assert_int_equal(ops_admin_del(&f->o, &f->cli, "alice", &err), 0);
	assert_int_equal(ops_admin_login(&f->o, "alice", PW2, "", &actor, &err), -1);
	assert_int_equal(ops_admin_del(&f->o, &f->cli, "alice", &err), -1);
	assert_string_equal(err.code, "not_found");
}

static void count_token(const struct dir_token *t, void *ctx)
{
	(void)t;
	(*(unsigned *)ctx)++;
}

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	const char *a[] = { "a.example" }, *b[] = { "b.example" };
	struct ops_scope sa = { "domain", a, 1 }, sb = { "domain", b, 1 }, srv = { "server", NULL, 0 };
	char token[OPS_TOKEN_TEXT_MAX], other[OPS_TOKEN_TEXT_MAX], id[32], oid[32];
	struct ops_actor actor;
	struct ops_error err;
	struct dir_token t;
	int64_t now = time(NULL);
	unsigned n = 0;

	/* a domain administrator: tokens for its domains only */
	assert_int_equal(ops_token_create(&f->o, &f->dadmin, &sb, 3600, token, id, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_token_create(&f->o, &f->dadmin, &srv, 3600, token, id, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_token_create(&f->o, &f->dadmin, &sa, 0, token, id, &err), -1);
	assert_string_equal(err.code, "invalid_expiry");
	assert_int_equal(ops_token_create(&f->o, &f->dadmin, &sa, 3600, token, id, &err), 0);
	assert_int_equal(ops_token_create(&f->o, &f->cli, &srv, 60, other, oid, &err), 0);
	/* only a hash is stored */
	assert_int_equal(directory_token_get(f->o.dir, id, &t), 1);
	assert_null(strstr(token, t.hash));
	assert_int_equal(ops_token_verify(&f->o, token, "203.0.113.1", now, &actor, &err), 0);
	assert_int_equal(actor.kind, OPS_ACTOR_TOKEN);
	assert_int_equal(actor.role, OPS_ACTOR_DOMAIN_ADMIN);
	assert_string_equal(actor.name, id);
	assert_true(ops_may_domain(&actor, "a.example"));
	assert_false(ops_may_domain(&actor, "b.example"));
	assert_int_equal(directory_token_get(f->o.dir, id, &t), 1);
	assert_int_equal(t.last_used, now);
	/* a token creates no tokens */
	assert_int_equal(ops_token_create(&f->o, &actor, &sa, 60, other, oid, &err), -1);
	/* one changed character, a cut token, garbage */
	token[strlen(token) - 1] ^= 1;
	assert_int_equal(ops_token_verify(&f->o, token, "", now, &actor, &err), -1);
	assert_string_equal(err.code, "bad_token");
	token[strlen(token) - 1] ^= 1;
	assert_int_equal(ops_token_verify(&f->o, "yubin_", "", now, &actor, &err), -1);
	assert_int_equal(ops_token_verify(&f->o, "", "", now, &actor, &err), -1);
	/* expiry */
	assert_int_equal(ops_token_verify(&f->o, other, "", now + 59, &actor, &err), 0);
	assert_int_equal(actor.role, OPS_ACTOR_ADMIN);
	assert_int_equal(ops_token_verify(&f->o, other, "", now + 61, &actor, &err), -1);
	assert_string_equal(err.code, "bad_token");
	/* the domain administrator sees and revokes only its own */
	assert_int_equal(ops_token_list(&f->o, &f->dadmin, count_token, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops_token_revoke(&f->o, &f->dadmin, oid, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_token_revoke(&f->o, &f->dadmin, id, &err), 0);
	assert_int_equal(ops_token_verify(&f->o, token, "", now, &actor, &err), -1);
	assert_string_equal(err.code, "bad_token");
	assert_int_equal(ops_token_revoke(&f->o, &f->cli, "nosuch", &err), -1);
	assert_string_equal(err.code, "not_found");
}

static void block(struct fixture *f, const char *key, const char *kind)
{
	struct dir_auth_block b = { .since = time(NULL), .until = time(NULL) + 3600, .failures = 9 };
	const char *e;

	strcpy(b.key, key);
	strcpy(b.kind, kind);
	assert_int_equal(directory_auth_block_set(f->o.dir, &b, &e), 0);
}

static void test_security_unblock_scope(void **state)
{
	struct fixture *f = *state;
	char key[DIR_ADDRESS_MAX + 1];
	struct ops_error err;
	bool removed;

	block(f, "192.0.2.9", "ip");
	block(f, "x@b.example", "account");
	block(f, "y@a.example", "account");
	assert_int_equal(ops_security_unblock(&f->o, &f->dadmin, "192.0.2.9", key, &removed, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_security_unblock(&f->o, &f->dadmin, "X@b.example", key, &removed, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_security_unblock(&f->o, &f->user, "y@a.example", key, &removed, &err), -1);
	assert_int_equal(ops_security_unblock(&f->o, &f->dadmin, "Y@a.example", key, &removed, &err), 0);
	assert_true(removed);
	assert_string_equal(key, "y@a.example");
	assert_int_equal(ops_security_unblock(&f->o, &f->cli, "192.0.2.9/24", key, &removed, &err), 0);
	assert_true(removed);
	assert_int_equal(ops_security_unblock(&f->o, &f->cli, "192.0.2.9", key, &removed, &err), 0);
	assert_false(removed);
	assert_int_equal(ops_security_unblock(&f->o, &f->cli, "not-an-ip", key, &removed, &err), -1);
	assert_string_equal(err.code, "invalid_target");
}

static void test_domains_server_only(void **state)
{
	struct fixture *f = *state;
	struct ops_domain_del_result r;
	char name[DIR_DOMAIN_MAX + 1];
	struct ops_error err;
	bool failed;

	assert_int_equal(ops_domain_add(&f->o, &f->dadmin, "c.example", name, &failed, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_domain_del(&f->o, &f->dadmin, "a.example", true, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_domain_add(&f->o, &f->cli, "C.Example", name, &failed, &err), 0);
	assert_string_equal(name, "c.example");
	assert_int_equal(ops_domain_add(&f->o, &f->cli, "c.example", name, &failed, &err), -1);
	assert_string_equal(err.code, "exists");
	assert_int_equal(ops_domain_add(&f->o, &f->cli, "bad..name", name, &failed, &err), -1);
	assert_string_equal(err.code, "invalid_domain");
	add_ok(f, &f->cli, "u@c.example");
	assert_int_equal(ops_domain_del(&f->o, &f->cli, "c.example", false, &r, &err), -1);
	assert_string_equal(err.code, "not_empty");
	assert_true(exists(f, "u@c.example"));
	assert_int_equal(ops_domain_del(&f->o, &f->cli, "c.example", true, &r, &err), 0);
	assert_int_equal(r.accounts, 1);
	assert_false(exists(f, "u@c.example"));
	assert_int_equal(ops_domain_del(&f->o, &f->cli, "c.example", true, &r, &err), -1);
	assert_string_equal(err.code, "not_found");
}

/* An account or domain with a home node: the node is asked to delete the
 * mailbox (a row for it, in the deletion's transaction) and nothing under
 * this machine's data directory is touched; the address cannot come back
 * on that node until the node has done it. */
static void test_delete_on_home_node(void **state)
{
	struct fixture *f = *state;
	struct ops_account_new n = { .address = "v@a.example", .password = PW, .memo = "", .node = "n2" };
	struct dir_node node = { .name = "n2", .imap = "10.0.0.2:143" };
	struct ops_domain_del_result dr;
	struct ops_del_result r;
	struct ops_error err;
	struct dir_account a;
	char path[1200];
	const char *e;

	assert_int_equal(directory_node_add(f->o.dir, &node, &e), 0);
	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), 0);
	/* something at the local path is not the account's mailbox */
	snprintf(path, sizeof(path), "%s/mail/a.example/v", f->dir);
	assert_int_equal(fs_mkdir_p(path, 0700), 0);
	assert_int_equal(ops_account_del(&f->o, &f->cli, "V@a.example", &r, &err), 0);
	assert_string_equal(r.node, "n2");
	assert_false(r.mailbox_present);
	assert_false(exists(f, "v@a.example"));
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(directory_mailbox_deletion_pending(f->o.dir, "v@a.example", "n2"), 1);
	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), -1);
	assert_string_equal(err.code, "conflict");
	assert_false(exists(f, "v@a.example"));
	assert_int_equal(directory_mailbox_deletion_done(f->o.dir, "v@a.example", "n2", time(NULL)), 1);
	assert_int_equal(ops_account_add(&f->o, &f->cli, &n, &a, &err), 0);
	/* a domain: its accounts with a home node (w: placed on the only
	 * node) are the nodes' to delete; one without stays here */
	add_ok(f, &f->cli, "w@a.example");
	add_ok(f, &f->cli, "x@a.example");
	assert_int_equal(directory_account_set_node(f->o.dir, "x@a.example", NULL, &e), 1);
	assert_int_equal(ops_domain_del(&f->o, &f->cli, "a.example", true, &dr, &err), 0);
	assert_int_equal(dr.accounts, 3);
	assert_int_equal(dr.on_nodes, 2);
	assert_int_equal(directory_mailbox_deletion_pending(f->o.dir, "v@a.example", "n2"), 1);
	assert_int_equal(directory_mailbox_deletion_pending(f->o.dir, "w@a.example", "n2"), 1);
	assert_int_equal(directory_mailbox_deletion_pending(f->o.dir, "x@a.example", "n2"), 0);
}

struct audit_seen {
	unsigned rows;
	bool secret;
	char ops[512];
};

static void audit_cb(const struct dir_audit *a, void *ctx)
{
	struct audit_seen *s = ctx;

	s->rows++;
	if (strstr(a->summary, PW) != NULL || strstr(a->summary, PW2) != NULL ||
	    strstr(a->summary, "argon2") != NULL || strstr(a->target, PW) != NULL)
		s->secret = true;
	strncat(s->ops, a->op, sizeof(s->ops) - strlen(s->ops) - 2);
	strcat(s->ops, " ");
	if (strcmp(a->op, "account.passwd") == 0) {
		assert_string_equal(a->actor, "domain-admin:alice");
		assert_string_equal(a->ip, "192.0.2.7");
		assert_string_equal(a->target, "u@a.example");
	}
}

static void test_audit_rows_without_secrets(void **state)
{
	struct fixture *f = *state;
	struct audit_seen seen = { 0, false, "" };
	struct ops_error err;
	unsigned count, old;
	bool lifted;

	add_ok(f, &f->cli, "u@a.example");
	assert_int_equal(ops_account_passwd(&f->o, &f->dadmin, "u@a.example", NULL, PW2, &lifted, &err), 0);
	assert_int_equal(ops_account_add_bulk(&f->o, &f->cli, "v@a.example," PW ",,m\n", &count, &err), 0);
	/* refused: no row */
	assert_int_equal(ops_account_quota(&f->o, &f->dadmin, "u@a.example", 0, &old, &err), -1);
	assert_int_equal(directory_audit_list(f->o.dir, NULL, 100, audit_cb, &seen), 0);
	assert_int_equal(seen.rows, 3);
	assert_false(seen.secret);
	assert_string_equal(seen.ops, "account.add-bulk account.passwd account.add ");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(directory_audit_list(f->o.dir, "a.example", 100, audit_cb, &seen), 0);
	assert_int_equal(seen.rows, 2);	/* the bulk row has no single target */
}

/* Sessions: only a hash stored, idle and absolute expiry, a password
 * change ends the account's other sessions in the same step. */
static void test_sessions(void **state)
{
	struct fixture *f = *state;
	struct ops_actor a, b, got;
	struct ops_error err;
	char id1[OPS_SESSION_ID_LEN + 1], id2[OPS_SESSION_ID_LEN + 1], csrf[65], csrf2[65];
	int64_t now = 1000000;
	struct dir_session s;
	bool lifted;

	add_ok(f, &f->cli, "u@a.example");
	ops_actor_init(&a, OPS_ACTOR_USER, "u@a.example", "198.51.100.1");
	assert_int_equal(ops_session_create(&f->o, &a, now, 60, 3600, id1, csrf, &err), 0);
	assert_int_equal(ops_session_create(&f->o, &a, now, 60, 3600, id2, csrf2, &err), 0);
	assert_int_equal(strlen(id1), OPS_SESSION_ID_LEN);
	assert_string_not_equal(id1, id2);
	/* the id itself is nowhere in the table */
	assert_int_equal(directory_session_get(f->o.dir, id1, &s), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "198.51.100.1", now + 30, 60, 3600, &got, csrf2, &err), 0);
	assert_int_equal(got.kind, OPS_ACTOR_USER);
	assert_string_equal(got.name, "u@a.example");
	assert_string_equal(csrf2, csrf);
	assert_int_equal(strlen(got.session), 64);
	/* idle: 60 s after the last use (noted at +30) */
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 89, 60, 3600, &got, csrf2, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id2, "", now + 61, 60, 3600, &got, csrf2, &err), -1);
	assert_string_equal(err.code, "not_logged_in");
	/* the user changes its password from session 1: 2 ends, 1 stays */
	assert_int_equal(ops_session_create(&f->o, &a, now + 89, 60, 3600, id2, csrf2, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 90, 60, 3600, &b, csrf2, &err), 0);
	assert_int_equal(ops_account_passwd(&f->o, &b, "u@a.example", PW, PW2, &lifted, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 91, 60, 3600, &got, csrf2, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id2, "", now + 91, 60, 3600, &got, csrf2, &err), -1);
	/* absolute lifetime, however busy (last use is noted every idle / 2, at
	 * most once a minute, so a use within idle / 2 always keeps it) */
	for (int64_t t = now + 100; t < now + 3600; t += 25)
		assert_int_equal(ops_session_verify(&f->o, id1, "", t, 60, 3600, &got, csrf2, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 3600, 60, 3600, &got, csrf2, &err), -1);
	/* an administrator's change ends them all; so does deleting */
	assert_int_equal(ops_session_create(&f->o, &a, now, 60, 3600, id1, csrf, &err), 0);
	assert_int_equal(ops_account_passwd(&f->o, &f->cli, "u@a.example", NULL, PW, &lifted, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 1, 60, 3600, &got, csrf2, &err), -1);
	assert_int_equal(ops_session_create(&f->o, &a, now, 60, 3600, id1, csrf, &err), 0);
	ops_session_end(&f->o, id1);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now + 1, 60, 3600, &got, csrf2, &err), -1);
	assert_int_equal(ops_session_verify(&f->o, "short", "", now, 60, 3600, &got, csrf2, &err), -1);
	/* a domain administrator's scope comes back from the session */
	assert_int_equal(ops_session_create(&f->o, &f->dadmin, now, 60, 3600, id1, csrf, &err), 0);
	assert_int_equal(ops_session_verify(&f->o, id1, "", now, 60, 3600, &got, csrf2, &err), 0);
	assert_int_equal(got.kind, OPS_ACTOR_DOMAIN_ADMIN);
	assert_int_equal(got.ndomains, 1);
	assert_string_equal(got.domains[0], "a.example");
}

static void fake_check(void *ctx, const char *address, const char *password, const char *ip,
		       const char *service, struct ops_login_result *r)
{
	*(int *)ctx += 1;
	assert_string_equal(service, "web");
	r->code = strcmp(password, "foreign") == 0 ? OPS_LOGIN_FOREIGN
		  : strcmp(password, "blocked") == 0 ? OPS_LOGIN_BLOCKED
		  : strcmp(password, PW) == 0 ? OPS_LOGIN_OK : OPS_LOGIN_FAILED;
	r->delay_ms = r->code == OPS_LOGIN_FAILED ? 1000 : 0;
	strcpy(r->address, "u@a.example");
}

static void test_user_login(void **state)
{
	struct fixture *f = *state;
	struct ops_actor a;
	struct ops_error err;
	unsigned delay;
	int calls = 0;

	assert_int_equal(ops_user_login(&f->o, "U@a.example", PW, "192.0.2.1", fake_check, &calls, &a, &delay,
					&err), 0);
	assert_int_equal(a.kind, OPS_ACTOR_USER);
	assert_string_equal(a.name, "u@a.example");
	assert_int_equal(ops_user_login(&f->o, "u@a.example", "nope", "", fake_check, &calls, &a, &delay, &err), -1);
	assert_string_equal(err.code, "bad_login");
	assert_int_equal(delay, 1000);
	assert_int_equal(ops_user_login(&f->o, "u@a.example", "foreign", "", fake_check, &calls, &a, &delay, &err), -1);
	assert_string_equal(err.code, "foreign_blocked");
	assert_int_equal(ops_user_login(&f->o, "u@a.example", "blocked", "", fake_check, &calls, &a, &delay, &err), -1);
	assert_string_equal(err.code, "rate_limited");
	/* no address: refused without the check */
	assert_int_equal(ops_user_login(&f->o, "admin", PW, "", fake_check, &calls, &a, &delay, &err), -1);
	assert_string_equal(err.code, "bad_login");
	assert_int_equal(calls, 4);
}

struct rows {
	char list[8][DIR_ADDRESS_MAX + 1];
	size_t n;
};

static void row_cb(const struct ops_account_row *row, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 8)
		strcpy(r->list[r->n++], row->a->address);
}

static void domain_cb(const struct dir_domain *d, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 8)
		strcpy(r->list[r->n++], d->name);
}

static void test_lists_scoped(void **state)
{
	struct fixture *f = *state;
	struct rows r = { .n = 0 };
	struct ops_error err;
	size_t total;

	add_ok(f, &f->cli, "u1@a.example");
	add_ok(f, &f->cli, "u2@a.example");
	add_ok(f, &f->cli, "x@a.example");
	add_ok(f, &f->cli, "u3@b.example");
	assert_int_equal(ops_account_memo(&f->o, &f->cli, "x@a.example", "Sales U-team", &err), 0);
	assert_int_equal(ops_account_list(&f->o, &f->dadmin, "a.example", "u", 1, 2, row_cb, &r, &total, &err), 0);
	assert_int_equal(total, 3);	/* u1, u2 and x (by its memo) */
	assert_int_equal(r.n, 2);
	assert_string_equal(r.list[0], "u2@a.example");
	assert_string_equal(r.list[1], "x@a.example");
	assert_int_equal(ops_account_list(&f->o, &f->dadmin, "b.example", NULL, 0, 0, row_cb, &r, &total, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_list(&f->o, &f->user, "a.example", NULL, 0, 0, row_cb, &r, &total, &err), -1);
	assert_int_equal(ops_account_list(&f->o, &f->cli, "c.example", NULL, 0, 0, row_cb, &r, &total, &err), -1);
	assert_string_equal(err.code, "not_found");
	r.n = 0;
	assert_int_equal(ops_domain_list(&f->o, &f->dadmin, domain_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.list[0], "a.example");
	r.n = 0;
	assert_int_equal(ops_domain_list(&f->o, &f->cli, domain_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(ops_domain_list(&f->o, &f->user, domain_cb, &r, &err), -1);
	/* every domain's accounts (yubinctl account list): server actors only,
	 * by address across the domains */
	add_ok(f, &f->cli, "a0@b.example");
	r.n = 0;
	assert_int_equal(ops_account_list(&f->o, &f->cli, NULL, NULL, 0, 0, row_cb, &r, &total, &err), 0);
	assert_int_equal(total, 5);
	assert_int_equal(r.n, 5);
	assert_string_equal(r.list[0], "a0@b.example");
	assert_string_equal(r.list[1], "u1@a.example");
	assert_string_equal(r.list[3], "u3@b.example");
	assert_string_equal(r.list[4], "x@a.example");
	assert_int_equal(ops_account_list(&f->o, &f->dadmin, NULL, NULL, 0, 0, row_cb, &r, &total, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_account_list(&f->o, &f->user, NULL, NULL, 0, 0, row_cb, &r, &total, &err), -1);
	assert_string_equal(err.code, "forbidden");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain_admin_only_its_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_have_codes_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows_without_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_unblock_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains_server_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists_scoped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_on_home_node, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
