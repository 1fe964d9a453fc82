/* Unit tests for src/directory/directory.c against a real SQLite file in a
 * temporary directory: domains, accounts, settings, events; on PostgreSQL
 * with YUBIN_TEST_PG (pg_fixture.h). */
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
#include "pg_fixture.h"

#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

struct fixture {
	char dir[64];
	char path[1024];
	struct directory *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/yubin-test-dir-XXXXXX");
	f->d = pg_fixture_directory(f->dir, f->path, sizeof(f->path));
	if (f->d == NULL)
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

static void domain_add_ok(struct directory *d, const char *name)
{
	const char *e = NULL;

	if (directory_domain_add(d, name, &e) != 0)
		fail_msg("domain add %s: %s", name, e);
}

static void account_add_ok(struct directory *d, const char *addr, unsigned quota, const char *memo)
{
	const char *e = NULL;

	if (directory_account_add(d, addr, HASH, quota, memo, &e) != 0)
		fail_msg("account add %s: %s", addr, e);
}

/* Collects list callbacks into one string, "a,b,c,". */
struct names {
	char text[4096];
	unsigned n;
};

static void collect_domain(const struct dir_domain *dom, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s:%u,", dom->name, dom->accounts);
	n->n++;
}

static void collect_account(const struct dir_account *a, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s,", a->address);
	n->n++;
}

static void collect_setting(const char *key, const char *value, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s=%s,", key, value);
	n->n++;
}

static void collect_event(const struct dir_event *ev, void *ctx)
{
	struct names *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s|%s|%s|%s,", ev->kind, ev->address,
		 ev->ip, ev->detail);
	n->n++;
}

static void test_open_errors_and_reopen(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", path[160];
	struct directory *again;
	struct dir_domain dom;

	assert_null(directory_open("/nonexistent-yubin-dir/x/yubin.db", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent-yubin-dir/x/yubin.db: unable to open database file");
	/* data survives close and reopen, and the schema is not made twice */
	domain_add_ok(f->d, "persist.test");
	again = directory_open(f->path, err, sizeof(err));
	assert_non_null(again);
	assert_int_equal(directory_domain_get(again, "persist.test", &dom), 1);
	directory_close(again);
	directory_close(NULL);
	/* WAL mode leaves its files beside the database */
	snprintf(path, sizeof(path), "%s-wal", f->path);
	if (!directory_is_pg(f->d))
		assert_int_equal(access(path, F_OK), 0);
}

static void test_domain_add_get(void **state)
{
	struct fixture *f = *state;
	struct dir_domain dom;
	const char *e = NULL;
	time_t now = time(NULL);

	domain_add_ok(f->d, "example.test");
	memset(&dom, 0, sizeof(dom));
	assert_int_equal(directory_domain_get(f->d, "example.test", &dom), 1);
	assert_string_equal(dom.name, "example.test");
	assert_true(dom.id > 0);
	assert_int_equal(dom.accounts, 0);
	assert_true(dom.created >= now - 5 && dom.created <= now + 5);
	assert_int_equal(directory_domain_get(f->d, "EXAMPLE.Test", &dom), 1);
	assert_int_equal(directory_domain_get(f->d, "other.test", &dom), 0);
	assert_int_equal(directory_domain_exists(f->d, "example.test"), 1);
	assert_int_equal(directory_domain_exists(f->d, "EXAMPLE.Test"), 1);
	assert_int_equal(directory_domain_exists(f->d, "other.test"), 0);
	assert_int_equal(directory_domain_exists(f->d, "x'); DROP TABLE domains; --.test"), 0);
	assert_int_equal(directory_domain_add(f->d, "example.test", &e), -1);
	assert_string_equal(e, "the domain already exists");
	assert_int_equal(directory_domain_add(f->d, "nodot", &e), -1);
	assert_string_equal(e, "the domain name needs at least two parts (example.jp)");
	assert_int_equal(directory_domain_add(f->d, "Upper.Test", &e), -1);
	assert_string_equal(e, "the domain name may only use a-z, 0-9, '-' and '.'");
	assert_int_equal(directory_domain_add(f->d, "x'); DROP TABLE domains; --.test", &e), -1);
	assert_int_equal(directory_domain_get(f->d, "example.test", &dom), 1);
}

static void test_domain_list(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };

	assert_int_equal(directory_domain_list(f->d, collect_domain, &n), 0);
	assert_int_equal(n.n, 0);
	domain_add_ok(f->d, "zeta.test");
	domain_add_ok(f->d, "alpha.test");
	domain_add_ok(f->d, "mid.test");
	account_add_ok(f->d, "a@mid.test", 10, NULL);
	account_add_ok(f->d, "b@mid.test", 10, NULL);
	account_add_ok(f->d, "a@zeta.test", 10, NULL);
	assert_int_equal(directory_domain_list(f->d, collect_domain, &n), 0);
	assert_string_equal(n.text, "alpha.test:0,mid.test:2,zeta.test:1,");
}

struct nested {
	struct directory *d;
	struct names outer, inner;
};

static void list_again(const struct dir_domain *dom, void *ctx)
{
	struct nested *nest = ctx;

	collect_domain(dom, &nest->outer);
	assert_int_equal(directory_domain_list(nest->d, collect_domain, &nest->inner), 0);
}

/* Statements are kept between calls: a listing whose callback runs the same
 * listing again still sees every row, and the kept statements give the same
 * answers on the next call. */
static void test_statement_reuse_nested(void **state)
{
	struct fixture *f = *state;
	struct nested nest = { f->d, { "", 0 }, { "", 0 } };
	struct names n = { "", 0 };

	domain_add_ok(f->d, "a.test");
	domain_add_ok(f->d, "b.test");
	domain_add_ok(f->d, "c.test");
	assert_int_equal(directory_domain_list(f->d, list_again, &nest), 0);
	assert_string_equal(nest.outer.text, "a.test:0,b.test:0,c.test:0,");
	assert_int_equal(nest.inner.n, 9);
	assert_int_equal(directory_domain_list(f->d, collect_domain, &n), 0);
	assert_string_equal(n.text, "a.test:0,b.test:0,c.test:0,");
}

/* A lookup that stopped at its first row ends its read: a change made
 * through another connection afterwards is seen by the next lookup. */
static void test_statement_reuse_sees_other_writer(void **state)
{
	struct fixture *f = *state;
	struct dir_domain dom;
	struct directory *other;
	char err[256] = "";

	domain_add_ok(f->d, "first.test");
	assert_int_equal(directory_domain_get(f->d, "first.test", &dom), 1);
	assert_int_equal(directory_domain_get(f->d, "later.test", &dom), 0);
	other = directory_open(f->path, err, sizeof(err));
	assert_non_null(other);
	domain_add_ok(other, "later.test");
	directory_close(other);
	assert_int_equal(directory_domain_get(f->d, "later.test", &dom), 1);
	assert_string_equal(dom.name, "later.test");
}

static void test_account_add_get(void **state)
{
	struct fixture *f = *state;
	struct dir_account a;
	const char *e = NULL;
	time_t now = time(NULL);

	domain_add_ok(f->d, "example.test");
	account_add_ok(f->d, "User.Name@Example.TEST", 100, "first account");
	memset(&a, 0, sizeof(a));
	assert_int_equal(directory_account_get(f->d, "user.name@example.test", &a), 1);
	assert_true(a.id > 0);
	assert_string_equal(a.address, "user.name@example.test");
	assert_string_equal(a.local, "user.name");
	assert_string_equal(a.domain, "example.test");
	{
		/* the hash only through the auth lookup */
		struct dir_account b;
		char hash[DIR_HASH_MAX];

		assert_int_equal(directory_account_get_auth(f->d, "USER.name@example.test", &b, hash,
							    sizeof(hash)), 1);
		assert_string_equal(hash, HASH);
		assert_string_equal(b.address, "user.name@example.test");
		assert_int_equal(b.quota_mb, 100);
		assert_true(b.enabled);
		assert_int_equal(directory_account_get_auth(f->d, "nobody@example.test", &b, hash,
							    sizeof(hash)), 0);
		assert_string_equal(hash, "");
	}
	assert_int_equal(a.quota_mb, 100);
	assert_string_equal(a.memo, "first account");
	assert_true(a.enabled);
	assert_true(a.created >= now - 5 && a.created <= now + 5);
	/* lookups ignore case */
	assert_int_equal(directory_account_get(f->d, "USER.NAME@EXAMPLE.TEST", &a), 1);
	assert_int_equal(directory_account_get(f->d, "user.name@other.test", &a), 0);
	assert_int_equal(directory_account_get(f->d, "", &a), 0);
	account_add_ok(f->d, "nomemo@example.test", DIR_QUOTA_DEFAULT_MB, NULL);
	assert_int_equal(directory_account_get(f->d, "nomemo@example.test", &a), 1);
	assert_string_equal(a.memo, "");
	assert_int_equal(a.quota_mb, 2000);
	/* the domain counts its accounts */
	{
		struct dir_domain dom;
		assert_int_equal(directory_domain_get(f->d, "example.test", &dom), 1);
		assert_int_equal(dom.accounts, 2);
	}

	assert_int_equal(directory_account_add(f->d, "user.name@example.test", HASH, 10, NULL, &e), -1);
	assert_string_equal(e, "the account already exists");
	assert_int_equal(directory_account_add(f->d, "USER.NAME@example.test", HASH, 10, NULL, &e), -1);
	assert_string_equal(e, "the account already exists");
	assert_int_equal(directory_account_add(f->d, "x@nodomain.test", HASH, 10, NULL, &e), -1);
	assert_string_equal(e, "the domain does not exist: add the domain first");
	assert_int_equal(directory_account_add(f->d, "x@example.test", HASH, 0, NULL, &e), -1);
	assert_string_equal(e, "the mailbox size must be 1 to 5000 MB");
	assert_int_equal(directory_account_add(f->d, "x@example.test", HASH, 5001, NULL, &e), -1);
	assert_string_equal(e, "the mailbox size must be 1 to 5000 MB");
	assert_int_equal(directory_account_add(f->d, "x+y@example.test", HASH, 10, NULL, &e), -1);
	assert_string_equal(e, "the user name may only use a-z, 0-9, '-', '_' and '.'");
	assert_int_equal(directory_account_add(f->d, "x", HASH, 10, NULL, &e), -1);
	assert_string_equal(e, "the address must be user@domain (the login name is the full address)");
	assert_int_equal(directory_account_get(f->d, "x@example.test", &a), 0);
}

static void test_account_memo_limit(void **state)
{
	struct fixture *f = *state;
	struct dir_account a;
	const char *e = NULL;
	char memo[600];

	domain_add_ok(f->d, "example.test");
	memset(memo, 'm', sizeof(memo));
	memo[511] = '\0';
	account_add_ok(f->d, "a@example.test", 10, memo);
	assert_int_equal(directory_account_get(f->d, "a@example.test", &a), 1);
	assert_string_equal(a.memo, memo);
	/* a memo that would not come back whole is refused, not cut */
	memo[511] = 'm';
	memo[512] = '\0';
	assert_int_equal(directory_account_add(f->d, "b@example.test", HASH, 10, memo, &e), -1);
	assert_string_equal(e, "the memo is too long (at most 511 bytes)");
	assert_int_equal(directory_account_get(f->d, "b@example.test", &a), 0);
	assert_int_equal(directory_account_set_memo(f->d, "a@example.test", memo, &e), -1);
	assert_string_equal(e, "the memo is too long (at most 511 bytes)");
	/* memo text is data, not SQL */
	assert_int_equal(directory_account_set_memo(f->d, "a@example.test", "it's \"quoted\"; --", &e), 0);
	assert_int_equal(directory_account_get(f->d, "a@example.test", &a), 1);
	assert_string_equal(a.memo, "it's \"quoted\"; --");
}

static void test_account_list(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };

	domain_add_ok(f->d, "one.test");
	domain_add_ok(f->d, "two.test");
	account_add_ok(f->d, "zed@one.test", 10, NULL);
	account_add_ok(f->d, "amy@two.test", 10, NULL);
	account_add_ok(f->d, "bob@one.test", 10, NULL);
	assert_int_equal(directory_account_list(f->d, NULL, collect_account, &n), 0);
	assert_string_equal(n.text, "amy@two.test,bob@one.test,zed@one.test,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_list(f->d, "ONE.test", collect_account, &n), 0);
	assert_string_equal(n.text, "bob@one.test,zed@one.test,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_list(f->d, "none.test", collect_account, &n), 0);
	assert_int_equal(n.n, 0);
}

static void test_account_page(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };
	size_t total;

	domain_add_ok(f->d, "one.test");
	domain_add_ok(f->d, "two.test");
	account_add_ok(f->d, "a1@one.test", 10, "Tanaka");
	account_add_ok(f->d, "a2@one.test", 10, "100% sure");
	account_add_ok(f->d, "a3@one.test", 10, "x_y");
	account_add_ok(f->d, "a4@one.test", 10, NULL);
	account_add_ok(f->d, "tanaka@two.test", 10, NULL);
	/* every account of the domain; a page of it; past the end */
	assert_int_equal(directory_account_page(f->d, "ONE.test", NULL, 0, 0, collect_account, &n, &total), 0);
	assert_string_equal(n.text, "a1@one.test,a2@one.test,a3@one.test,a4@one.test,");
	assert_int_equal(total, 4);
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", "", 1, 2, collect_account, &n, &total), 0);
	assert_string_equal(n.text, "a2@one.test,a3@one.test,");
	assert_int_equal(total, 4);
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", NULL, 9, 2, collect_account, &n, &total), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(total, 4);
	/* the search: address or memo, ASCII letters in any case, only this domain */
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", "TANAKA", 0, 0, collect_account, &n, &total), 0);
	assert_string_equal(n.text, "a1@one.test,");
	assert_int_equal(total, 1);
	/* LIKE's wildcards and its escape are taken literally */
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", "%", 0, 0, collect_account, &n, &total), 0);
	assert_string_equal(n.text, "a2@one.test,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", "_", 0, 0, collect_account, &n, &total), 0);
	assert_string_equal(n.text, "a3@one.test,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_account_page(f->d, "one.test", "\\", 0, 0, collect_account, &n, &total), 0);
	assert_int_equal(total, 0);
	/* an unknown domain has no accounts */
	assert_int_equal(directory_account_page(f->d, "none.test", NULL, 0, 0, collect_account, &n, &total), 0);
	assert_int_equal(total, 0);
}

static void test_account_changes(void **state)
{
	struct fixture *f = *state;
	struct dir_account a;
	const char *e = NULL;

	domain_add_ok(f->d, "example.test");
	account_add_ok(f->d, "u@example.test", 10, NULL);
	assert_int_equal(directory_account_set_password(f->d, "U@example.test", "$6$new$hash", &e), 0);
	assert_int_equal(directory_account_set_quota(f->d, "u@EXAMPLE.test", 5000, &e), 0);
	assert_int_equal(directory_account_set_enabled(f->d, "u@example.test", false, &e), 0);
	assert_int_equal(directory_account_set_memo(f->d, "u@example.test", "note", &e), 0);
	{
		char hash[DIR_HASH_MAX];

		assert_int_equal(directory_account_get_auth(f->d, "u@example.test", &a, hash, sizeof(hash)), 1);
		assert_string_equal(hash, "$6$new$hash");
	}
	assert_int_equal(a.quota_mb, 5000);
	assert_false(a.enabled);
	assert_string_equal(a.memo, "note");
	assert_int_equal(directory_account_set_enabled(f->d, "u@example.test", true, &e), 0);
	assert_int_equal(directory_account_get(f->d, "u@example.test", &a), 1);
	assert_true(a.enabled);

	assert_int_equal(directory_account_set_quota(f->d, "u@example.test", 5001, &e), -1);
	assert_string_equal(e, "the mailbox size must be 1 to 5000 MB");
	assert_int_equal(directory_account_set_quota(f->d, "u@example.test", 0, &e), -1);
	e = NULL;
	assert_int_equal(directory_account_set_password(f->d, "nobody@example.test", "x", &e), -1);
	assert_string_equal(e, "no such account");
	e = NULL;
	assert_int_equal(directory_account_set_quota(f->d, "nobody@example.test", 10, &e), -1);
	assert_string_equal(e, "no such account");
	e = NULL;
	assert_int_equal(directory_account_set_enabled(f->d, "nobody@example.test", true, &e), -1);
	assert_string_equal(e, "no such account");
	e = NULL;
	assert_int_equal(directory_account_set_memo(f->d, "nobody@example.test", "m", &e), -1);
	assert_string_equal(e, "no such account");
	assert_int_equal(directory_account_get(f->d, "u@example.test", &a), 1);
	assert_int_equal(a.quota_mb, 5000);
}

static void test_account_del(void **state)
{
	struct fixture *f = *state;
	struct dir_account a;
	struct dir_domain dom;
	const char *e = NULL;

	domain_add_ok(f->d, "example.test");
	account_add_ok(f->d, "u@example.test", 10, NULL);
	account_add_ok(f->d, "v@example.test", 10, NULL);
	assert_int_equal(directory_account_del(f->d, "U@Example.Test", &e), 0);
	assert_int_equal(directory_account_get(f->d, "u@example.test", &a), 0);
	assert_int_equal(directory_account_get(f->d, "v@example.test", &a), 1);
	assert_int_equal(directory_account_del(f->d, "u@example.test", &e), -1);
	assert_string_equal(e, "no such account");
	assert_int_equal(directory_domain_get(f->d, "example.test", &dom), 1);
	assert_int_equal(dom.accounts, 1);
	/* the address can be used again */
	account_add_ok(f->d, "u@example.test", 10, NULL);
}

static void test_domain_del(void **state)
{
	struct fixture *f = *state;
	struct dir_domain dom;
	struct dir_account a;
	const char *e = NULL;

	domain_add_ok(f->d, "empty.test");
	domain_add_ok(f->d, "full.test");
	domain_add_ok(f->d, "keep.test");
	account_add_ok(f->d, "a@full.test", 10, NULL);
	account_add_ok(f->d, "b@full.test", 10, NULL);
	account_add_ok(f->d, "k@keep.test", 10, NULL);

	assert_int_equal(directory_domain_del(f->d, "empty.test", false, &e), 0);
	assert_int_equal(directory_domain_get(f->d, "empty.test", &dom), 0);
	assert_int_equal(directory_domain_del(f->d, "empty.test", false, &e), -1);
	assert_string_equal(e, "no such domain");

	/* accounts left: refused without force, nothing removed */
	assert_int_equal(directory_domain_del(f->d, "full.test", false, &e), -1);
	assert_string_equal(e, "the domain still has accounts (use --force to delete them too)");
	assert_int_equal(directory_domain_get(f->d, "full.test", &dom), 1);
	assert_int_equal(directory_account_get(f->d, "a@full.test", &a), 1);

	/* with force the accounts go too, and only those */
	assert_int_equal(directory_domain_del(f->d, "full.test", true, &e), 0);
	assert_int_equal(directory_domain_get(f->d, "full.test", &dom), 0);
	assert_int_equal(directory_account_get(f->d, "a@full.test", &a), 0);
	assert_int_equal(directory_account_get(f->d, "b@full.test", &a), 0);
	assert_int_equal(directory_account_get(f->d, "k@keep.test", &a), 1);
	/* re-adding the domain does not bring old accounts back */
	domain_add_ok(f->d, "full.test");
	assert_int_equal(directory_account_get(f->d, "a@full.test", &a), 0);
	assert_int_equal(directory_domain_get(f->d, "full.test", &dom), 1);
	assert_int_equal(dom.accounts, 0);
}

static void test_domain_del_case(void **state)
{
	struct fixture *f = *state;
	struct dir_domain dom;
	const char *e = NULL;

	/* get matches any case, so del must delete what get found */
	domain_add_ok(f->d, "case.test");
	assert_int_equal(directory_domain_del(f->d, "CASE.Test", false, &e), 0);
	assert_int_equal(directory_domain_get(f->d, "case.test", &dom), 0);
}

static void test_settings(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };
	char value[64];
	const char *e = NULL;

	assert_int_equal(directory_setting_get(f->d, "domain", "example.test", "foreign-auth", value,
					       sizeof(value)), 0);
	assert_int_equal(directory_setting_set(f->d, "domain", "Example.Test", "foreign-auth", "on", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "domain", "example.test", "spam.level", "3", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "account", "u@example.test", "spam.level", "5", &e), 0);
	memset(value, '#', sizeof(value));
	assert_int_equal(directory_setting_get(f->d, "domain", "EXAMPLE.test", "foreign-auth", value,
					       sizeof(value)), 1);
	assert_string_equal(value, "on");
	/* overwrite keeps one row */
	assert_int_equal(directory_setting_set(f->d, "domain", "example.test", "foreign-auth", "off", &e), 0);
	assert_int_equal(directory_setting_get(f->d, "domain", "example.test", "foreign-auth", value,
					       sizeof(value)), 1);
	assert_string_equal(value, "off");
	/* keys are exact, scopes are separate */
	assert_int_equal(directory_setting_get(f->d, "domain", "example.test", "Foreign-Auth", value,
					       sizeof(value)), 0);
	assert_int_equal(directory_setting_get(f->d, "account", "example.test", "foreign-auth", value,
					       sizeof(value)), 0);
	assert_int_equal(directory_setting_list(f->d, "domain", "example.test", collect_setting, &n), 0);
	assert_string_equal(n.text, "foreign-auth=off,spam.level=3,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_setting_list(f->d, "account", "U@example.test", collect_setting, &n), 0);
	assert_string_equal(n.text, "spam.level=5,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_setting_list(f->d, "domain", "none.test", collect_setting, &n), 0);
	assert_int_equal(n.n, 0);
	/* an empty value is a value */
	assert_int_equal(directory_setting_set(f->d, "domain", "example.test", "blank", "", &e), 0);
	strcpy(value, "x");
	assert_int_equal(directory_setting_get(f->d, "domain", "example.test", "blank", value,
					       sizeof(value)), 1);
	assert_string_equal(value, "");
}

/* A batch reads each account's or domain's settings once: later keys come
 * from that reading (a change through another handle shows after the
 * batch), a change through the same handle shows at once, names match
 * in any case, unset keys are 0, and more names than the memo holds are
 * read on their own. */
static void test_settings_batch(void **state)
{
	struct fixture *f = *state;
	struct directory *other;
	char value[64], err[256], name[64];
	const char *e = NULL;

	assert_non_null(other = directory_open(f->path, err, sizeof(err)));
	assert_int_equal(directory_setting_set(f->d, "account", "u@example.test", "a", "1", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "account", "u@example.test", "b", "2", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "domain", "example.test", "a", "d1", &e), 0);
	directory_settings_batch_begin(f->d);
	directory_settings_batch_begin(f->d);	/* nested */
	assert_int_equal(directory_setting_get(f->d, "account", "U@Example.Test", "a", value, sizeof(value)), 1);
	assert_string_equal(value, "1");
	assert_int_equal(directory_setting_set(other, "account", "u@example.test", "b", "22", &e), 0);
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "b", value, sizeof(value)), 1);
	assert_string_equal(value, "2");	/* as read with "a" */
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "c", value, sizeof(value)), 0);
	assert_int_equal(directory_setting_get(f->d, "domain", "example.test", "a", value, sizeof(value)), 1);
	assert_string_equal(value, "d1");
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d@example.test", i);
		assert_int_equal(directory_setting_set(other, "account", name, "a", name, &e), 0);
		assert_int_equal(directory_setting_get(f->d, "account", name, "a", value, sizeof(value)), 1);
		assert_string_equal(value, name);
	}
	directory_settings_batch_end(f->d);
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "b", value, sizeof(value)), 1);
	assert_string_equal(value, "2");	/* still in the outer batch */
	/* a change through the batch's own handle shows at once */
	assert_int_equal(directory_setting_set(f->d, "account", "u@example.test", "a", "11", &e), 0);
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "a", value, sizeof(value)), 1);
	assert_string_equal(value, "11");
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "b", value, sizeof(value)), 1);
	assert_string_equal(value, "22");
	directory_settings_batch_end(f->d);
	directory_settings_batch_end(f->d);	/* one too many: ignored */
	assert_int_equal(directory_setting_set(other, "account", "u@example.test", "b", "222", &e), 0);
	assert_int_equal(directory_setting_get(f->d, "account", "u@example.test", "b", value, sizeof(value)), 1);
	assert_string_equal(value, "222");	/* no batch: read as it is */
	directory_close(other);
}

static void test_settings_clear(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };
	char value[64];
	const char *e = NULL;

	assert_int_equal(directory_setting_set(f->d, "domain", "gone.test", "a", "1", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "domain", "gone.test", "b", "2", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "domain", "kept.test", "a", "3", &e), 0);
	assert_int_equal(directory_setting_set(f->d, "account", "gone.test", "a", "4", &e), 0);
	assert_int_equal(directory_setting_clear(f->d, "domain", "GONE.test", &e), 0);
	assert_int_equal(directory_setting_list(f->d, "domain", "gone.test", collect_setting, &n), 0);
	assert_int_equal(n.n, 0);
	/* other names and other scopes are left */
	assert_int_equal(directory_setting_get(f->d, "domain", "kept.test", "a", value, sizeof(value)), 1);
	assert_string_equal(value, "3");
	assert_int_equal(directory_setting_get(f->d, "account", "gone.test", "a", value, sizeof(value)), 1);
	assert_string_equal(value, "4");
	/* clearing nothing is not an error */
	assert_int_equal(directory_setting_clear(f->d, "domain", "none.test", &e), 0);
}

struct spam_rows {
	char text[256];
	unsigned n;
};

static void collect_spam(const char *kind, const char *pattern, int64_t created, void *ctx)
{
	struct spam_rows *r = ctx;
	size_t len = strlen(r->text);

	assert_true(created > 0);
	snprintf(r->text + len, sizeof(r->text) - len, "%s%s %s", len > 0 ? "," : "", kind, pattern);
	r->n++;
}

static void test_spam_lists(void **state)
{
	struct fixture *f = *state;
	struct spam_rows r = { "", 0 };
	const char *e = NULL;

	assert_int_equal(directory_spamlist_add(f->d, "domain", "Ex.test", "block", "*", &e), 0);
	assert_int_equal(directory_spamlist_add(f->d, "domain", "ex.test", "allow", "*@Friend.test", &e), 0);
	assert_int_equal(directory_spamlist_add(f->d, "domain", "ex.test", "allow", "*@friend.test", &e), -1);
	assert_string_equal(e, "already exists");
	assert_int_equal(directory_spamlist_add(f->d, "account", "a@ex.test", "allow", "*", &e), 0);
	assert_int_equal(directory_spamlist_list(f->d, "domain", "EX.test", NULL, collect_spam, &r), 0);
	assert_string_equal(r.text, "allow *@friend.test,block *");
	memset(&r, 0, sizeof(r));
	assert_int_equal(directory_spamlist_list(f->d, "domain", "ex.test", "block", collect_spam, &r), 0);
	assert_string_equal(r.text, "block *");
	assert_int_equal(directory_spamlist_del(f->d, "domain", "ex.test", "block", "*", &e), 1);
	assert_int_equal(directory_spamlist_del(f->d, "domain", "ex.test", "block", "*", &e), 0);
	/* a deleted domain's lists go with its settings; the account's stay */
	assert_int_equal(directory_setting_clear(f->d, "domain", "ex.test", &e), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(directory_spamlist_list(f->d, "domain", "ex.test", NULL, collect_spam, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(directory_spamlist_list(f->d, "account", "a@ex.test", NULL, collect_spam, &r), 0);
	assert_int_equal(r.n, 1);
}

static void test_account_clear_login_state(void **state)
{
	struct fixture *f = *state;
	struct dir_auth_block b, got;
	int64_t last = 0;
	const char *e = NULL;

	memset(&b, 0, sizeof(b));
	strcpy(b.key, "gone@example.test");
	strcpy(b.kind, "account");
	b.since = 100;
	b.until = 200;
	assert_int_equal(directory_auth_block_set(f->d, &b, &e), 0);
	strcpy(b.key, "192.0.2.9");
	strcpy(b.kind, "ip");
	assert_int_equal(directory_auth_block_set(f->d, &b, &e), 0);
	assert_int_equal(directory_auth_known_touch(f->d, "gone@example.test", "192.0.2.0/24", 150), 0);
	assert_int_equal(directory_auth_known_touch(f->d, "kept@example.test", "192.0.2.0/24", 150), 0);
	/* a deleted account leaves no login block or known networks behind */
	assert_int_equal(directory_setting_clear(f->d, "account", "Gone@example.test", &e), 0);
	assert_int_equal(directory_auth_block_get(f->d, "gone@example.test", &got), 0);
	assert_int_equal(directory_auth_known_get(f->d, "gone@example.test", "192.0.2.0/24", &last), 0);
	/* blocks of addresses and other accounts stay */
	assert_int_equal(directory_auth_block_get(f->d, "192.0.2.9", &got), 1);
	assert_int_equal(directory_auth_known_get(f->d, "kept@example.test", "192.0.2.0/24", &last), 1);
	assert_int_equal(last, 150);
}

static void test_events(void **state)
{
	struct fixture *f = *state;
	struct names n = { "", 0 };

	assert_int_equal(directory_event_list(f->d, NULL, 10, collect_event, &n), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(directory_event_add(f->d, "auth-fail", "U@Example.Test", "192.0.2.1",
					     "bad password"), 0);
	assert_int_equal(directory_event_add(f->d, "delivered", "u@example.test", NULL, NULL), 0);
	assert_int_equal(directory_event_add(f->d, "rejected", "v@example.test", "2001:db8::1",
					     "over quota"), 0);
	assert_int_equal(directory_event_add(f->d, "startup", NULL, NULL, NULL), 0);
	/* newest first */
	assert_int_equal(directory_event_list(f->d, NULL, 10, collect_event, &n), 0);
	assert_string_equal(n.text, "startup|||,rejected|v@example.test|2001:db8::1|over quota,"
				    "delivered|u@example.test||,auth-fail|u@example.test|192.0.2.1|bad password,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_event_list(f->d, NULL, 2, collect_event, &n), 0);
	assert_string_equal(n.text, "startup|||,rejected|v@example.test|2001:db8::1|over quota,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_event_list(f->d, "U@EXAMPLE.TEST", 10, collect_event, &n), 0);
	assert_string_equal(n.text, "delivered|u@example.test||,auth-fail|u@example.test|192.0.2.1|bad password,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_event_list(f->d, "u@example.test", 1, collect_event, &n), 0);
	assert_string_equal(n.text, "delivered|u@example.test||,");
	memset(&n, 0, sizeof(n));
	assert_int_equal(directory_event_list(f->d, NULL, 0, collect_event, &n), 0);
	assert_int_equal(n.n, 0);
}

static void check_event_time(const struct dir_event *ev, void *ctx)
{
	time_t now = time(NULL);

	assert_true(ev->ts >= now - 5 && ev->ts <= now + 5);
	assert_true(ev->id > 0);
	(*(int *)ctx)++;
}

static void test_event_fields(void **state)
{
	struct fixture *f = *state;
	int n = 0;
	char detail[600];

	/* an overlong detail is stored; the listing gives what fits or nothing */
	memset(detail, 'd', sizeof(detail));
	detail[sizeof(detail) - 1] = '\0';
	assert_int_equal(directory_event_add(f->d, "k", "a@b.test", "ip", detail), 0);
	assert_int_equal(directory_event_list(f->d, NULL, 5, check_event_time, &n), 0);
	assert_int_equal(n, 1);
}

static void count_event_cb(const struct dir_event *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
}

static void count_audit_cb(const struct dir_audit *a, void *ctx)
{
	(void)a;
	(*(int *)ctx)++;
}

static int count_events(struct directory *d)
{
	int n = 0;

	assert_int_equal(directory_event_list(d, NULL, 1000, count_event_cb, &n), 0);
	return n;
}

static int count_audit(struct directory *d)
{
	int n = 0;

	assert_int_equal(directory_audit_list(d, NULL, 1000, count_audit_cb, &n), 0);
	return n;
}

/* Pruning: only rows older than the cut-off, at most a batch per
 * statement, the oldest first; the login state by its own times. */
static void test_prune(void **state)
{
	struct fixture *f = *state;
	int64_t now = time(NULL);
	struct dir_audit a;
	struct dir_auth_counter c;
	struct dir_auth_block b;
	const char *error;

	/* doctor's marker of since when a domain's MX points here stays */
	assert_int_equal(directory_event_add(f->d, "dns-mx-here", "example.test", "", "the MX points here"), 0);
	for (int i = 0; i < 25; i++)
		assert_int_equal(directory_event_add(f->d, "auth-ok", "u@example.test", "192.0.2.1", "x"), 0);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_EVENTS, now - 100, 10, 100), 0);
	assert_int_equal(count_events(f->d), 26);
	assert_int_equal(directory_prune_batch(f->d, DIR_PRUNE_EVENTS, now + 100, 10), 10);
	assert_int_equal(count_events(f->d), 16);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_EVENTS, now + 100, 10, 1), 10);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_EVENTS, now + 100, 10, 100), 5);
	assert_int_equal(count_events(f->d), 1);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_EVENTS, now + 100, 10, 100), 0);

	/* audit rows 400, 300, 200 and 1 day old: a year's retention keeps two */
	memset(&a, 0, sizeof(a));
	strcpy(a.actor, "cli:root");
	strcpy(a.op, "account.add");
	for (int days = 400; days > 0; days -= days == 200 ? 199 : 100) {
		a.ts = now - days * 86400LL;
		assert_int_equal(directory_audit_add(f->d, &a), 0);
	}
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_AUDIT, now - 365 * 86400LL, 1, 100), 1);
	assert_int_equal(count_audit(f->d), 3);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_AUDIT, now - 250 * 86400LL, 500, 100), 1);
	assert_int_equal(count_audit(f->d), 2);

	memset(&c, 0, sizeof(c));
	c.bucket = 1;
	c.cur = 3;
	c.last = now - 3 * 86400;
	assert_int_equal(directory_auth_counter_set(f->d, "192.0.2.7", &c), 0);
	c.last = now;
	assert_int_equal(directory_auth_counter_set(f->d, "192.0.2.8", &c), 0);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_AUTH_COUNTERS, now - 2 * 86400, 100, 10), 1);
	assert_int_equal(directory_auth_counter_get(f->d, "192.0.2.7", &c), 0);
	assert_int_equal(directory_auth_counter_get(f->d, "192.0.2.8", &c), 1);

	assert_int_equal(directory_auth_known_touch(f->d, "u@example.test", "192.0.2.0", now - 100 * 86400 + 1), 0);
	assert_int_equal(directory_auth_known_touch(f->d, "u@example.test", "198.51.100.0", now), 0);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_AUTH_KNOWN, now - 90 * 86400, 100, 10), 1);

	memset(&b, 0, sizeof(b));
	strcpy(b.key, "192.0.2.9");
	strcpy(b.kind, "ip");
	b.since = now - 40 * 86400;
	b.until = now - 31 * 86400;
	assert_int_equal(directory_auth_block_set(f->d, &b, &error), 0);
	strcpy(b.key, "192.0.2.10");
	b.until = now + 600;
	assert_int_equal(directory_auth_block_set(f->d, &b, &error), 0);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_AUTH_BLOCKS, now - 30 * 86400, 100, 10), 1);
	assert_int_equal(directory_auth_block_get(f->d, "192.0.2.9", &b), 0);
	assert_int_equal(directory_auth_block_get(f->d, "192.0.2.10", &b), 1);

	/* inside a transaction: refused (each batch commits on its own) */
	assert_int_equal(directory_begin(f->d), 0);
	assert_int_equal(directory_prune_batch(f->d, DIR_PRUNE_EVENTS, now, 10), -1);
	directory_rollback(f->d);
}

/* The shared compromise signals: summed per kind from a minute on,
 * deleted with the account's state, pruned by age. */
static void test_abuse_counts(void **state)
{
	struct fixture *f = *state;
	int64_t m = time(NULL) / 60;
	const char *error;
	uint64_t sum;

	assert_int_equal(directory_abuse_count_sum(f->d, "a@example.test", "bounce", 0, &sum), 0);
	assert_int_equal(sum, 0);
	assert_int_equal(directory_abuse_count_add(f->d, "A@example.test", "bounce", m, 2), 0);
	assert_int_equal(directory_abuse_count_add(f->d, "a@example.test", "bounce", m, 1), 0);
	assert_int_equal(directory_abuse_count_add(f->d, "a@example.test", "bounce", m - 3000, 5), 0);
	assert_int_equal(directory_abuse_count_add(f->d, "a@example.test", "new-rcpt", m, 7), 0);
	assert_int_equal(directory_abuse_count_add(f->d, "b@example.test", "bounce", m, 11), 0);
	assert_int_equal(directory_abuse_count_sum(f->d, "a@example.test", "bounce", m - 1440, &sum), 0);
	assert_int_equal(sum, 3);
	assert_int_equal(directory_abuse_count_sum(f->d, "a@EXAMPLE.test", "bounce", 0, &sum), 0);
	assert_int_equal(sum, 8);
	assert_int_equal(directory_abuse_count_sum(f->d, "a@example.test", "new-rcpt", m, &sum), 0);
	assert_int_equal(sum, 7);
	assert_int_equal(directory_prune(f->d, DIR_PRUNE_ABUSE_COUNTS, (m - 2880) * 60, 100, 10), 1);
	assert_int_equal(directory_abuse_count_sum(f->d, "a@example.test", "bounce", 0, &sum), 0);
	assert_int_equal(sum, 3);
	assert_int_equal(directory_setting_clear(f->d, "account", "a@example.test", &error), 0);
	assert_int_equal(directory_abuse_count_sum(f->d, "a@example.test", "new-rcpt", 0, &sum), 0);
	assert_int_equal(sum, 0);
	assert_int_equal(directory_abuse_count_sum(f->d, "b@example.test", "bounce", 0, &sum), 0);
	assert_int_equal(sum, 11);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_errors_and_reopen),
		T(test_domain_add_get),
		T(test_domain_list),
		T(test_statement_reuse_nested),
		T(test_statement_reuse_sees_other_writer),
		T(test_account_add_get),
		T(test_account_memo_limit),
		T(test_account_list),
	T(test_account_page),
		T(test_account_changes),
		T(test_account_del),
		T(test_domain_del),
		T(test_domain_del_case),
		T(test_settings),
		T(test_settings_batch),
		T(test_settings_clear),
		T(test_spam_lists),
		T(test_account_clear_login_state),
		T(test_events),
		T(test_prune),
		T(test_abuse_counts),
		T(test_event_fields),
	};

	return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
