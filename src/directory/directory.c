/* The directory's queries, written once for both backends (SQLite's
 * placeholders and the SQL both dialects share) over the thin SQL layer
 * of dir_sql.h. The backend is chosen by where directory_open points. */
#include "directory/directory.h"
#include "directory/dir_cache.h"
#include "directory/dir_sql.h"
#include "directory/validate.h"
#include "lib/str.h"

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

bool directory_where_is_pg(const char *where)
{
	return dir_dialect_is_pg(where);
}

static void memo_clear(struct dir_settings_memo *m);

void directory_close(struct directory *dir)
{
	if (dir == NULL)
		return;
	if (dir->memo != NULL)
		memo_clear(dir->memo);
	free(dir->memo);
	dir->be->close(dir->db);
	free(dir);
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
	if (dir->memo != NULL)
		memo_clear(dir->memo);
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
	dir_col_text(st, 1, d->name, sizeof(d->name));
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

int directory_domain_exists(struct directory *dir, const char *name)
{
	struct dir_domain d;
	struct dir_stmt *st;
	int r;

	if (dir_cached(dir))
		return directory_domain_get(dir, name, &d);	/* cached: counted once per TTL */
	st = dir_prepare(dir, "SELECT 1 FROM domains WHERE name = lower(?)", name, NULL);
	if (st == NULL)
		return -1;
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
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
	dir_col_text(st, 1, a->address, sizeof(a->address));
	dir_col_text(st, 2, a->local, sizeof(a->local));
	dir_col_text(st, 3, a->domain, sizeof(a->domain));
	a->quota_mb = (unsigned)(int)dir_int64(st, 4);
	dir_col_text(st, 5, a->memo, sizeof(a->memo));
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
		dir_col_text(st, 8, hash_r, hash_size);
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
int dir_like_contains(const char *q, char *out, size_t size)
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
	if (q != NULL && q[0] != '\0' && dir_like_contains(q, pattern, sizeof(pattern)) < 0)
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
						name, NULL), error_r) < 0 ||
		       dir_run(dir, dir_prepare(dir, "DELETE FROM abuse_counts WHERE address = lower(?)",
						name, NULL), error_r) < 0 ? -1 : 0;
	return dir_run(dir, dir_prepare(dir, "DELETE FROM batv_keys WHERE domain = lower(?)", name, NULL),
		       error_r);
}

static int dir_setting_read(struct directory *dir, const char *scope, const char *name,
			    const char *key, char *value_r, size_t size)
{
	return dir_one_text(dir, dir_prepare(dir, "SELECT value FROM settings"
		" WHERE scope = ? AND name = lower(?) AND key = ?", scope, name, key, NULL), value_r, size);
}

/* ---- the settings memo of a batch (directory_settings_batch_begin) ---- */

#define MEMO_NAMES 4	/* the account, its domain, and room for more */

struct memo_name {
	char scope[16];
	char name[DIR_ADDRESS_MAX + 1];	/* in lower case, as the rows are */
	char *kv;	/* "key\0value\0" for each of its rows */
	size_t len;
};

struct dir_settings_memo {
	unsigned depth;
	size_t used;
	struct memo_name names[MEMO_NAMES];
};

static void memo_clear(struct dir_settings_memo *m)
{
	for (size_t i = 0; i < m->used; i++)
		free(m->names[i].kv);
	m->used = 0;
}

void directory_settings_batch_begin(struct directory *dir)
{
	if (dir->memo == NULL && (dir->memo = calloc(1, sizeof(*dir->memo))) == NULL)
		return;	/* no memo: every key is read on its own */
	dir->memo->depth++;
}

void directory_settings_batch_end(struct directory *dir)
{
	if (dir->memo == NULL || dir->memo->depth == 0)
		return;
	if (--dir->memo->depth == 0)
		memo_clear(dir->memo);
}

/* Reads every row of scope/name into the next free slot: the slot, or NULL
 * (-1 in *r on a database error). */
static struct memo_name *memo_load(struct directory *dir, struct dir_settings_memo *m, const char *scope,
				   const char *lname, int *r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT key, value FROM settings WHERE scope = ? AND name = lower(?)",
					  scope, lname, NULL);
	struct memo_name *e = &m->names[m->used];
	size_t cap = 0;
	int step;

	*r = 0;
	if (st == NULL) {
		*r = -1;
		return NULL;
	}
	e->kv = NULL;
	e->len = 0;
	while ((step = dir_step(st)) == DIR_ROW) {
		const char *k = dir_text(st, 0), *v = dir_text(st, 1);
		size_t kl = strlen(k != NULL ? k : "") + 1, vl = strlen(v != NULL ? v : "") + 1;

		if (e->len + kl + vl > cap) {
			size_t ncap = (e->len + kl + vl) * 2;
			char *grown = realloc(e->kv, ncap);

			if (grown == NULL) {
				step = DIR_ERROR;
				break;
			}
			e->kv = grown;
			cap = ncap;
		}
		memcpy(e->kv + e->len, k != NULL ? k : "", kl);
		memcpy(e->kv + e->len + kl, v != NULL ? v : "", vl);
		e->len += kl + vl;
	}
	dir_finish(dir, st);
	if (step != DIR_DONE) {
		free(e->kv);
		*r = -1;
		return NULL;
	}
	str_copy(e->scope, sizeof(e->scope), scope);
	str_copy(e->name, sizeof(e->name), lname);
	m->used++;
	return e;
}

/* The value of key from the memo: 1 found, 0 unset, -1 error, -2 not
 * memoised (the caller reads it on its own). */
static int memo_get(struct directory *dir, const char *scope, const char *name, const char *key,
		    char *value_r, size_t size)
{
	struct dir_settings_memo *m = dir->memo;
	char lname[DIR_ADDRESS_MAX + 1];
	struct memo_name *e = NULL;
	int r;

	if (m == NULL || m->depth == 0 || dir_cached(dir) || scope == NULL || name == NULL || key == NULL ||
	    strlen(scope) >= sizeof(e->scope) || str_copy(lname, sizeof(lname), name) < 0)
		return -2;
	str_lower(lname);
	for (size_t i = 0; i < m->used && e == NULL; i++) {
		if (strcmp(m->names[i].scope, scope) == 0 && strcmp(m->names[i].name, lname) == 0)
			e = &m->names[i];
	}
	if (e == NULL) {
		if (m->used == MEMO_NAMES)
			return -2;
		if ((e = memo_load(dir, m, scope, lname, &r)) == NULL)
			return r < 0 ? -1 : -2;
	}
	for (size_t off = 0; off < e->len;) {
		const char *k = e->kv + off, *v = k + strlen(k) + 1;

		if (strcmp(k, key) == 0) {
			if (str_copy(value_r, size, v) < 0)
				value_r[0] = '\0';
			return 1;
		}
		off = (size_t)(v + strlen(v) + 1 - e->kv);
	}
	return 0;
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
	int r = memo_get(dir, scope, name, key, value_r, size);

	if (r != -2)
		return r;
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
void dir_event_from_row(struct dir_stmt *st, struct dir_event *e)
{
	e->id = dir_int64(st, 0);
	e->ts = dir_int64(st, 1);
	dir_col_text(st, 2, e->kind, sizeof(e->kind));
	dir_col_text(st, 3, e->address, sizeof(e->address));
	dir_col_text(st, 4, e->ip, sizeof(e->ip));
	dir_col_text(st, 5, e->detail, sizeof(e->detail));
}

/* Hands each row of st (event columns, as above) to cb, then finishes st.
 * 0, or -1 on a database error. */
static int events_each(struct directory *dir, struct dir_stmt *st, dir_event_cb *cb, void *ctx)
{
	struct dir_event e;
	int r;

	while ((r = dir_step(st)) == DIR_ROW) {
		dir_event_from_row(st, &e);
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
	dir_col_text(st, 2, a->actor, sizeof(a->actor));
	dir_col_text(st, 3, a->ip, sizeof(a->ip));
	dir_col_text(st, 4, a->op, sizeof(a->op));
	dir_col_text(st, 5, a->target, sizeof(a->target));
	dir_col_text(st, 6, a->summary, sizeof(a->summary));
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
