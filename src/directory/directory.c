/* The directory's queries, written once for both backends (SQLite's
 * placeholders and the SQL both dialects share) over the thin SQL layer
 * of dir_sql.h. The backend is chosen by where directory_open points. */
#include "directory/directory.h"
#include "directory/dir_cache.h"
#include "directory/dir_sql.h"
#include "directory/validate.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *dir_sql_begin(enum dir_dialect d)
{
	return d == DIR_POSTGRESQL ? "BEGIN" : "BEGIN IMMEDIATE";
}

struct directory *directory_open_raw(const char *where, char *err, size_t errsize)
{
	struct directory *dir = calloc(1, sizeof(*dir));

	if (dir == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	dir->be = dir_dialect_is_pg(where) ? &dir_pg_backend : &dir_sqlite_backend;
	dir->db = dir->be->dialect == DIR_POSTGRESQL ? dir_pg_open(where, err, errsize)
						     : dir_sqlite_open(where, err, errsize);
	if (dir->db == NULL) {
		free(dir);
		return NULL;
	}
	return dir;
}

struct directory *directory_open(const char *where, char *err, size_t errsize)
{
	struct directory *dir = directory_open_raw(where, err, errsize);
	char why[256];

	if (dir == NULL)
		return NULL;
	if (dir_schema_migrate(dir->be, dir->db, why, sizeof(why)) < 0) {
		snprintf(err, errsize, "%s: %s", dir->be->dialect == DIR_POSTGRESQL ? "PostgreSQL" : where, why);
		directory_close(dir);
		return NULL;
	}
	return dir;
}

int directory_migrate(struct directory *dir, char *err, size_t errsize)
{
	return dir_schema_migrate(dir->be, dir->db, err, errsize);
}

int directory_schema_version(struct directory *dir, int *version_r, int *latest_r)
{
	*latest_r = dir_schema_latest();
	return dir->be->version_get(dir->db, version_r);
}

int directory_cache_start(const char *where)
{
	return dir_dialect_is_pg(where) ? dir_cache_start(where) : 0;
}

void directory_cache_stop(void)
{
	dir_cache_stop();
}

bool directory_is_pg(const struct directory *dir)
{
	return dir->be->dialect == DIR_POSTGRESQL;
}

void directory_close(struct directory *dir)
{
	if (dir == NULL)
		return;
	dir->be->close(dir->db);
	free(dir);
}

static int dir_step(struct dir_stmt *st)
{
	return st->be->step(st);
}

static const char *dir_text(struct dir_stmt *st, int col)
{
	return st->be->text(st, col);
}

static int64_t dir_int64(struct dir_stmt *st, int col)
{
	return st->be->int64(st, col);
}

static void dir_bind_int64(struct dir_stmt *st, int i, int64_t v)
{
	st->be->bind_int64(st, i, v);
}

static void dir_bind_text(struct dir_stmt *st, int i, const char *v)
{
	st->be->bind_text(st, i, v);
}

/* Ends the use of a statement from dir_prepare. */
static void dir_finish(struct directory *dir, struct dir_stmt *st)
{
	if (st != NULL)
		dir->be->finish(dir->db, st);
}

static int dir_exec(struct directory *dir, const char *sql)
{
	return dir->be->exec(dir->db, sql, NULL, 0);
}

/* Prepares sql and binds the given text arguments (NULL ends the list).
 * sql must stay valid while dir is open (a string literal); the statement
 * goes back with dir_finish. */
static struct dir_stmt *dir_prepare(struct directory *dir, const char *sql, ...)
{
	struct dir_stmt *st;
	va_list ap;
	const char *arg;
	int i = 1;

	st = dir->be->prepare(dir->db, sql);
	if (st == NULL)
		return NULL;
	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		dir_bind_text(st, i++, arg);
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows; -1 with a message on failure. */
static int dir_run(struct directory *dir, struct dir_stmt *st, const char **error_r)
{
	int r;

	if (st == NULL) {
		*error_r = "database error";
		return -1;
	}
	r = dir_step(st);
	dir_finish(dir, st);
	if (r != DIR_DONE) {
		*error_r = r == DIR_CONSTRAINT ? "already exists" : "database error";
		return -1;
	}
	return 0;
}

/* Runs a change of one row: 1 changed, 0 no such row, -1 error. */
static int dir_change_one(struct directory *dir, struct dir_stmt *st, const char **error_r)
{
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	return dir->be->changes(dir->db) > 0 ? 1 : 0;
}

static void col_text(struct dir_stmt *st, int col, char *buf, size_t size)
{
	if (str_copy(buf, size, dir_text(st, col)) < 0)
		buf[0] = '\0';
}

/* The hot-path cache's key for text: lower case, as the queries match.
 * false when it does not fit (then the lookup is not cached). */
static bool dir_cache_key(char *key, size_t size, const char *a, const char *b, const char *c)
{
	int n = snprintf(key, size, "%s\x1f%s\x1f%s", a, b != NULL ? b : "", c != NULL ? c : "");

	if (n < 0 || (size_t)n >= size)
		return false;
	for (char *p = key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return true;
}

/* Whether dir's lookups go through the daemon's cache (PostgreSQL only:
 * an SQLite file is local and tells no one of its changes). */
static bool dir_cached(const struct directory *dir)
{
	return dir->be->dialect == DIR_POSTGRESQL && dir_cache_is_active();
}

/* After a change of accounts, domains or settings: this process sees it
 * at once (the other nodes through the trigger's notification). */
static void dir_changed(const struct directory *dir)
{
	if (dir->be->dialect == DIR_POSTGRESQL)
		dir_cache_flush();
}

int directory_domain_add(struct directory *dir, const char *name, const char **error_r)
{
	struct dir_stmt *st;
	char ts[32];

	if (validate_domain(name, error_r) < 0)
		return -1;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	st = dir_prepare(dir, "INSERT INTO domains(name, created) VALUES (?, ?)", name, ts, NULL);
	if (dir_run(dir, st, error_r) < 0) {
		if (strcmp(*error_r, "already exists") == 0)
			*error_r = "the domain already exists";
		return -1;
	}
	dir_changed(dir);
	return 0;
}

int directory_domain_del(struct directory *dir, const char *name, bool force, const char **error_r)
{
	struct dir_domain d;
	int r = directory_domain_get(dir, name, &d);

	if (r <= 0) {
		*error_r = r == 0 ? "no such domain" : "database error";
		return -1;
	}
	if (d.accounts > 0 && !force) {
		*error_r = "the domain still has accounts (use --force to delete them too)";
		return -1;
	}
	if (dir_run(dir, dir_prepare(dir, "DELETE FROM domains WHERE name = lower(?)", name, NULL), error_r) < 0)
		return -1;
	dir_changed(dir);
	return 0;
}

static void domain_from_row(struct dir_stmt *st, struct dir_domain *d)
{
	d->id = dir_int64(st, 0);
	col_text(st, 1, d->name, sizeof(d->name));
	d->created = dir_int64(st, 2);
	d->accounts = (unsigned)(int)dir_int64(st, 3);
}

#define DOMAIN_SELECT \
	"SELECT d.id, d.name, d.created, (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id)" \
	" FROM domains d"

static int dir_domain_read(struct directory *dir, const char *name, struct dir_domain *domain_r)
{
	struct dir_stmt *st = dir_prepare(dir, DOMAIN_SELECT " WHERE d.name = lower(?)", name, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		domain_from_row(st, domain_r);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_domain_get(struct directory *dir, const char *name, struct dir_domain *domain_r)
{
	struct {
		int r;
		struct dir_domain d;
	} c;
	char key[DIR_DOMAIN_MAX + 8];
	uint64_t gen = dir_cache_generation();

	if (!dir_cached(dir) || !dir_cache_key(key, sizeof(key), name, NULL, NULL))
		return dir_domain_read(dir, name, domain_r);
	if (dir_cache_get('d', key, &c, sizeof(c)) == 0) {
		memset(&c, 0, sizeof(c));
		c.r = dir_domain_read(dir, name, &c.d);
		if (c.r < 0)
			return -1;
		dir_cache_put('d', key, &c, sizeof(c), gen);
	}
	if (c.r > 0)
		*domain_r = c.d;
	return c.r;
}

int directory_domain_list(struct directory *dir, dir_domain_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, DOMAIN_SELECT " ORDER BY d.name", NULL);
	struct dir_domain d;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		domain_from_row(st, &d);
		cb(&d, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

/* Without the password hash: only directory_account_get_auth reads it. */
#define ACCOUNT_COLUMNS "a.id, a.address, a.local, d.name, a.quota_mb, a.memo, a.enabled, a.created"
#define ACCOUNT_FROM " FROM accounts a JOIN domains d ON d.id = a.domain_id"
#define ACCOUNT_SELECT "SELECT " ACCOUNT_COLUMNS ACCOUNT_FROM

static void account_from_row(struct dir_stmt *st, struct dir_account *a)
{
	a->id = dir_int64(st, 0);
	col_text(st, 1, a->address, sizeof(a->address));
	col_text(st, 2, a->local, sizeof(a->local));
	col_text(st, 3, a->domain, sizeof(a->domain));
	a->quota_mb = (unsigned)(int)dir_int64(st, 4);
	col_text(st, 5, a->memo, sizeof(a->memo));
	a->enabled = (int)dir_int64(st, 6) != 0;
	a->created = dir_int64(st, 7);
}

int directory_account_add(struct directory *dir, const char *address, const char *password_hash,
			  unsigned quota_mb, const char *memo, const char **error_r)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], addr[DIR_ADDRESS_MAX + 1];
	char quota[16], ts[32];
	struct dir_domain d;
	int r;

	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), error_r) < 0 ||
	    validate_quota(quota_mb, error_r) < 0)
		return -1;
	if (memo != NULL && strlen(memo) >= sizeof(((struct dir_account *)0)->memo)) {
		*error_r = "the memo is too long (at most 511 bytes)";
		return -1;
	}
	r = directory_domain_get(dir, domain, &d);
	if (r <= 0) {
		*error_r = r == 0 ? "the domain does not exist: add the domain first" : "database error";
		return -1;
	}
	snprintf(addr, sizeof(addr), "%s@%s", local, domain);
	snprintf(quota, sizeof(quota), "%u", quota_mb);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	r = dir_run(dir, dir_prepare(dir,
		"INSERT INTO accounts(domain_id, local, address, password, quota_mb, memo, created)"
		" VALUES ((SELECT id FROM domains WHERE name = ?), ?, ?, ?, ?, ?, ?)",
		domain, local, addr, password_hash, quota, memo != NULL ? memo : "", ts, NULL), error_r);
	if (r < 0 && strcmp(*error_r, "already exists") == 0)
		*error_r = "the account already exists";
	if (r == 0)
		dir_changed(dir);
	return r;
}

/* Runs an UPDATE/DELETE on one account; "no such account" when it matched
 * nothing. */
static int dir_account_change(struct directory *dir, struct dir_stmt *st, const char **error_r)
{
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	if (dir->be->changes(dir->db) == 0) {
		*error_r = "no such account";
		return -1;
	}
	dir_changed(dir);
	return 0;
}

int directory_account_del(struct directory *dir, const char *address, const char **error_r)
{
	return dir_account_change(dir, dir_prepare(dir,
		"DELETE FROM accounts WHERE address = lower(?)", address, NULL), error_r);
}

static int dir_account_read(struct directory *dir, const char *address, struct dir_account *account_r,
			    char *hash_r, size_t hash_size)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT " ACCOUNT_COLUMNS ", a.password" ACCOUNT_FROM
				       " WHERE a.address = lower(?)", address, NULL);
	int r;

	if (hash_size > 0)
		hash_r[0] = '\0';
	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		account_from_row(st, account_r);
		col_text(st, 8, hash_r, hash_size);
	}
	dir_finish(dir, st);	/* sqlite's copy of the row goes with the statement */
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_account_get_auth(struct directory *dir, const char *address, struct dir_account *account_r,
			       char *hash_r, size_t hash_size)
{
	struct {
		int r;
		struct dir_account a;
		char hash[DIR_HASH_MAX];
	} c;
	char key[DIR_ADDRESS_MAX + 8];
	uint64_t gen = dir_cache_generation();
	int r;

	if (!dir_cached(dir) || !dir_cache_key(key, sizeof(key), address, NULL, NULL))
		return dir_account_read(dir, address, account_r, hash_r, hash_size);
	if (hash_size > 0)
		hash_r[0] = '\0';
	if (dir_cache_get('a', key, &c, sizeof(c)) == 0) {
		memset(&c, 0, sizeof(c));
		c.r = dir_account_read(dir, address, &c.a, c.hash, sizeof(c.hash));
		if (c.r < 0) {
			explicit_bzero(&c, sizeof(c));
			return -1;
		}
		dir_cache_put('a', key, &c, sizeof(c), gen);
	}
	if (c.r > 0) {
		*account_r = c.a;
		if (hash_size > 0 && str_copy(hash_r, hash_size, c.hash) < 0)
			hash_r[0] = '\0';
	}
	r = c.r;
	explicit_bzero(&c, sizeof(c));
	return r;
}

int directory_account_get(struct directory *dir, const char *address, struct dir_account *account_r)
{
	char hash[DIR_HASH_MAX];
	int r = directory_account_get_auth(dir, address, account_r, hash, sizeof(hash));

	explicit_bzero(hash, sizeof(hash));
	return r;
}

int directory_account_list(struct directory *dir, const char *domain, dir_account_cb *cb, void *ctx)
{
	struct dir_stmt *st = domain != NULL
		? dir_prepare(dir, ACCOUNT_SELECT " WHERE d.name = lower(?) ORDER BY a.address", domain, NULL)
		: dir_prepare(dir, ACCOUNT_SELECT " ORDER BY a.address", NULL);
	struct dir_account a;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		account_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

/* A LIKE pattern matching text that contains q (ASCII letters in any
 * case, like LIKE itself; '%', '_' and '\' taken literally). */
static int like_contains(const char *q, char *out, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return -1;
	out[n++] = '%';
	for (; *q != '\0'; q++) {
		if (n + 4 > size)
			return -1;
		if (*q == '%' || *q == '_' || *q == '\\')
			out[n++] = '\\';
		out[n++] = *q;
	}
	out[n++] = '%';
	out[n] = '\0';
	return 0;
}

#define ACCOUNT_PAGE_WHERE \
	" WHERE a.domain_id = (SELECT id FROM domains WHERE name = lower(?1))" \
	" AND (?2 = '' OR lower(a.address) LIKE lower(?2) ESCAPE '\\'" \
	" OR lower(a.memo) LIKE lower(?2) ESCAPE '\\')"

int directory_account_page(struct directory *dir, const char *domain, const char *q, size_t offset,
			   size_t limit, dir_account_cb *cb, void *ctx, size_t *total_r)
{
	char pattern[2 * 512 + 3] = "";
	struct dir_stmt *st;
	struct dir_account a;
	int r;

	*total_r = 0;
	if (q != NULL && q[0] != '\0' && like_contains(q, pattern, sizeof(pattern)) < 0)
		return 0;	/* longer than any address or memo: nothing matches */
	st = dir_prepare(dir, "SELECT count(*) FROM accounts a" ACCOUNT_PAGE_WHERE, domain, pattern, NULL);
	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		*total_r = (size_t)dir_int64(st, 0);
	dir_finish(dir, st);
	if (r != DIR_ROW)
		return -1;
	if (*total_r <= offset)
		return 0;
	st = dir_prepare(dir, ACCOUNT_SELECT ACCOUNT_PAGE_WHERE " ORDER BY a.address LIMIT ?3 OFFSET ?4",
			 domain, pattern, NULL);
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	dir_bind_int64(st, 4, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
	while ((r = dir_step(st)) == DIR_ROW) {
		account_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_account_set_password(struct directory *dir, const char *address, const char *hash,
				   const char **error_r)
{
	return dir_account_change(dir, dir_prepare(dir,
		"UPDATE accounts SET password = ? WHERE address = lower(?)", hash, address, NULL), error_r);
}

int directory_account_set_quota(struct directory *dir, const char *address, unsigned quota_mb,
				const char **error_r)
{
	char quota[16];

	if (validate_quota(quota_mb, error_r) < 0)
		return -1;
	snprintf(quota, sizeof(quota), "%u", quota_mb);
	return dir_account_change(dir, dir_prepare(dir,
		"UPDATE accounts SET quota_mb = ? WHERE address = lower(?)", quota, address, NULL), error_r);
}

int directory_account_set_enabled(struct directory *dir, const char *address, bool enabled,
				  const char **error_r)
{
	return dir_account_change(dir, dir_prepare(dir,
		"UPDATE accounts SET enabled = ? WHERE address = lower(?)", enabled ? "1" : "0",
		address, NULL), error_r);
}

int directory_account_set_memo(struct directory *dir, const char *address, const char *memo,
			       const char **error_r)
{
	if (strlen(memo) >= sizeof(((struct dir_account *)0)->memo)) {
		*error_r = "the memo is too long (at most 511 bytes)";
		return -1;
	}
	return dir_account_change(dir, dir_prepare(dir,
		"UPDATE accounts SET memo = ? WHERE address = lower(?)", memo, address, NULL), error_r);
}

int directory_setting_set(struct directory *dir, const char *scope, const char *name,
			  const char *key, const char *value, const char **error_r)
{
	if (dir_run(dir, dir_prepare(dir,
		"INSERT INTO settings(scope, name, key, value) VALUES (?, lower(?), ?, ?)"
		" ON CONFLICT(scope, name, key) DO UPDATE SET value = excluded.value",
		scope, name, key, value, NULL), error_r) < 0)
		return -1;
	dir_changed(dir);
	return 0;
}

int directory_setting_unset(struct directory *dir, const char *scope, const char *name,
			    const char *key, const char **error_r)
{
	int r = dir_change_one(dir, dir_prepare(dir, "DELETE FROM settings WHERE scope = ? AND name = lower(?)"
						" AND key = ?", scope, name, key, NULL), error_r);

	dir_changed(dir);
	return r;
}

int directory_setting_clear(struct directory *dir, const char *scope, const char *name,
			    const char **error_r)
{
	int r = dir_run(dir, dir_prepare(dir, "DELETE FROM settings WHERE scope = ? AND name = lower(?)",
					 scope, name, NULL), error_r);

	dir_changed(dir);
	if (r < 0 ||
	    dir_run(dir, dir_prepare(dir, "DELETE FROM spam_lists WHERE scope = ? AND name = lower(?)",
				     scope, name, NULL), error_r) < 0)
		return -1;
	/* The sending and login state of a deleted account or domain goes
	 * too, so that a re-created one starts clean (no old suspension,
	 * counts, login block or known networks). */
	if (strcmp(scope, "account") == 0)
		return dir_run(dir, dir_prepare(dir, "DELETE FROM send_holds WHERE address = lower(?)",
						name, NULL), error_r) < 0 ||
		       dir_run(dir, dir_prepare(dir, "DELETE FROM auth_blocks WHERE kind = 'account'"
						" AND key = lower(?)", name, NULL), error_r) < 0 ||
		       dir_run(dir, dir_prepare(dir, "DELETE FROM auth_known WHERE address = lower(?)",
						name, NULL), error_r) < 0 ||
		       dir_run(dir, dir_prepare(dir, "DELETE FROM send_counts WHERE address = lower(?)",
						name, NULL), error_r) < 0 ||
		       dir_run(dir, dir_prepare(dir, "DELETE FROM send_rcpts WHERE address = lower(?)",
						name, NULL), error_r) < 0 ? -1 : 0;
	return dir_run(dir, dir_prepare(dir, "DELETE FROM batv_keys WHERE domain = lower(?)", name, NULL),
		       error_r);
}

static int dir_setting_read(struct directory *dir, const char *scope, const char *name,
			    const char *key, char *value_r, size_t size)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT value FROM settings"
		" WHERE scope = ? AND name = lower(?) AND key = ?", scope, name, key, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		col_text(st, 0, value_r, size);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_setting_get(struct directory *dir, const char *scope, const char *name,
			  const char *key, char *value_r, size_t size)
{
	struct {
		int r;
		char value[1024];
	} c;
	char ck[DIR_ADDRESS_MAX + 128];
	uint64_t gen = dir_cache_generation();

	if (!dir_cached(dir) || !dir_cache_key(ck, sizeof(ck), scope, name, key))
		return dir_setting_read(dir, scope, name, key, value_r, size);
	if (dir_cache_get('s', ck, &c, sizeof(c)) == 0) {
		memset(&c, 0, sizeof(c));
		c.r = dir_setting_read(dir, scope, name, key, c.value, sizeof(c.value));
		if (c.r < 0)
			return -1;
		/* A value that filled the buffer may have been cut: not kept. */
		if (strlen(c.value) + 1 < sizeof(c.value))
			dir_cache_put('s', ck, &c, sizeof(c), gen);
		else
			return dir_setting_read(dir, scope, name, key, value_r, size);
	}
	if (c.r > 0 && str_copy(value_r, size, c.value) < 0)
		value_r[0] = '\0';
	return c.r;
}

int directory_setting_list(struct directory *dir, const char *scope, const char *name,
			   dir_setting_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT key, value FROM settings"
		" WHERE scope = ? AND name = lower(?) ORDER BY key", scope, name, NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb((const char *)dir_text(st, 0), (const char *)dir_text(st, 1), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_spamlist_add(struct directory *dir, const char *scope, const char *name,
			   const char *kind, const char *pattern, const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT INTO spam_lists(scope, name, kind, pattern, created)"
					" VALUES (?, lower(?), ?, lower(?), ?)", scope, name, kind, pattern,
					ts, NULL), error_r);
}

int directory_spamlist_del(struct directory *dir, const char *scope, const char *name,
			   const char *kind, const char *pattern, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM spam_lists WHERE scope = ? AND name = lower(?)"
					      " AND kind = ? AND pattern = lower(?)", scope, name, kind, pattern,
					      NULL), error_r);
}

int directory_spamlist_list(struct directory *dir, const char *scope, const char *name,
			    const char *kind, dir_spamlist_cb *cb, void *ctx)
{
	struct dir_stmt *st = kind != NULL
		? dir_prepare(dir, "SELECT kind, pattern, created FROM spam_lists WHERE scope = ?"
			      " AND name = lower(?) AND kind = ? ORDER BY kind, pattern", scope, name, kind, NULL)
		: dir_prepare(dir, "SELECT kind, pattern, created FROM spam_lists WHERE scope = ?"
			      " AND name = lower(?) ORDER BY kind, pattern", scope, name, NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb((const char *)dir_text(st, 0), (const char *)dir_text(st, 1),
		   (int64_t)dir_int64(st, 2), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_event_add(struct directory *dir, const char *kind, const char *address,
			const char *ip, const char *detail)
{
	const char *error;
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir,
		"INSERT INTO events(ts, kind, address, ip, detail) VALUES (?, ?, lower(?), ?, ?)",
		ts, kind, address != NULL ? address : "", ip != NULL ? ip : "",
		detail != NULL ? detail : "", NULL), &error);
}

/* Fills *e from a row of "SELECT id, ts, kind, address, ip, detail FROM events". */
static void event_from_row(struct dir_stmt *st, struct dir_event *e)
{
	e->id = dir_int64(st, 0);
	e->ts = dir_int64(st, 1);
	col_text(st, 2, e->kind, sizeof(e->kind));
	col_text(st, 3, e->address, sizeof(e->address));
	col_text(st, 4, e->ip, sizeof(e->ip));
	col_text(st, 5, e->detail, sizeof(e->detail));
}

/* Hands each row of st (event columns, as above) to cb, then finishes st.
 * 0, or -1 on a database error. */
static int events_each(struct directory *dir, struct dir_stmt *st, dir_event_cb *cb, void *ctx)
{
	struct dir_event e;
	int r;

	while ((r = dir_step(st)) == DIR_ROW) {
		event_from_row(st, &e);
		cb(&e, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

/* Fills *a from a row of "SELECT id, ts, actor, ip, op, target, summary FROM audit". */
static void audit_from_row(struct dir_stmt *st, struct dir_audit *a)
{
	a->id = dir_int64(st, 0);
	a->ts = dir_int64(st, 1);
	col_text(st, 2, a->actor, sizeof(a->actor));
	col_text(st, 3, a->ip, sizeof(a->ip));
	col_text(st, 4, a->op, sizeof(a->op));
	col_text(st, 5, a->target, sizeof(a->target));
	col_text(st, 6, a->summary, sizeof(a->summary));
}

/* Hands each row of st (audit columns, as above) to cb, then finishes st.
 * 0, or -1 on a database error. */
static int audit_each(struct directory *dir, struct dir_stmt *st, dir_audit_cb *cb, void *ctx)
{
	struct dir_audit a;
	int r;

	while ((r = dir_step(st)) == DIR_ROW) {
		audit_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_event_list(struct directory *dir, const char *address, unsigned limit,
			 dir_event_cb *cb, void *ctx)
{
	struct dir_stmt *st;

	st = address != NULL
		? dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE address = lower(?) ORDER BY id DESC LIMIT ?2", address, NULL)
		: dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " ORDER BY id DESC LIMIT ?2", NULL);
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 2, limit);
	return events_each(dir, st, cb, ctx);
}

/* The domain of an event's address or an audit row's target: after the
 * '@' for an address, else the whole text (a domain's own rows). */
#define DIR_ROW_DOMAIN(col) "(CASE WHEN instr(" col ", '@') > 0 THEN substr(" col ", instr(" col ", '@') + 1)" \
	" ELSE " col " END)"
#define DIR_IN_LIST(param, expr) "(" param " = '' OR instr(',' || " param " || ',', ',' || " expr " || ',') > 0)"

static void dir_log_bind(struct dir_stmt *st, const struct dir_log_filter *f)
{
	dir_bind_text(st, 1, f->address != NULL ? f->address : "");
	dir_bind_text(st, 2, f->domains != NULL ? f->domains : "");
	dir_bind_text(st, 3, f->kinds != NULL ? f->kinds : "");
	dir_bind_int64(st, 4, f->since);
	dir_bind_int64(st, 5, f->before);
	dir_bind_int64(st, 6, f->limit);
	dir_bind_text(st, 7, f->actor != NULL ? f->actor : "");
}

int directory_event_query(struct directory *dir, const struct dir_log_filter *f, dir_event_cb *cb,
			  void *ctx)
{
	struct dir_stmt *st;

	/* With an address the (address, id) index serves; else the rows are
	 * walked newest first until limit match. */
	st = f->address != NULL && f->address[0] != '\0'
		? dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE address = lower(?1) AND " DIR_IN_LIST("?2", DIR_ROW_DOMAIN("address"))
			      " AND " DIR_IN_LIST("?3", "kind") " AND ts >= ?4 AND (?5 = 0 OR id < ?5)"
			      " ORDER BY id DESC LIMIT ?6", NULL)
		: dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE ?1 = '' AND " DIR_IN_LIST("?2", DIR_ROW_DOMAIN("address"))
			      " AND " DIR_IN_LIST("?3", "kind") " AND ts >= ?4 AND (?5 = 0 OR id < ?5)"
			      " ORDER BY id DESC LIMIT ?6", NULL);
	if (st == NULL)
		return -1;
	dir_log_bind(st, f);
	return events_each(dir, st, cb, ctx);
}

int directory_begin(struct directory *dir)
{
	/* Not inside another one (SQLite refuses that; PostgreSQL would only
	 * warn and let the inner COMMIT end the outer). */
	if (dir->be->in_transaction(dir->db))
		return -1;
	return dir_exec(dir, dir_sql_begin(dir->be->dialect));
}

bool directory_in_transaction(struct directory *dir)
{
	return dir->be->in_transaction(dir->db);
}

int directory_read_begin(struct directory *dir)
{
	if (dir->be->in_transaction(dir->db))
		return -1;	/* inside a transaction already */
	return dir_exec(dir, "BEGIN");
}

void directory_read_end(struct directory *dir)
{
	if (dir->be->in_transaction(dir->db))
		dir_exec(dir, "COMMIT");
}

int directory_commit(struct directory *dir)
{
	return dir_exec(dir, "COMMIT");
}

void directory_rollback(struct directory *dir)
{
	dir_exec(dir, "ROLLBACK");
}

int directory_audit_add(struct directory *dir, const struct dir_audit *a)
{
	const char *error;
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)a->ts);
	return dir_run(dir, dir_prepare(dir,
		"INSERT INTO audit(ts, actor, ip, op, target, summary) VALUES (?, ?, ?, ?, ?, ?)",
		ts, a->actor, a->ip, a->op, a->target, a->summary, NULL), &error);
}

int directory_audit_list(struct directory *dir, const char *target, unsigned limit,
			 dir_audit_cb *cb, void *ctx)
{
	struct dir_stmt *st;

	st = target != NULL
		? dir_prepare(dir, "SELECT id, ts, actor, ip, op, target, summary FROM audit"
			      " WHERE target = lower(?) OR target LIKE '%@' || lower(?)"
			      " ORDER BY id DESC LIMIT ?3", target, target, NULL)
		: dir_prepare(dir, "SELECT id, ts, actor, ip, op, target, summary FROM audit"
			      " ORDER BY id DESC LIMIT ?3", NULL);
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 3, limit);
	return audit_each(dir, st, cb, ctx);
}

int directory_audit_query(struct directory *dir, const struct dir_log_filter *f, dir_audit_cb *cb,
			  void *ctx)
{
	struct dir_stmt *st;

	/* With domains, administrators' and tokens' rows never match (their
	 * targets are names, not domains). */
	st = dir_prepare(dir, "SELECT id, ts, actor, ip, op, target, summary FROM audit"
			 " WHERE (?1 = '' OR target = lower(?1) OR target LIKE '%@' || lower(?1))"
			 " AND (?2 = '' OR (" DIR_IN_LIST("?2", DIR_ROW_DOMAIN("target"))
			 " AND op NOT LIKE 'admin.%' AND op NOT LIKE 'token.%'))"
			 " AND ts >= ?4 AND (?5 = 0 OR id < ?5) AND (?7 = '' OR actor = ?7)"
			 " ORDER BY id DESC LIMIT ?6", NULL);
	if (st == NULL)
		return -1;
	dir_log_bind(st, f);
	return audit_each(dir, st, cb, ctx);
}

/* ---- administrators and API tokens (issue 11) ---- */

int directory_admin_add(struct directory *dir, const struct dir_admin *a, const char *hash,
			const char **error_r)
{
	struct dir_stmt *st;
	char ts[32];
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	st = dir_prepare(dir, "INSERT INTO admins(name, password, role, domains, created)"
			 " VALUES (lower(?), ?, ?, ?, ?)", a->name, hash, a->role, a->domains, ts, NULL);
	if (st == NULL) {
		*error_r = "database error";
		return -1;
	}
	r = dir_step(st);
	dir_finish(dir, st);
	if (r == DIR_CONSTRAINT) {
		*error_r = "exists";
		return -1;
	}
	if (r != DIR_DONE) {
		*error_r = "database error";
		return -1;
	}
	return 0;
}

static void admin_from_row(struct dir_stmt *st, struct dir_admin *a)
{
	col_text(st, 0, a->name, sizeof(a->name));
	col_text(st, 1, a->role, sizeof(a->role));
	col_text(st, 2, a->domains, sizeof(a->domains));
	a->created = dir_int64(st, 3);
}

int directory_admin_get_auth(struct directory *dir, const char *name, struct dir_admin *a_r,
			     char *hash_r, size_t hash_size)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT name, role, domains, created, password FROM admins"
				       " WHERE name = lower(?)", name, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		admin_from_row(st, a_r);
		col_text(st, 4, hash_r, hash_size);
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_admin_del(struct directory *dir, const char *name, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM admins WHERE name = lower(?)", name,
					       NULL), error_r);
}

int directory_admin_set_password(struct directory *dir, const char *name, const char *hash,
				 const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "UPDATE admins SET password = ? WHERE name = lower(?)",
					       hash, name, NULL), error_r);
}

int directory_admin_list(struct directory *dir, dir_admin_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT name, role, domains, created FROM admins"
				       " ORDER BY name", NULL);
	struct dir_admin a;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		admin_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_token_add(struct directory *dir, const struct dir_token *t, const char **error_r)
{
	char expires[32], created[32];

	snprintf(expires, sizeof(expires), "%lld", (long long)t->expires);
	snprintf(created, sizeof(created), "%lld", (long long)t->created);
	return dir_run(dir, dir_prepare(dir, "INSERT INTO api_tokens(id, hash, role, domains, expires,"
					" created) VALUES (?, ?, ?, ?, ?, ?)", t->id, t->hash, t->role,
					t->domains, expires, created, NULL), error_r);
}

#define TOKEN_COLUMNS "id, hash, role, domains, expires, created, last_used, revoked"

static void token_from_row(struct dir_stmt *st, struct dir_token *t)
{
	col_text(st, 0, t->id, sizeof(t->id));
	col_text(st, 1, t->hash, sizeof(t->hash));
	col_text(st, 2, t->role, sizeof(t->role));
	col_text(st, 3, t->domains, sizeof(t->domains));
	t->expires = dir_int64(st, 4);
	t->created = dir_int64(st, 5);
	t->last_used = dir_int64(st, 6);
	t->revoked = dir_int64(st, 7) != 0;
}

int directory_token_get(struct directory *dir, const char *id, struct dir_token *t_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = ?",
				       id, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		token_from_row(st, t_r);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_token_list(struct directory *dir, dir_token_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT " TOKEN_COLUMNS " FROM api_tokens"
				       " ORDER BY created, id", NULL);
	struct dir_token t;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		token_from_row(st, &t);
		cb(&t, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_token_revoke(struct directory *dir, const char *id, const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_change_one(dir, dir_prepare(dir, "UPDATE api_tokens SET revoked = CASE revoked"
					       " WHEN 0 THEN ? ELSE revoked END WHERE id = ?", ts, id,
					       NULL), error_r);
}

int directory_token_touch(struct directory *dir, const char *id, int64_t now)
{
	const char *error;
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	return dir_run(dir, dir_prepare(dir, "UPDATE api_tokens SET last_used = ? WHERE id = ?", ts, id,
					NULL), &error);
}

/* ---- browser sessions (issue 11) ---- */

int directory_session_add(struct directory *dir, const struct dir_session *s, const char **error_r)
{
	char created[32], seen[32];

	snprintf(created, sizeof(created), "%lld", (long long)s->created);
	snprintf(seen, sizeof(seen), "%lld", (long long)s->last_seen);
	return dir_run(dir, dir_prepare(dir, "INSERT INTO sessions(hash, role, name, domains, csrf,"
					" created, last_seen, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", s->hash,
					s->role, s->name, s->domains, s->csrf, created, seen, s->ip, NULL),
		       error_r);
}

int directory_session_get(struct directory *dir, const char *hash, struct dir_session *s_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT hash, role, name, domains, csrf, created, last_seen, ip"
				       " FROM sessions WHERE hash = ?", hash, NULL);
	int r;

	if (st == NULL)
		return -1;
	memset(s_r, 0, sizeof(*s_r));
	r = dir_step(st);
	if (r == DIR_ROW) {
		col_text(st, 0, s_r->hash, sizeof(s_r->hash));
		col_text(st, 1, s_r->role, sizeof(s_r->role));
		col_text(st, 2, s_r->name, sizeof(s_r->name));
		col_text(st, 3, s_r->domains, sizeof(s_r->domains));
		col_text(st, 4, s_r->csrf, sizeof(s_r->csrf));
		s_r->created = dir_int64(st, 5);
		s_r->last_seen = dir_int64(st, 6);
		col_text(st, 7, s_r->ip, sizeof(s_r->ip));
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_session_touch(struct directory *dir, const char *hash, int64_t now)
{
	const char *error;
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	return dir_run(dir, dir_prepare(dir, "UPDATE sessions SET last_seen = ? WHERE hash = ?", ts, hash,
					NULL), &error);
}

int directory_session_del(struct directory *dir, const char *hash)
{
	const char *error;

	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE hash = ?", hash, NULL), &error);
}

int directory_session_revoke(struct directory *dir, bool user, const char *name, const char *keep_hash)
{
	const char *error;

	if (user)
		return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE lower(name) = lower(?)"
						" AND role = 'user' AND hash <> ?", name,
						keep_hash != NULL ? keep_hash : "", NULL), &error);
	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE name = lower(?) AND role <> 'user'"
					" AND hash <> ?", name, keep_hash != NULL ? keep_hash : "", NULL),
		       &error);
}

int directory_session_revoke_domain(struct directory *dir, const char *domain)
{
	const char *error;
	char pattern[2 * DIR_DOMAIN_MAX + 4];

	/* "%@domain" with the domain's LIKE characters taken literally */
	if (like_contains(domain, pattern + 1, sizeof(pattern) - 1) < 0)
		return -1;
	pattern[0] = '%';
	pattern[1] = '@';
	pattern[strlen(pattern) - 1] = '\0';
	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE role = 'user' AND lower(name)"
					" LIKE lower(?) ESCAPE '\\'", pattern, NULL), &error);
}

int directory_session_prune(struct directory *dir, int64_t seen_before, int64_t created_before)
{
	const char *error;
	char seen[32], created[32];

	snprintf(seen, sizeof(seen), "%lld", (long long)seen_before);
	snprintf(created, sizeof(created), "%lld", (long long)created_before);
	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE last_seen < ? OR created < ?",
					seen, created, NULL), &error);
}

/* ---- sending counts, suspensions and BATV keys (issue 5) ---- */

int directory_send_flush(struct directory *dir, const struct dir_send_count *counts, size_t ncounts,
			 const struct dir_send_rcpt *rcpts, size_t nrcpts, int64_t prune_minute)
{
	struct dir_stmt *st;
	int ok = 1;

	if (directory_begin(dir) < 0)
		return -1;
	for (size_t i = 0; ok && i < ncounts; i++) {
		st = dir_prepare(dir, "INSERT INTO send_counts(address, minute, count) VALUES (?, ?, ?)"
				 " ON CONFLICT(address, minute) DO UPDATE"
				 " SET count = send_counts.count + excluded.count", counts[i].address, NULL);
		if (st == NULL) {
			ok = 0;
			break;
		}
		dir_bind_int64(st, 2, counts[i].minute);
		dir_bind_int64(st, 3, (int64_t)counts[i].count);
		ok = dir_step(st) == DIR_DONE;
		dir_finish(dir, st);
	}
	for (size_t i = 0; ok && i < nrcpts; i++) {
		st = dir_prepare(dir, "INSERT INTO send_rcpts(address, rcpt, last) VALUES (?, ?, ?)"
				 " ON CONFLICT(address, rcpt) DO UPDATE SET last = CASE"
				 " WHEN excluded.last > send_rcpts.last THEN excluded.last ELSE send_rcpts.last END",
				 rcpts[i].address, rcpts[i].rcpt, NULL);
		if (st == NULL) {
			ok = 0;
			break;
		}
		dir_bind_int64(st, 3, rcpts[i].ts);
		ok = dir_step(st) == DIR_DONE;
		dir_finish(dir, st);
	}
	if (ok && prune_minute > 0) {
		char m[32], ts[32];
		const char *error;

		snprintf(m, sizeof(m), "%lld", (long long)prune_minute);
		snprintf(ts, sizeof(ts), "%lld", (long long)(prune_minute * 60 - 22 * 86400));
		ok = dir_run(dir, dir_prepare(dir, "DELETE FROM send_counts WHERE minute < ?", m, NULL),
			     &error) == 0 &&
		     dir_run(dir, dir_prepare(dir, "DELETE FROM send_rcpts WHERE last < ?", ts, NULL),
			     &error) == 0;
	}
	if (!ok) {
		directory_rollback(dir);
		return -1;
	}
	return directory_commit(dir);
}

int directory_lock(struct directory *dir, const char *key)
{
	struct dir_stmt *st;
	int r;

	if (dir->be->dialect != DIR_POSTGRESQL)
		return dir->be->in_transaction(dir->db) ? 0 : -1;
	st = dir_prepare(dir, "SELECT pg_advisory_xact_lock(hashtext(lower(?)))", key, NULL);
	if (st == NULL)
		return -1;
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_ROW ? 0 : -1;
}

int directory_send_count_add(struct directory *dir, const char *address, int64_t minute, int64_t delta)
{
	struct dir_stmt *st = dir_prepare(dir, "INSERT INTO send_counts(address, minute, count)"
					  " VALUES (lower(?), ?, ?) ON CONFLICT(address, minute) DO UPDATE"
					  " SET count = send_counts.count + excluded.count", address, NULL);
	int r;

	if (st == NULL)
		return -1;
	dir_bind_int64(st, 2, minute);
	dir_bind_int64(st, 3, delta);
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_send_counts_load(struct directory *dir, const char *address, int64_t since_minute,
			       dir_send_count_cb *cb, void *ctx)
{
	char m[32];
	struct dir_stmt *st;
	int r;

	snprintf(m, sizeof(m), "%lld", (long long)since_minute);
	st = dir_prepare(dir, "SELECT minute, count FROM send_counts WHERE address = lower(?)"
			 " AND minute >= ? ORDER BY minute", address, m, NULL);
	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb(dir_int64(st, 0), (uint64_t)dir_int64(st, 1), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_send_peak_hour(struct directory *dir, const char *address, int64_t from_minute,
			     int64_t to_minute, uint64_t *peak_r)
{
	char f[32], t[32];
	struct dir_stmt *st;
	int r;

	snprintf(f, sizeof(f), "%lld", (long long)from_minute);
	snprintf(t, sizeof(t), "%lld", (long long)to_minute);
	st = dir_prepare(dir, "SELECT coalesce(max(s), 0) FROM (SELECT sum(count) AS s FROM send_counts"
			 " WHERE address = lower(?) AND minute >= ? AND minute < ? GROUP BY minute / 60) AS h",
			 address, f, t, NULL);
	if (st == NULL)
		return -1;
	r = dir_step(st);
	*peak_r = r == DIR_ROW ? (uint64_t)dir_int64(st, 0) : 0;
	dir_finish(dir, st);
	return r == DIR_ROW ? 0 : -1;
}

int directory_send_rcpt_known(struct directory *dir, const char *address, const char *rcpt,
			      int64_t since)
{
	char ts[32];
	struct dir_stmt *st;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)since);
	st = dir_prepare(dir, "SELECT 1 FROM send_rcpts WHERE address = lower(?) AND rcpt = lower(?)"
			 " AND last >= ?", address, rcpt, ts, NULL);
	if (st == NULL)
		return -1;
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_hold_get(struct directory *dir, const char *address, struct dir_hold *hold_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT address, since, reason, detail, lifted, lifted_by"
				       " FROM send_holds WHERE address = lower(?)", address, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		col_text(st, 0, hold_r->address, sizeof(hold_r->address));
		hold_r->since = dir_int64(st, 1);
		col_text(st, 2, hold_r->reason, sizeof(hold_r->reason));
		col_text(st, 3, hold_r->detail, sizeof(hold_r->detail));
		hold_r->lifted = dir_int64(st, 4);
		col_text(st, 5, hold_r->lifted_by, sizeof(hold_r->lifted_by));
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_hold_set(struct directory *dir, const char *address, int64_t since, const char *reason,
		       const char *detail, const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)since);
	return dir_run(dir, dir_prepare(dir,
		"INSERT INTO send_holds(address, since, reason, detail, lifted, lifted_by)"
		" VALUES (lower(?), ?, ?, ?, 0, '') ON CONFLICT(address) DO UPDATE SET"
		" since = excluded.since, reason = excluded.reason, detail = excluded.detail,"
		" lifted = 0, lifted_by = ''", address, ts, reason, detail, NULL), error_r);
}

int directory_hold_lift(struct directory *dir, const char *address, const char *by,
			const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_change_one(dir, dir_prepare(dir, "UPDATE send_holds SET lifted = ?, lifted_by = ?"
					      " WHERE address = lower(?) AND lifted = 0", ts, by, address, NULL),
			      error_r);
}

int directory_hold_list(struct directory *dir, dir_hold_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT address, since, reason, detail, lifted, lifted_by"
				       " FROM send_holds WHERE lifted = 0 ORDER BY since, address", NULL);
	struct dir_hold h;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		col_text(st, 0, h.address, sizeof(h.address));
		h.since = dir_int64(st, 1);
		col_text(st, 2, h.reason, sizeof(h.reason));
		col_text(st, 3, h.detail, sizeof(h.detail));
		h.lifted = dir_int64(st, 4);
		col_text(st, 5, h.lifted_by, sizeof(h.lifted_by));
		cb(&h, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_batv_key(struct directory *dir, const char *domain, unsigned keynum, bool create,
		       char *hex_r, size_t size)
{
	char num[8], secret[65], ts[32];
	struct dir_stmt *st;
	const char *error;
	int r;

	snprintf(num, sizeof(num), "%u", keynum);
	for (int attempt = 0; attempt < 2; attempt++) {
		st = dir_prepare(dir, "SELECT secret FROM batv_keys WHERE domain = lower(?) AND keynum = ?",
				 domain, num, NULL);
		if (st == NULL)
			return -1;
		r = dir_step(st);
		if (r == DIR_ROW)
			col_text(st, 0, hex_r, size);
		dir_finish(dir, st);
		if (r == DIR_ROW)
			return 1;
		if (r != DIR_DONE)
			return -1;
		if (!create || attempt > 0)
			return 0;
		{
			unsigned char raw[32];
			FILE *f = fopen("/dev/urandom", "rb");

			if (f == NULL || fread(raw, 1, sizeof(raw), f) != sizeof(raw)) {
				if (f != NULL)
					fclose(f);
				return -1;
			}
			fclose(f);
			for (size_t i = 0; i < sizeof(raw); i++)
				snprintf(secret + 2 * i, 3, "%02x", raw[i]);
			explicit_bzero(raw, sizeof(raw));
		}
		snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
		/* Another process may have made it meanwhile: keep theirs. */
		if (dir_run(dir, dir_prepare(dir, "INSERT INTO batv_keys(domain, keynum, secret, created)"
					     " VALUES (lower(?), ?, ?, ?) ON CONFLICT DO NOTHING", domain, num, secret, ts,
					     NULL), &error) < 0)
			return -1;
		explicit_bzero(secret, sizeof(secret));
	}
	return 0;
}

int directory_event_since(struct directory *dir, const char *address, const char *kind, int64_t since,
			  dir_event_cb *cb, void *ctx)
{
	struct dir_stmt *st;
	struct dir_event e;
	int r;

	/* Newest first through the (address, kind, id) index (or (kind, id)
	 * when address is NULL), stopping at the first older event: cost
	 * follows the events of that kind in the window, not the history. */
	st = address != NULL
		? dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE address = lower(?) AND kind = ? ORDER BY id DESC", address, kind, NULL)
		: dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE kind = ? ORDER BY id DESC", kind, NULL);
	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		if (dir_int64(st, 1) < since) {
			r = DIR_DONE;
			break;
		}
		event_from_row(st, &e);
		cb(&e, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

/* ---- GeoIP overrides, login blocks and known login addresses (issue 5) ---- */

int directory_geoip_override_add(struct directory *dir, const char *cidr, const char *country,
				 const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT INTO geoip_overrides(cidr, country, created)"
					" VALUES (?, upper(?), ?) ON CONFLICT(cidr) DO UPDATE SET"
					" country = excluded.country, created = excluded.created", cidr, country, ts, NULL), error_r);
}

int directory_geoip_override_del(struct directory *dir, const char *cidr, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM geoip_overrides WHERE cidr = ?", cidr, NULL),
			      error_r);
}

int directory_geoip_override_list(struct directory *dir, dir_override_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT cidr, country, created FROM geoip_overrides"
				       " ORDER BY cidr", NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb((const char *)dir_text(st, 0), (const char *)dir_text(st, 1),
		   dir_int64(st, 2), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

static void auth_block_from_row(struct dir_stmt *st, struct dir_auth_block *b)
{
	col_text(st, 0, b->key, sizeof(b->key));
	col_text(st, 1, b->kind, sizeof(b->kind));
	b->since = dir_int64(st, 2);
	b->until = dir_int64(st, 3);
	b->failures = (unsigned)dir_int64(st, 4);
	col_text(st, 5, b->detail, sizeof(b->detail));
}

int directory_auth_block_set(struct directory *dir, const struct dir_auth_block *b, const char **error_r)
{
	char since[32], until[32], failures[32];

	snprintf(since, sizeof(since), "%lld", (long long)b->since);
	snprintf(until, sizeof(until), "%lld", (long long)b->until);
	snprintf(failures, sizeof(failures), "%u", b->failures);
	return dir_run(dir, dir_prepare(dir, "INSERT INTO auth_blocks(key, kind, since, until, failures,"
					" detail) VALUES (lower(?), ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
					" kind = excluded.kind, since = excluded.since, until = excluded.until,"
					" failures = excluded.failures, detail = excluded.detail", b->key, b->kind,
					since, until, failures, b->detail, NULL), error_r);
}

int directory_auth_block_get(struct directory *dir, const char *key, struct dir_auth_block *b_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT key, kind, since, until, failures, detail"
				       " FROM auth_blocks WHERE key = lower(?)", key, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		auth_block_from_row(st, b_r);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_auth_block_del(struct directory *dir, const char *key, const char **error_r)
{
	int r = dir_change_one(dir, dir_prepare(dir, "DELETE FROM auth_blocks WHERE key = lower(?)", key, NULL),
			       error_r);
	const char *error;

	/* An unblocked key starts counting afresh on every node. */
	if (r > 0)
		dir_run(dir, dir_prepare(dir, "DELETE FROM auth_counters WHERE key = lower(?)", key, NULL), &error);
	return r;
}

int directory_auth_block_list(struct directory *dir, int64_t now, dir_auth_block_cb *cb, void *ctx)
{
	char ts[32];
	struct dir_stmt *st;
	struct dir_auth_block b;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	st = dir_prepare(dir, "SELECT key, kind, since, until, failures, detail FROM auth_blocks"
			 " WHERE until > ? ORDER BY since", ts, NULL);
	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		auth_block_from_row(st, &b);
		cb(&b, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_auth_known_get(struct directory *dir, const char *address, const char *net, int64_t *last_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT last FROM auth_known WHERE address = lower(?) AND net = ?",
				       address, net, NULL);
	int r;

	*last_r = 0;
	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		*last_r = dir_int64(st, 0);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_auth_known_touch(struct directory *dir, const char *address, const char *net, int64_t now)
{
	char ts[32], old[32];
	const char *error;

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	snprintf(old, sizeof(old), "%lld", (long long)(now - 90LL * 86400));
	if (dir_run(dir, dir_prepare(dir, "INSERT INTO auth_known(address, net, last)"
				     " VALUES (lower(?), ?, ?) ON CONFLICT(address, net) DO UPDATE SET"
				     " last = excluded.last", address, net, ts, NULL), &error) < 0)
		return -1;
	/* Forget addresses not used for 90 days, now and then. */
	if (now % 64 == 0)
		dir_run(dir, dir_prepare(dir, "DELETE FROM auth_known WHERE last < ?", old, NULL), &error);
	return 0;
}

int directory_auth_counter_get(struct directory *dir, const char *key, struct dir_auth_counter *c_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT bucket, cur, prev, last, throttled, blocks, last_block"
					  " FROM auth_counters WHERE key = lower(?)", key, NULL);
	int r;

	memset(c_r, 0, sizeof(*c_r));
	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		c_r->bucket = dir_int64(st, 0);
		c_r->cur = (unsigned)dir_int64(st, 1);
		c_r->prev = (unsigned)dir_int64(st, 2);
		c_r->last = dir_int64(st, 3);
		c_r->throttled = dir_int64(st, 4) != 0;
		c_r->blocks = (unsigned)dir_int64(st, 5);
		c_r->last_block = dir_int64(st, 6);
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_auth_counter_set(struct directory *dir, const char *key, const struct dir_auth_counter *c)
{
	struct dir_stmt *st;
	const char *error;
	int r;

	if (c->last == 0)
		return dir_run(dir, dir_prepare(dir, "DELETE FROM auth_counters WHERE key = lower(?)", key, NULL),
			       &error);
	st = dir_prepare(dir, "INSERT INTO auth_counters(key, bucket, cur, prev, last, throttled, blocks,"
			 " last_block) VALUES (lower(?), ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
			 " bucket = excluded.bucket, cur = excluded.cur, prev = excluded.prev, last = excluded.last,"
			 " throttled = excluded.throttled, blocks = excluded.blocks,"
			 " last_block = excluded.last_block", key, NULL);
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 2, c->bucket);
	dir_bind_int64(st, 3, c->cur);
	dir_bind_int64(st, 4, c->prev);
	dir_bind_int64(st, 5, c->last);
	dir_bind_int64(st, 6, c->throttled ? 1 : 0);
	dir_bind_int64(st, 7, c->blocks);
	dir_bind_int64(st, 8, c->last_block);
	r = dir_step(st);
	dir_finish(dir, st);
	if (r != DIR_DONE)
		return -1;
	/* Forget keys quiet for two days, now and then. */
	if (c->last % 64 == 0) {
		char old[32];

		snprintf(old, sizeof(old), "%lld", (long long)(c->last - 2 * 86400));
		dir_run(dir, dir_prepare(dir, "DELETE FROM auth_counters WHERE last < ?", old, NULL), &error);
	}
	return 0;
}

/* ---- host names and certificate state (issue 15) ---- */

int directory_hostname_add(struct directory *dir, const char *domain, const char *name,
			   const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT INTO host_names(name, domain, created)"
					" VALUES (lower(?), lower(?), ?)", name, domain, ts, NULL), error_r);
}

int directory_hostname_del(struct directory *dir, const char *name, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM host_names WHERE name = lower(?)", name, NULL),
			      error_r);
}

int directory_hostname_list(struct directory *dir, const char *domain, dir_hostname_cb *cb, void *ctx)
{
	struct dir_stmt *st = domain != NULL
		? dir_prepare(dir, "SELECT domain, name FROM host_names WHERE domain = lower(?)"
			      " ORDER BY name", domain, NULL)
		: dir_prepare(dir, "SELECT domain, name FROM host_names ORDER BY domain, name", NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb((const char *)dir_text(st, 0), (const char *)dir_text(st, 1), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_cert_state_get(struct directory *dir, const char *name, struct dir_cert_state *s_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT name, source, failures, next_try, day, orders,"
				       " last_error, updated FROM cert_state WHERE name = lower(?)", name, NULL);
	int r;

	memset(s_r, 0, sizeof(*s_r));
	str_copy(s_r->name, sizeof(s_r->name), name);
	str_copy(s_r->source, sizeof(s_r->source), "acme");
	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		col_text(st, 0, s_r->name, sizeof(s_r->name));
		col_text(st, 1, s_r->source, sizeof(s_r->source));
		s_r->failures = (unsigned)dir_int64(st, 2);
		s_r->next_try = dir_int64(st, 3);
		s_r->day = dir_int64(st, 4);
		s_r->orders = (unsigned)dir_int64(st, 5);
		col_text(st, 6, s_r->last_error, sizeof(s_r->last_error));
		s_r->updated = dir_int64(st, 7);
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_cert_state_set(struct directory *dir, const struct dir_cert_state *s, const char **error_r)
{
	char failures[32], next_try[32], day[32], orders[32], updated[32];

	snprintf(failures, sizeof(failures), "%u", s->failures);
	snprintf(next_try, sizeof(next_try), "%lld", (long long)s->next_try);
	snprintf(day, sizeof(day), "%lld", (long long)s->day);
	snprintf(orders, sizeof(orders), "%u", s->orders);
	snprintf(updated, sizeof(updated), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT INTO cert_state(name, source, failures, next_try, day,"
					" orders, last_error, updated) VALUES (lower(?), ?, ?, ?, ?, ?, ?, ?)"
					" ON CONFLICT(name) DO UPDATE SET source = excluded.source,"
					" failures = excluded.failures, next_try = excluded.next_try, day = excluded.day,"
					" orders = excluded.orders, last_error = excluded.last_error,"
					" updated = excluded.updated", s->name, s->source,
					failures, next_try, day, orders, s->last_error, updated, NULL),
		       error_r);
}
