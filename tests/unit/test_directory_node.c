/* Unit tests for src/directory/node.c (mail nodes, accounts' home nodes,
 * account moves) and migrations 11 and 13; on PostgreSQL too with YUBIN_TEST_PG (pg_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "directory/directory.h"
#include "lib/fsutil.h"
#include "pg_fixture.h"

#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

struct fixture {
	char dir[64];
	char path[512];
	struct directory *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *e;

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/yubin-test-node-XXXXXX");
	f->d = pg_fixture_directory(f->dir, f->path, sizeof(f->path));
	if (f->d == NULL)
		return -1;
	if (directory_domain_add(f->d, "a.test", &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	directory_close(f->d);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static void node_add_ok(struct directory *d, const char *name, const char *imap, uint64_t cap_mb)
{
	struct dir_node n;
	const char *e = NULL;

	memset(&n, 0, sizeof(n));
	strcpy(n.name, name);
	strcpy(n.imap, imap);
	n.capacity_mb = cap_mb;
	if (directory_node_add(d, &n, &e) != 0)
		fail_msg("node add %s: %s", name, e);
}

static void test_node_add_checks(void **state)
{
	struct fixture *f = *state;
	struct dir_node n;
	const char *e = NULL;
	static const char *const bad_addr[] = { "host", ":143", "h:0", "h:65536", "h:14x", "a b:1", "h:", NULL };

	node_add_ok(f->d, "n1", "10.0.0.1:143", 100);
	memset(&n, 0, sizeof(n));
	strcpy(n.name, "n1");
	assert_int_equal(directory_node_add(f->d, &n, &e), -1);
	assert_string_equal(e, "the node already exists");
	for (size_t i = 0; bad_addr[i] != NULL; i++) {
		strcpy(n.name, "n2");
		strcpy(n.imap, bad_addr[i]);
		assert_int_equal(directory_node_add(f->d, &n, &e), -1);
	}
	strcpy(n.imap, "[2001:db8::1]:143");
	strcpy(n.name, "bad/name");
	assert_int_equal(directory_node_add(f->d, &n, &e), -1);
	strcpy(n.name, "");
	assert_int_equal(directory_node_add(f->d, &n, &e), -1);
	strcpy(n.name, "n2");
	assert_int_equal(directory_node_add(f->d, &n, &e), 0);
	assert_int_equal(directory_node_get(f->d, "n2", &n), 1);
	assert_string_equal(n.imap, "[2001:db8::1]:143");
	assert_string_equal(n.state, "active");
	assert_int_equal(directory_node_get(f->d, "n3", &n), 0);
}

static void test_node_placement(void **state)
{
	struct fixture *f = *state;
	char name[64];
	const char *e;

	/* no nodes: the single-node mode */
	assert_int_equal(directory_node_pick(f->d, name, sizeof(name)), 0);
	node_add_ok(f->d, "small", "10.0.0.1:143", 3000);
	node_add_ok(f->d, "big", "10.0.0.2:143", 5000);
	assert_int_equal(directory_node_pick(f->d, name, sizeof(name)), 1);
	assert_string_equal(name, "big");
	/* 2000 MB of quota on big leaves it 3000 free: a tie goes by name */
	assert_int_equal(directory_account_add(f->d, "u1@a.test", HASH, 2000, "", &e), 0);
	assert_int_equal(directory_account_set_node(f->d, "u1@a.test", "big", &e), 1);
	assert_int_equal(directory_node_pick(f->d, name, sizeof(name)), 1);
	assert_string_equal(name, "big");
	assert_int_equal(directory_account_add(f->d, "u2@a.test", HASH, 1, "", &e), 0);
	assert_int_equal(directory_account_set_node(f->d, "u2@a.test", "big", &e), 1);
	assert_int_equal(directory_node_pick(f->d, name, sizeof(name)), 1);
	assert_string_equal(name, "small");
	/* draining nodes take no new accounts */
	assert_int_equal(directory_node_set_state(f->d, "small", "draining", &e), 1);
	assert_int_equal(directory_node_pick(f->d, name, sizeof(name)), 1);
	assert_string_equal(name, "big");
	assert_int_equal(directory_node_set_state(f->d, "small", "gone", &e), -1);
	assert_int_equal(directory_node_set_state(f->d, "nope", "active", &e), 0);
}

static void test_account_node(void **state)
{
	struct fixture *f = *state;
	struct dir_node n;
	char node[64];
	const char *e;

	node_add_ok(f->d, "n1", "10.0.0.1:143", 1000);
	assert_int_equal(directory_account_add(f->d, "u@a.test", HASH, 100, "", &e), 0);
	assert_int_equal(directory_account_node(f->d, "U@A.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
	assert_int_equal(directory_account_set_node(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_node(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n1");
	assert_int_equal(directory_node_get(f->d, "n1", &n), 1);
	assert_int_equal(n.accounts, 1);
	assert_int_equal(n.free_mb, 900);
	/* a node with accounts stays */
	assert_int_equal(directory_node_del(f->d, "n1", &e), -1);
	assert_int_equal(directory_account_set_node(f->d, "u@a.test", NULL, &e), 1);
	assert_int_equal(directory_node_del(f->d, "n1", &e), 1);
	assert_int_equal(directory_node_del(f->d, "n1", &e), 0);
	assert_int_equal(directory_account_node(f->d, "x@a.test", node, sizeof(node)), 0);
	assert_int_equal(directory_account_set_node(f->d, "x@a.test", "n1", &e), 0);
}

struct deletions {
	char text[1024];
	int64_t requested[8];
	unsigned n;
};

static void collect_deletion(const struct dir_mailbox_deletion *d, void *ctx)
{
	struct deletions *l = ctx;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s@%s,", d->address, d->node);
	if (l->n < 8)
		l->requested[l->n] = d->requested;
	l->n++;
}

static void deletions_of(struct directory *d, const char *node, unsigned limit, struct deletions *l)
{
	int n;

	memset(l, 0, sizeof(*l));
	n = directory_mailbox_deletion_list(d, node, limit, collect_deletion, l);
	assert_int_equal(n, (int)l->n);
}

/* v15: a node's pending mailbox deletions: added by address (any case)
 * or for a domain's accounts with a home node, listed per node, removed
 * once handled unless asked again since. */
static void test_mailbox_deletions(void **state)
{
	struct fixture *f = *state;
	struct deletions l;
	const char *e;

	assert_int_equal(directory_mailbox_deletion_add(f->d, "U@A.test", "n2", &e), 0);
	assert_int_equal(directory_mailbox_deletion_add(f->d, "v@a.test", "n3", &e), 0);
	assert_int_equal(directory_mailbox_deletion_add(f->d, "u@a.test", "", &e), -1);
	/* asked again: one row */
	assert_int_equal(directory_mailbox_deletion_add(f->d, "u@a.test", "n2", &e), 0);
	deletions_of(f->d, "n2", 10, &l);
	assert_string_equal(l.text, "u@a.test@n2,");
	assert_true(l.requested[0] > 0);
	deletions_of(f->d, "n1", 10, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(directory_mailbox_deletion_pending(f->d, "U@a.test", "n2"), 1);
	assert_int_equal(directory_mailbox_deletion_pending(f->d, "u@a.test", "n3"), 0);

	/* a domain's accounts with a home node, before the domain goes */
	node_add_ok(f->d, "n2", "10.0.0.2:143", 0);
	node_add_ok(f->d, "n3", "10.0.0.3:143", 0);
	assert_int_equal(directory_domain_add(f->d, "b.test", &e), 0);
	for (int i = 0; i < 3; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "w%d@b.test", i);
		assert_int_equal(directory_account_add(f->d, addr, HASH, 100, "", &e), 0);
		if (i > 0)	/* w0 is on this machine (no home node) */
			assert_int_equal(directory_account_set_node(f->d, addr, i == 1 ? "n2" : "n3", &e), 1);
	}
	assert_int_equal(directory_account_add(f->d, "x@a.test", HASH, 100, "", &e), 0);
	assert_int_equal(directory_account_set_node(f->d, "x@a.test", "n2", &e), 1);
	assert_int_equal(directory_mailbox_deletion_add_domain(f->d, "B.test", &e), 2);
	assert_int_equal(directory_domain_del(f->d, "b.test", true, &e), 0);
	deletions_of(f->d, "n2", 10, &l);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.text, "u@a.test@n2,"));
	assert_non_null(strstr(l.text, "w1@b.test@n2,"));
	assert_null(strstr(l.text, "x@a.test"));
	deletions_of(f->d, "n3", 10, &l);
	assert_string_equal(l.text, "v@a.test@n3,w2@b.test@n3,");
	deletions_of(f->d, "n3", 1, &l);
	assert_int_equal(l.n, 1);

	/* handled: gone, only for its node; a request made after the one
	 * handled stays */
	assert_int_equal(directory_mailbox_deletion_done(f->d, "v@a.test", "n2", l.requested[0]), 0);
	assert_int_equal(directory_mailbox_deletion_done(f->d, "v@a.test", "n3", l.requested[0] - 1), 0);
	assert_int_equal(directory_mailbox_deletion_done(f->d, "V@a.test", "n3", l.requested[0]), 1);
	assert_int_equal(directory_mailbox_deletion_done(f->d, "v@a.test", "n3", l.requested[0]), 0);
	deletions_of(f->d, "n3", 10, &l);
	assert_string_equal(l.text, "w2@b.test@n3,");
	/* a node removed: what waited for it goes with it */
	assert_int_equal(directory_node_del(f->d, "n3", &e), 1);
	deletions_of(f->d, "n3", 10, &l);
	assert_int_equal(l.n, 0);
	deletions_of(f->d, "n2", 10, &l);
	assert_int_equal(l.n, 2);
}

static int sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A database of version 10 (the PostgreSQL directory's, before mail
 * nodes) gets the nodes table and the home node column; SQLite only (the
 * file is changed behind the directory's back). */
static void test_migration_11(void **state)
{
	struct fixture *f = *state;
	char err[256], node[64];
	const char *e;

	if (getenv("YUBIN_TEST_PG") != NULL && getenv("YUBIN_TEST_PG")[0] != '\0')
		skip();
	assert_int_equal(directory_account_add(f->d, "u@a.test", HASH, 100, "", &e), 0);
	directory_close(f->d);
	f->d = NULL;
	sql_exec(f->path, "DROP TABLE nodes; DROP INDEX accounts_node;"
		 " ALTER TABLE accounts DROP COLUMN node; ALTER TABLE accounts DROP COLUMN moving;"
		 " PRAGMA user_version = 10");
	f->d = directory_open(f->path, err, sizeof(err));
	assert_non_null(f->d);
	assert_true(sql_int(f->path, "PRAGMA user_version") >= 11);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'"), 0);
	node_add_ok(f->d, "n1", "10.0.0.1:143", 10);
	assert_int_equal(directory_account_set_node(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_node(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n1");
}

/* The account-move bits (migration 13: accounts.moving, the switch). */
static void test_move_mark_and_switch(void **state)
{
	struct fixture *f = *state;
	char node[64];
	const char *e = NULL;

	assert_int_equal(directory_account_add(f->d, "u@a.test", HASH, 100, "", &e), 0);
	assert_int_equal(directory_account_set_node(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
	assert_int_equal(directory_account_moving(f->d, "none@a.test", node, sizeof(node)), 0);
	/* one move at a time: the same target again is fine, another is not */
	assert_int_equal(directory_account_set_moving(f->d, "U@a.test", "n2", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n2", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n3", &e), 0);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n2");
	/* the switch needs the home and the mark it expects */
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n3", "n2", &e), 0);
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n1", "n3", &e), 0);
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n1", "n2", &e), 1);
	assert_int_equal(directory_account_node(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n2");
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
	/* a mark given up */
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", NULL, &e), 1);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mailbox_deletions),
		T(test_node_add_checks),
		T(test_node_placement),
		T(test_account_node),
		T(test_migration_11),
		T(test_move_mark_and_switch),
	};

	return cmocka_run_group_tests_name("directory_node", tests, NULL, NULL);
}
