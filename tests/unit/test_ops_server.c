/* Unit tests for the server administration in src/ops/ (ops_server.h):
 * the events, blocks, suspensions and audit lists each actor may see, a
 * mail user's own logins, the queue per sender domain, DKIM rotation and
 * activation, the DNS records and doctor as a result. A real SQLite file,
 * queue files and keys in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "directory/directory.h"
#include "lib/fsutil.h"
#include "ops/ops_server.h"
#include "ops_fixture.h"

#define PW "Corr3ct-Horse"

static bool wake_cb(const struct ops *o)
{
	(void)o;
	return true;
}

static void add_account(struct fixture *f, const char *address)
{
	struct ops_account_new n = { .address = address, .password = PW, .memo = "" };
	struct dir_account a;
	struct ops_error err;

	if (ops_account_add(&f->o, &f->cli, &n, &a, &err) != 0)
		fail_msg("add %s: %s %s", address, err.code, err.en);
}

static int setup(void **state)
{
	struct fixture *f = ops_fixture_new("/tmp/yubin-test-opss-XXXXXX", true, "b.example");

	if (f == NULL)
		return -1;
	add_account(f, "u@a.example");
	add_account(f, "v@b.example");
	*state = f;
	return 0;
}

/* ---- collecting callbacks ---- */

struct rows {
	size_t n;
	char text[64][DIR_ADDRESS_MAX + 40];
	int64_t ids[64];
};

static void event_cb(const struct dir_event *e, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 64) {
		r->ids[r->n] = e->id;
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s", e->kind, e->address);
	}
}

static void audit_cb(const struct dir_audit *a, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 64) {
		r->ids[r->n] = a->id;
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s", a->op, a->target);
	}
}

static void block_cb(const struct dir_auth_block *b, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 64)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s", b->kind, b->key);
}

static void hold_cb(const struct dir_hold *h, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 64)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s %s", h->address, h->reason);
}

static void queue_cb(const struct queue_env *env, void *ctx)
{
	struct rows *r = ctx;

	if (r->n < 64)
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s", env->id);
}

static bool has(const struct rows *r, const char *text)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->text[i], text) == 0)
			return true;
	}
	return false;
}

/* ---- the logs ---- */

static void test_events_scope_and_filters(void **state)
{
	struct fixture *f = *state;
	struct ops_log_query q = { 0 };
	struct ops_error err;
	struct rows r;

	directory_event_add(f->o.dir, "auth-failed", "u@a.example", "192.0.2.1", "bad password");
	directory_event_add(f->o.dir, "auth-failed", "v@b.example", "192.0.2.2", "bad password");
	directory_event_add(f->o.dir, "auth-block", "", "192.0.2.3", "ip blocked");
	directory_event_add(f->o.dir, "dkim-rotated", "a.example", "", "new selectors");
	directory_event_add(f->o.dir, "delivered", "U@A.example", "192.0.2.4", "");
	/* a look-alike domain must not match a.example */
	directory_event_add(f->o.dir, "delivered", "x@aa.example", "192.0.2.5", "");

	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), 0);
	assert_true(has(&r, "auth-block ") && has(&r, "auth-failed v@b.example") && has(&r, "delivered x@aa.example"));

	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_events(&f->o, &f->dadmin, &q, event_cb, &r, &err), 0);
	assert_true(has(&r, "auth-failed u@a.example"));
	assert_true(has(&r, "dkim-rotated a.example"));
	assert_true(has(&r, "delivered u@a.example"));
	assert_false(has(&r, "auth-failed v@b.example"));
	assert_false(has(&r, "auth-block "));
	assert_false(has(&r, "delivered x@aa.example"));
	/* newest first */
	assert_string_equal(r.text[0], "delivered u@a.example");

	/* another domain, by name or by address: refused */
	q.domain = "b.example";
	assert_int_equal(ops_security_events(&f->o, &f->dadmin, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	q.domain = NULL;
	q.address = "v@B.example";
	assert_int_equal(ops_security_events(&f->o, &f->dadmin, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	/* a token follows its role and domains */
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_events(&f->o, &f->token, &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.text[0], "auth-failed v@b.example");
	assert_string_equal(r.text[1], "account-added v@b.example");
	/* a mail user: never the event list */
	q.address = NULL;
	assert_int_equal(ops_security_events(&f->o, &f->user, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");

	/* kind, limit and paging */
	memset(&r, 0, sizeof(r));
	q.kind = "auth-failed";
	q.limit = 1;
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "auth-failed v@b.example");
	q.before = r.ids[0];
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "auth-failed u@a.example");
	/* bad filters */
	q.kind = "x' OR 1=1";
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "invalid_kind");
	q.kind = NULL;
	q.limit = OPS_LOG_LIMIT_MAX + 1;
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "invalid_limit");
	q.limit = 0;
	q.domain = "not a domain";
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "invalid_domain");
	/* since: nothing in the future */
	q.domain = NULL;
	q.before = 0;
	q.since = (int64_t)time(NULL) + 3600;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_events(&f->o, &f->cli, &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 0);
}

static void test_blocks_and_suspended_scope(void **state)
{
	struct fixture *f = *state;
	struct dir_auth_block b = { .since = 1 };
	struct ops_error err;
	const char *e;
	struct rows r;

	b.until = (int64_t)time(NULL) + 3600;
	strcpy(b.key, "192.0.2.9");
	strcpy(b.kind, "ip");
	assert_int_equal(directory_auth_block_set(f->o.dir, &b, &e), 0);
	strcpy(b.key, "u@a.example");
	strcpy(b.kind, "account");
	assert_int_equal(directory_auth_block_set(f->o.dir, &b, &e), 0);
	strcpy(b.key, "v@b.example");
	assert_int_equal(directory_auth_block_set(f->o.dir, &b, &e), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_blocks(&f->o, &f->cli, block_cb, &r, &err), 0);
	assert_int_equal(r.n, 3);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_blocks(&f->o, &f->dadmin, block_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "account u@a.example");
	assert_int_equal(ops_security_blocks(&f->o, &f->user, block_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");

	assert_int_equal(directory_hold_set(f->o.dir, "u@a.example", 10, "burst", "300 in 1 min", &e), 0);
	assert_int_equal(directory_hold_set(f->o.dir, "v@b.example", 20, "bounces", "", &e), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_suspended(&f->o, &f->cli, hold_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.text[0], "u@a.example burst");
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_suspended(&f->o, &f->token, hold_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "v@b.example bounces");
	/* a lifted suspension is not listed */
	assert_int_equal(directory_hold_lift(f->o.dir, "v@b.example", "test", &e), 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_security_suspended(&f->o, &f->cli, hold_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(ops_security_suspended(&f->o, &f->user, hold_cb, &r, &err), -1);
}

static void test_audit_scope(void **state)
{
	struct fixture *f = *state;
	struct ops_log_query q = { 0 };
	const char *doms[] = { "a.example" };
	struct ops_scope scope = { "domain", doms, 1 };
	struct ops_error err;
	struct rows r;
	unsigned old;

	assert_int_equal(ops_account_quota(&f->o, &f->cli, "v@b.example", 10, &old, &err), 0);
	assert_int_equal(ops_account_quota(&f->o, &f->dadmin, "u@a.example", 10, &old, &err), 0);
	/* an administrator named like a domain: its rows stay server-only */
	assert_int_equal(ops_admin_add(&f->o, &f->cli, "a.example", &scope, PW, &err), 0);

	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->dadmin, &q, audit_cb, &r, &err), 0);
	assert_true(has(&r, "account.quota u@a.example"));
	assert_true(has(&r, "account.add u@a.example"));
	assert_false(has(&r, "account.quota v@b.example"));
	assert_false(has(&r, "admin.add a.example"));
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->cli, &q, audit_cb, &r, &err), 0);
	assert_true(has(&r, "admin.add a.example") && has(&r, "account.quota v@b.example"));
	/* actor filter, target filter, paging */
	q.actor = "domain-admin:alice";
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->cli, &q, audit_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "account.quota u@a.example");
	q.actor = NULL;
	q.address = "B.example";
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->cli, &q, audit_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	q.before = r.ids[0];
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->cli, &q, audit_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "account.add v@b.example");
	/* a domain administrator asking for another domain's rows gets none of them */
	q.before = 0;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_audit_list(&f->o, &f->dadmin, &q, audit_cb, &r, &err), 0);
	assert_int_equal(r.n, 0);
	q.address = NULL;
	q.domain = "b.example";
	assert_int_equal(ops_audit_list(&f->o, &f->dadmin, &q, audit_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_audit_list(&f->o, &f->user, &q, audit_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
}

static void test_me_logins(void **state)
{
	struct fixture *f = *state;
	struct ops_log_query q = { 0 };
	struct ops_error err;
	struct rows r;

	directory_event_add(f->o.dir, "auth-ok", "u@a.example", "192.0.2.1", "imap");
	directory_event_add(f->o.dir, "delivered", "u@a.example", "192.0.2.1", "");
	directory_event_add(f->o.dir, "auth-failed", "u@a.example", "192.0.2.2", "bad password");
	directory_event_add(f->o.dir, "auth-ok", "v@b.example", "192.0.2.3", "imap");
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_me_logins(&f->o, &f->user, NULL, &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.text[0], "auth-failed u@a.example");
	assert_string_equal(r.text[1], "auth-ok u@a.example");
	assert_int_equal(ops_me_logins(&f->o, &f->user, "v@b.example", &q, event_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");
	/* its domain's administrator may look, another domain's may not */
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_me_logins(&f->o, &f->dadmin, "u@a.example", &q, event_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(ops_me_logins(&f->o, &f->dadmin, "v@b.example", &q, event_cb, &r, &err), -1);
}

/* ---- the queue ---- */

static void queue_add(struct fixture *f, const char *from, char *id, size_t size)
{
	static const char body[] = "Subject: hello\r\nFrom: x\r\n\r\nbody\r\n";
	const char *rcpts[] = { "r@remote.example" };
	struct maildir_msg m = { .prefix = "", .body = body, .body_fd = -1, .body_len = sizeof(body) - 1 };
	char dir[128];
	const char *e = "";

	snprintf(dir, sizeof(dir), "%s/queue", f->dir);
	mkdir(dir, 0700);
	if (queue_file_create(dir, from, rcpts, 1, &m, id, size, &e) < 0)
		fail_msg("queue: %s", e);
}

static void test_queue_scope(void **state)
{
	struct fixture *f = *state;
	char mine[QUEUE_ID_MAX], theirs[QUEUE_ID_MAX], bounce[QUEUE_ID_MAX], *header = NULL;
	struct queue_env env;
	struct ops_error err;
	struct rows r;
	size_t n;
	bool woken;

	/* an empty queue (no directory yet) lists nothing */
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_queue_list(&f->o, &f->cli, queue_cb, &r, &err), 0);
	assert_int_equal(r.n, 0);
	queue_add(f, "u@a.example", mine, sizeof(mine));
	queue_add(f, "v@b.example", theirs, sizeof(theirs));
	queue_add(f, "", bounce, sizeof(bounce));

	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_queue_list(&f->o, &f->cli, queue_cb, &r, &err), 0);
	assert_int_equal(r.n, 3);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_queue_list(&f->o, &f->dadmin, queue_cb, &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], mine);
	assert_int_equal(ops_queue_list(&f->o, &f->user, queue_cb, &r, &err), -1);
	assert_string_equal(err.code, "forbidden");

	assert_int_equal(ops_queue_show(&f->o, &f->dadmin, mine, &env, &header, &err), 0);
	assert_string_equal(env.from, "u@a.example");
	assert_non_null(strstr(header, "Subject: hello\n"));
	assert_null(strstr(header, "body"));
	free(header);
	queue_env_free(&env);
	/* another domain's message and a bounce read as missing */
	assert_int_equal(ops_queue_show(&f->o, &f->dadmin, theirs, &env, &header, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_queue_delete(&f->o, &f->dadmin, bounce, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_queue_show(&f->o, &f->cli, "../yubin.db", &env, &header, &err), -1);
	assert_string_equal(err.code, "invalid_id");

	/* retry: all of its own, told through queue_wake */
	f->o.queue_wake = wake_cb;
	assert_int_equal(ops_queue_retry(&f->o, &f->dadmin, NULL, &n, &woken, &err), 0);
	assert_int_equal(n, 1);
	assert_true(woken);
	assert_int_equal(ops_queue_retry(&f->o, &f->dadmin, theirs, &n, &woken, &err), -1);
	f->o.queue_wake = NULL;
	assert_int_equal(ops_queue_retry(&f->o, &f->cli, NULL, &n, &woken, &err), 0);
	assert_int_equal(n, 3);
	assert_false(woken);

	assert_int_equal(ops_queue_delete(&f->o, &f->dadmin, mine, &err), 0);
	assert_int_equal(ops_queue_delete(&f->o, &f->dadmin, mine, &err), -1);
	assert_string_equal(err.code, "not_found");
	memset(&r, 0, sizeof(r));
	assert_int_equal(ops_queue_list(&f->o, &f->cli, queue_cb, &r, &err), 0);
	assert_int_equal(r.n, 2);
	{
		struct ops_log_query q = { .address = mine };
		char want[64];

		snprintf(want, sizeof(want), "queue.delete %s", mine);
		memset(&r, 0, sizeof(r));
		assert_int_equal(ops_audit_list(&f->o, &f->cli, &q, audit_cb, &r, &err), 0);
		assert_int_equal(r.n, 1);
		assert_string_equal(r.text[0], want);
	}
}

/* ---- DKIM and DNS ---- */

static size_t count_state(const struct ops_dkim_keys *k, enum dkim_key_state s)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n; i++)
		n += k->keys[i].info.state == s;
	return n;
}

static void test_dkim_rotation(void **state)
{
	struct fixture *f = *state;
	struct ops_dkim_keys *k = malloc(sizeof(*k));
	struct ops_dns_records *d = malloc(sizeof(*d));
	struct ops_error err;

	assert_non_null(k);
	assert_non_null(d);
	assert_int_equal(ops_dkim_list(&f->o, &f->dadmin, "a.example", k, &err), 0);
	assert_int_equal(k->n, 0);
	assert_int_equal(ops_dkim_domain_added(&f->o, &f->dadmin, "A.example", k, &err), 1);
	assert_string_equal(k->domain, "a.example");
	assert_int_equal(count_state(k, DKIM_STATE_ACTIVE), 2);
	assert_non_null(strstr(k->keys[0].record, "v=DKIM1; k=rsa; p="));
	assert_non_null(strstr(k->keys[1].record, "k=ed25519"));
	assert_int_equal(ops_dkim_domain_added(&f->o, &f->dadmin, "a.example", k, &err), 0);

	assert_int_equal(ops_dkim_activate(&f->o, &f->dadmin, "a.example", k, &err), -1);
	assert_string_equal(err.code, "no_waiting_keys");
	assert_int_equal(ops_dkim_rotate(&f->o, &f->dadmin, "a.example", false, k, &err), 0);
	assert_false(k->switched);
	assert_int_equal(count_state(k, DKIM_STATE_NEXT), 2);
	assert_int_equal(ops_dkim_rotate(&f->o, &f->dadmin, "a.example", false, k, &err), -1);
	assert_string_equal(err.code, "rotation_waiting");

	/* the records to publish include the waiting keys */
	assert_int_equal(ops_dns_records(&f->o, &f->dadmin, "a.example", "mx.test", d, &err), 0);
	assert_int_equal(d->n, 2 + 4 + 1 + OPS_SRV_RECORDS + 3);
	assert_string_equal(d->rr[0].purpose, "mx");
	assert_string_equal(d->rr[7].purpose, "srv");
	assert_string_equal(d->rr[7].name, "_submissions._tcp.a.example.");
	/* then MTA-STS (the record, the policy host) and TLS reporting */
	assert_string_equal(d->rr[13].purpose, "sts");
	assert_string_equal(d->rr[13].name, "_mta-sts.a.example.");
	assert_non_null(strstr(d->rr[13].value, "v=STSv1; id="));
	assert_string_equal(d->rr[14].type, "CNAME");
	assert_string_equal(d->rr[14].value, "mx.test.");
	assert_string_equal(d->rr[15].value, "v=TLSRPTv1; rua=mailto:postmaster@a.example");
	assert_string_equal(d->rr[0].value, "10 mx.test.");
	assert_string_equal(d->rr[1].value, "v=spf1 mx a:mx.test ~all");
	assert_string_equal(d->rr[6].name, "_dmarc.a.example.");
	assert_string_equal(d->rr[6].value, "v=DMARC1; p=none; rua=mailto:postmaster@a.example");
	assert_int_equal(d->rr[2].state, OPS_DNS_UNCHECKED);

	assert_int_equal(ops_dkim_activate(&f->o, &f->dadmin, "a.example", k, &err), 0);
	assert_int_equal(count_state(k, DKIM_STATE_ACTIVE), 2);
	assert_int_equal(count_state(k, DKIM_STATE_RETIRED), 2);
	assert_int_equal(count_state(k, DKIM_STATE_NEXT), 0);

	/* another domain, a mail user, a missing domain */
	assert_int_equal(ops_dkim_rotate(&f->o, &f->dadmin, "b.example", true, k, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_dns_records(&f->o, &f->dadmin, "b.example", "mx.test", d, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_dkim_list(&f->o, &f->user, "a.example", k, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_dkim_list(&f->o, &f->cli, "c.example", k, &err), -1);
	assert_string_equal(err.code, "not_found");
	/* --now on b.example: active at once, nothing retired */
	assert_int_equal(ops_dkim_rotate(&f->o, &f->token, "b.example", true, k, &err), 0);
	assert_true(k->switched);
	assert_false(k->had_active);
	assert_int_equal(count_state(k, DKIM_STATE_ACTIVE), 2);
	free(k);
	free(d);
}

static void test_domain_keys_come_and_go(void **state)
{
	struct fixture *f = *state;
	struct ops_dkim_keys *k = malloc(sizeof(*k));
	struct ops_domain_del_result del;
	char name[DIR_DOMAIN_MAX + 1], dir[256];
	struct ops_error err;
	struct stat st;
	bool mkdir_failed;

	assert_non_null(k);
	assert_int_equal(ops_domain_add(&f->o, &f->cli, "C.example", name, &mkdir_failed, &err), 0);
	assert_int_equal(ops_dkim_list(&f->o, &f->cli, "c.example", k, &err), 0);
	assert_int_equal(k->n, 2);
	assert_int_equal(count_state(k, DKIM_STATE_ACTIVE), 2);
	snprintf(dir, sizeof(dir), "%s/dkim/c.example", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(ops_domain_del(&f->o, &f->cli, "c.example", false, &del, &err), 0);
	assert_false(del.dkim_left);
	assert_int_equal(stat(dir, &st), -1);
	/* added again: new keys, not the old ones */
	assert_int_equal(ops_domain_add(&f->o, &f->cli, "c.example", name, &mkdir_failed, &err), 0);
	assert_int_equal(ops_dkim_list(&f->o, &f->cli, "c.example", k, &err), 0);
	assert_int_equal(k->n, 2);
	free(k);
}

static void test_dns_check_unreachable(void **state)
{
	struct fixture *f = *state;
	struct ops_dns_records *d = malloc(sizeof(*d));
	struct ops_error err;

	assert_non_null(d);
	assert_int_equal(ops_dns_records(&f->o, &f->cli, "b.example", "mx.test", d, &err), 0);
	assert_true(d->no_dkim);
	assert_int_equal(d->n, 3 + OPS_SRV_RECORDS + 3);
	/* nothing answers on this port: every record is unknown, not missing */
	ops_dns_check(d, "mx.test", "127.0.0.1:9", 1500);
	for (size_t i = 0; i < d->n; i++) {
		assert_int_equal(d->rr[i].state, OPS_DNS_UNKNOWN);
		assert_string_equal(ops_dns_state_name(d->rr[i].state), "unknown");
	}
	free(d);
}

/* ---- doctor ---- */

static const struct ops_doctor_check *find_check(const struct ops_doctor *d, const char *text)
{
	for (size_t i = 0; i < d->nchecks; i++) {
		if (strstr(d->checks[i].text, text) != NULL)
			return &d->checks[i];
	}
	return NULL;
}

static void test_doctor(void **state)
{
	struct fixture *f = *state;
	struct ops_doctor *d = malloc(sizeof(*d));
	const struct ops_doctor_check *c;
	struct ops_error err;
	bool changed;

	assert_non_null(d);
	assert_int_equal(ops_doctor(&f->o, &f->dadmin, "U@a.example", d, &err), 0);
	assert_string_equal(d->address, "u@a.example");
	assert_int_equal(d->problems, 0);
	assert_non_null(c = find_check(d, "the account is enabled"));
	assert_int_equal(c->level, OPS_DOCTOR_OK);
	assert_string_equal(c->ja, "アカウントは有効です");
	assert_non_null(c = find_check(d, "the mailbox uses 0.0 MB of 2000 MB (0.0%), 0 messages"));
	assert_string_equal(c->ja, "メールボックスの使用量: 2000 MB 中 0.0 MB (0.0%)、0 通");
	assert_non_null(strstr(d->events[d->nevents - 1].ja, "アカウントが作成されました"));
	/* account-added from the fixture, explained */
	assert_true(d->nevents >= 1);
	assert_non_null(strstr(d->events[d->nevents - 1].text, "The account was created"));

	assert_int_equal(ops_account_enable(&f->o, &f->cli, "u@a.example", false, &changed, &err), 0);
	assert_int_equal(ops_doctor(&f->o, &f->cli, "u@a.example", d, &err), 0);
	assert_non_null(c = find_check(d, "the account is disabled"));
	assert_int_equal(c->level, OPS_DOCTOR_FAIL);
	assert_non_null(strstr(c->ja, "アカウントが無効です"));
	assert_non_null(strstr(c->ja, "yubinctl account enable u@a.example"));
	assert_int_equal(d->problems, 1);
	/* under its question, with the fix as data */
	assert_int_equal(c->group, OPS_DQ_RECEIVE);
	assert_string_equal(c->command, "yubinctl account enable u@a.example");
	assert_string_equal(c->setting, "enabled");
	for (size_t i = 0; i < d->nchecks; i++) {
		assert_true((unsigned)d->checks[i].group < OPS_DQ_COUNT);
		assert_true(d->checks[i].text[0] != '\0' && d->checks[i].ja[0] != '\0');
	}
	assert_string_equal(ops_doctor_group_id(OPS_DQ_SEND), "send");
	assert_string_equal(ops_doctor_group_id(OPS_DQ_BOUNCES), "bounces");
	assert_string_equal(ops_doctor_group_title(OPS_DQ_CERT, true), "証明書の警告が出る");
	assert_string_equal(ops_doctor_group_id(OPS_DQ_COUNT), "");

	assert_int_equal(ops_doctor(&f->o, &f->cli, "nobody@a.example", d, &err), 0);
	assert_non_null(c = find_check(d, "there is no account nobody@a.example"));
	assert_int_equal(c->level, OPS_DOCTOR_FAIL);
	assert_int_equal(ops_doctor(&f->o, &f->cli, "x@elsewhere.example", d, &err), 0);
	assert_non_null(find_check(d, "is not hosted here"));

	assert_int_equal(ops_doctor(&f->o, &f->dadmin, "v@b.example", d, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_doctor(&f->o, &f->user, "u@a.example", d, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_doctor(&f->o, &f->cli, "not an address", d, &err), -1);
	assert_string_equal(err.code, "invalid_address");
	free(d);
}

static void test_event_explain(void **state)
{
	struct dir_event e = { .kind = "auth-failed", .ip = "192.0.2.1", .detail = "imap" };
	char buf[1200];

	(void)state;
	ops_event_explain(&e, buf, sizeof(buf));
	assert_string_equal(buf, "A login from 192.0.2.1 was refused (imap); if that was the user, the mail client"
			    " has a wrong password or login name (the login name is the full address).");
	strcpy(e.kind, "no-such-kind");
	e.detail[0] = '\0';
	ops_event_explain(&e, buf, sizeof(buf));
	assert_string_equal(buf, "Event no-such-kind from 192.0.2.1.");
	/* Japanese: the same facts */
	strcpy(e.kind, "auth-failed");
	strcpy(e.detail, "imap");
	ops_event_explain_ja(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, "192.0.2.1 からのログインが拒否されました (imap)"));
	strcpy(e.kind, "no-such-kind");
	e.detail[0] = '\0';
	ops_event_explain_ja(&e, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1 からのイベント no-such-kind。");
	{
		static const char *const kinds[] = { "auth-ok", "auth-refused", "auth-block", "rcpt-full",
						     "send-limited", "dmarc-reject", "delivered",
						     "cert-issued", "cert-failed", "cert-dns-elsewhere",
						     "cert-imported", "tls-sni-unknown", "mta-sts-deferred",
						     "mta-sts-testing", "mta-sts-fetch-failed", "tlsrpt-sent",
						     "tlsrpt-failed" };

		strcpy(e.detail, "detail-x");
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			char en[1200];

			strcpy(e.kind, kinds[i]);
			ops_event_explain(&e, en, sizeof(en));
			ops_event_explain_ja(&e, buf, sizeof(buf));
			assert_string_not_equal(en, buf);
			/* each has its own text, not the catch-all "Event KIND ..." */
			assert_null(strstr(en, "Event "));
			/* what the English names, the Japanese names too */
			assert_true((strstr(en, "192.0.2.1") != NULL) == (strstr(buf, "192.0.2.1") != NULL));
			assert_true((strstr(en, "detail-x") != NULL) == (strstr(buf, "detail-x") != NULL));
			assert_true((strstr(en, "send-limit") != NULL) == (strstr(buf, "send-limit") != NULL));
		}
	}
	{
		struct dir_event fe = { .kind = "auth-foreign", .ip = "203.0.113.9",
					.detail = "smtp country=US domain=a.example home=JP" };

		ops_event_explain(&fe, buf, sizeof(buf));
		assert_non_null(strstr(buf, "AUTH from 203.0.113.9 (US) refused by the foreign-access restriction of"
					    " a.example (logins only from JP)"));
		ops_event_explain_ja(&fe, buf, sizeof(buf));
		assert_non_null(strstr(buf, "203.0.113.9 (US) からの SMTP AUTH は a.example の海外アクセス制限"));
	}
	/* a small buffer is cut, never overrun */
	e.detail[0] = '\0';
	strcpy(e.kind, "auth-failed");
	ops_event_explain(&e, buf, 16);
	assert_int_equal(strlen(buf), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events_scope_and_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocks_and_suspended_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_me_logins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dkim_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_keys_come_and_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_check_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doctor, setup, teardown),
		cmocka_unit_test(test_event_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
