#include "directory/directory.h"
#include "directory/validate.h"
#include "directory/dir_internal.h"
#include "lib/str.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prepared statements are kept per connection, one per distinct SQL text
 * (dir_prepare/dir_finish): preparing costs more than running most lookups. */
#define DIR_STMT_SLOTS 64

struct dir_stmt {
	const char *sql;	/* the caller's string literal; NULL: slot free */
	sqlite3_stmt *st;
	bool busy;		/* handed out and not yet finished */
};

struct directory {
	sqlite3 *db;
	struct dir_stmt stmts[DIR_STMT_SLOTS];
};

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS domains ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS accounts ("
	" id INTEGER PRIMARY KEY,"
	" domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	" local TEXT NOT NULL,"
	" address TEXT NOT NULL UNIQUE,"
	" password TEXT NOT NULL,"
	" quota_mb INTEGER NOT NULL DEFAULT 2000,"
	" memo TEXT NOT NULL DEFAULT '',"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS accounts_domain ON accounts(domain_id);"
	"CREATE TABLE IF NOT EXISTS settings ("
	" scope TEXT NOT NULL,"		/* 'domain' or 'account' */
	" name TEXT NOT NULL,"		/* domain name or address */
	" key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (scope, name, key));"
	"CREATE TABLE IF NOT EXISTS events ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" address TEXT NOT NULL DEFAULT '',"
	" ip TEXT NOT NULL DEFAULT '',"
	" detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS events_address ON events(address, id);";

/* v2 (issue 5, sending limits and abuse): recipients sent per account and
 * minute (kept 8 days), recipients written to (30 days), suspensions of
 * sending, and the per-domain BATV keys. */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS send_counts ("
	" address TEXT NOT NULL,"
	" minute INTEGER NOT NULL,"	/* unix time / 60 */
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (address, minute)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS send_rcpts ("
	" address TEXT NOT NULL,"
	" rcpt TEXT NOT NULL,"
	" last INTEGER NOT NULL,"
	" PRIMARY KEY (address, rcpt)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS send_holds ("
	" address TEXT PRIMARY KEY,"
	" since INTEGER NOT NULL,"
	" reason TEXT NOT NULL,"
	" detail TEXT NOT NULL DEFAULT '',"
	" lifted INTEGER NOT NULL DEFAULT 0,"	/* 0 while suspended */
	" lifted_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS batv_keys ("
	" domain TEXT NOT NULL,"
	" keynum INTEGER NOT NULL,"
	" secret TEXT NOT NULL,"		/* hex */
	" created INTEGER NOT NULL,"
	" PRIMARY KEY (domain, keynum));";

/* v3 (issue 5, foreign-access restriction and brute-force defence): the
 * operator's GeoIP overrides, blocked addresses and slowed accounts, and
 * the addresses each account has logged in from. */
static const char schema_v3[] =
	"CREATE TABLE IF NOT EXISTS geoip_overrides ("
	" cidr TEXT PRIMARY KEY,"		/* canonical: 192.0.2.0/24 */
	" country TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS auth_blocks ("
	" key TEXT PRIMARY KEY,"		/* an address (IPv6: /64) or an account */
	" kind TEXT NOT NULL,"			/* 'ip' or 'account' */
	" since INTEGER NOT NULL,"
	" until INTEGER NOT NULL,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" detail TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS auth_known ("
	" address TEXT NOT NULL,"
	" net TEXT NOT NULL,"
	" last INTEGER NOT NULL,"
	" PRIMARY KEY (address, net)) WITHOUT ROWID;";

/* v4 (issue 11, the shared operations layer): the audit log of every
 * change, the administrators and the API tokens (only a hash of each
 * token's secret is kept). */
static const char schema_v4[] =
	"CREATE TABLE IF NOT EXISTS audit ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"			/* 'cli:root', 'admin:alice', 'user:a@b' */
	" ip TEXT NOT NULL DEFAULT '',"
	" op TEXT NOT NULL,"			/* 'account.add' */
	" target TEXT NOT NULL DEFAULT '',"
	" summary TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS audit_target ON audit(target, id);"
	"CREATE TABLE IF NOT EXISTS admins ("
	" name TEXT PRIMARY KEY,"
	" password TEXT NOT NULL,"
	" role TEXT NOT NULL,"			/* 'server' or 'domain' */
	" domains TEXT NOT NULL DEFAULT '',"	/* comma-separated */
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS api_tokens ("
	" id TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL,"			/* hex SHA-256 of the secret */
	" role TEXT NOT NULL,"
	" domains TEXT NOT NULL DEFAULT '',"
	" expires INTEGER NOT NULL DEFAULT 0,"	/* 0: never */
	" created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL DEFAULT 0,"
	" revoked INTEGER NOT NULL DEFAULT 0);";

/* v5 (issue 11, the web panels): browser sessions. Only a hash of the
 * cookie's id is kept, so a copy of the database logs no one in. */
static const char schema_v5[] =
	"CREATE TABLE IF NOT EXISTS sessions ("
	" hash TEXT PRIMARY KEY,"		/* hex SHA-256 of the cookie's id */
	" role TEXT NOT NULL,"			/* 'admin', 'domain_admin' or 'user' */
	" name TEXT NOT NULL,"			/* administrator name or address */
	" domains TEXT NOT NULL DEFAULT '',"	/* a domain administrator's, comma-separated */
	" csrf TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" ip TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS sessions_name ON sessions(name);";

/* A domain's accounts in address order straight from the index: a page of
 * the panel's list costs its rows, not a sort of the whole domain. */
static const char schema_v6[] =
	"CREATE INDEX IF NOT EXISTS accounts_domain_address ON accounts(domain_id, address);"
	"DROP INDEX IF EXISTS accounts_domain;";

/* The spam filter's allow and block lists, per domain and per account
 * (scope as in settings); kind 'allow' or 'block'. */
static const char schema_v7[] =
	"CREATE TABLE IF NOT EXISTS spam_lists ("
	" scope TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" pattern TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY (scope, name, kind, pattern)) WITHOUT ROWID;";

/* Certificates (issue 15): host names an administrator added to a domain
 * (besides mail., autoconfig. and mta-sts.), and per host name where its
 * certificate comes from and the ACME client's retry state. */
static const char schema_v8[] =
	"CREATE TABLE IF NOT EXISTS host_names ("
	" name TEXT PRIMARY KEY,"
	" domain TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cert_state ("
	" name TEXT PRIMARY KEY,"
	" source TEXT NOT NULL DEFAULT 'acme',"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL DEFAULT 0,"
	" day INTEGER NOT NULL DEFAULT 0,"
	" orders INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" updated INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

/* doctor (issue 15 §4): one kind of an address's events, and one kind of
 * every address's (SNI misses, relay refusals), newest first from an
 * index, so a question costs the events in its window, not a year's. */
static const char schema_v9[] =
	"CREATE INDEX IF NOT EXISTS events_address_kind ON events(address, kind, id);"
	"CREATE INDEX IF NOT EXISTS events_kind ON events(kind, id);";

/* Scale-out (issue 16 §2): the mail nodes and each account's home node
 * (NULL: this machine, the single-node mode). */
static const char schema_v11[] =
	"CREATE TABLE IF NOT EXISTS nodes ("
	" name TEXT PRIMARY KEY,"
	" imap TEXT NOT NULL DEFAULT '',"	/* host:port of each service */
	" pop3 TEXT NOT NULL DEFAULT '',"
	" lmtp TEXT NOT NULL DEFAULT '',"
	" http TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL DEFAULT 'active',"	/* 'active' or 'draining' */
	" capacity_mb INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"ALTER TABLE accounts ADD COLUMN node TEXT DEFAULT NULL;"
	"CREATE INDEX IF NOT EXISTS accounts_node ON accounts(node);";

/* Each migration takes the schema from version - 1 to version. */
static const struct {
	int version;
	const char *sql;
} dir_migrations[] = {
	{ 1, schema_v1 },
	{ 2, schema_v2 },
	{ 3, schema_v3 },
	{ 4, schema_v4 },
	{ 5, schema_v5 },
	{ 6, schema_v6 },
	{ 7, schema_v7 },
	{ 8, schema_v8 },
	{ 9, schema_v9 },
	{ 11, schema_v11 },
};

/* Which migrations a database has: a table of their numbers, so one added
 * later with a lower number (branches numbering in parallel) still runs.
 * A database made before the table knew only user_version: every
 * migration up to it counts as applied. */
static int dir_migrations_known(struct directory *dir, int user_version, char **errmsg)
{
	sqlite3_stmt *st;
	bool empty = true;

	if (sqlite3_exec(dir->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version INTEGER PRIMARY KEY)", NULL, NULL, errmsg) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(dir->db, "SELECT 1 FROM schema_migrations LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	empty = sqlite3_step(st) != SQLITE_ROW;
	sqlite3_finalize(st);
	for (size_t m = 0; empty && m < sizeof(dir_migrations) / sizeof(dir_migrations[0]); m++) {
		char sql[96];

		if (dir_migrations[m].version > user_version)
			break;
		snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations(version) VALUES (%d)",
			 dir_migrations[m].version);
		if (sqlite3_exec(dir->db, sql, NULL, NULL, errmsg) != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* Does the database keep the record already (the common open: no write
 * transaction needed)? */
static bool dir_migrations_recorded(struct directory *dir)
{
	sqlite3_stmt *st;
	bool found;

	if (sqlite3_prepare_v2(dir->db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
			       " AND name = 'schema_migrations'", -1, &st, NULL) != SQLITE_OK)
		return false;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static bool dir_migration_applied(struct directory *dir, int version)
{
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_prepare_v2(dir->db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int(st, 1, version);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

struct directory *directory_open(const char *path, char *err, size_t errsize)
{
	struct directory *dir = calloc(1, sizeof(*dir));
	char *errmsg = NULL;
	sqlite3_stmt *st;
	int version = 0;

	if (dir == NULL)
		return NULL;
	if (sqlite3_open_v2(path, &dir->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path, sqlite3_errmsg(dir->db));
		directory_close(dir);
		return NULL;
	}
	sqlite3_busy_timeout(dir->db, 5000);
	if (sqlite3_exec(dir->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 " PRAGMA foreign_keys=ON;", NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(dir->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (!dir_migrations_recorded(dir) &&
	    (sqlite3_exec(dir->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) != SQLITE_OK ||
	     dir_migrations_known(dir, version, &errmsg) < 0 ||
	     sqlite3_exec(dir->db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK)) {
		sqlite3_exec(dir->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	for (size_t m = 0; m < sizeof(dir_migrations) / sizeof(dir_migrations[0]); m++) {
		char bump[160];
		int top = dir_migrations[m].version > version ? dir_migrations[m].version : version;

		if (dir_migration_applied(dir, dir_migrations[m].version))
			continue;
		snprintf(bump, sizeof(bump), "INSERT INTO schema_migrations(version) VALUES (%d);"
			 " PRAGMA user_version=%d; COMMIT", dir_migrations[m].version, top);
		if (sqlite3_exec(dir->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) != SQLITE_OK)
			goto fail;
		if (dir_migration_applied(dir, dir_migrations[m].version)) {
			/* another process applied it meanwhile */
			sqlite3_exec(dir->db, "COMMIT", NULL, NULL, NULL);
			continue;
		}
		if (sqlite3_exec(dir->db, dir_migrations[m].sql, NULL, NULL, &errmsg) != SQLITE_OK ||
		    sqlite3_exec(dir->db, bump, NULL, NULL, &errmsg) != SQLITE_OK) {
			sqlite3_exec(dir->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		version = top;
	}
	return dir;
fail:
	snprintf(err, errsize, "%s: %s", path, errmsg != NULL ? errmsg : sqlite3_errmsg(dir->db));
	sqlite3_free(errmsg);
	directory_close(dir);
	return NULL;
}

void directory_close(struct directory *dir)
{
	if (dir == NULL)
		return;
	for (size_t i = 0; i < DIR_STMT_SLOTS; i++)
		sqlite3_finalize(dir->stmts[i].st);
	sqlite3_close(dir->db);
	free(dir);
}

static size_t dir_sql_hash(const char *sql)
{
	size_t h = 5381;

	for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
		h = h * 33 + *p;
	return h;
}

/* A statement for sql: the cached one when it is free, else a new one, kept
 * in the cache when there is room. NULL on failure. */
static sqlite3_stmt *dir_stmt_get(struct directory *dir, const char *sql)
{
	size_t start = dir_sql_hash(sql) % DIR_STMT_SLOTS;
	struct dir_stmt *slot = NULL;
	sqlite3_stmt *st;

	for (size_t n = 0; n < DIR_STMT_SLOTS; n++) {
		struct dir_stmt *e = &dir->stmts[(start + n) % DIR_STMT_SLOTS];

		if (e->sql == NULL) {
			slot = e;
			break;
		}
		if (e->sql == sql || strcmp(e->sql, sql) == 0) {
			if (e->busy)
				break;	/* in use further up the stack: a private one */
			e->busy = true;
			return e->st;
		}
	}
	if (sqlite3_prepare_v3(dir->db, sql, -1, slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0,
			       &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	if (slot != NULL) {
		slot->sql = sql;
		slot->st = st;
		slot->busy = true;
	}
	return st;
}

/* Ends the use of a statement from dir_prepare (instead of finalizing it). */
void dir_finish(struct directory *dir, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < DIR_STMT_SLOTS; i++) {
		if (dir->stmts[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			dir->stmts[i].busy = false;
			return;
		}
	}
	sqlite3_finalize(st);
}

/* Prepares sql and binds the given text arguments (NULL ends the list).
 * sql must stay valid while dir is open (a string literal); the statement
 * goes back with dir_finish. */
sqlite3_stmt *dir_prepare(struct directory *dir, const char *sql, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	const char *arg;
	int i = 1;

	st = dir_stmt_get(dir, sql);
	if (st == NULL)
		return NULL;
	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		sqlite3_bind_text(st, i++, arg, -1, SQLITE_TRANSIENT);
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows; -1 with a message on failure. */
int dir_run(struct directory *dir, sqlite3_stmt *st, const char **error_r)
{
	int r;

	if (st == NULL) {
		*error_r = "database error";
		return -1;
	}
	r = sqlite3_step(st);
	dir_finish(dir, st);
	if (r != SQLITE_DONE) {
		*error_r = r == SQLITE_CONSTRAINT ? "already exists" : "database error";
		return -1;
	}
	return 0;
}

/* Runs a change of one row: 1 changed, 0 no such row, -1 error. */
int dir_change_one(struct directory *dir, sqlite3_stmt *st, const char **error_r)
{
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	return sqlite3_changes(dir->db) > 0 ? 1 : 0;
}

void col_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (t == NULL || str_copy(buf, size, (const char *)t) < 0)
		buf[0] = '\0';
}

int directory_domain_add(struct directory *dir, const char *name, const char **error_r)
{
	sqlite3_stmt *st;
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
	return dir_run(dir, dir_prepare(dir, "DELETE FROM domains WHERE name = lower(?)", name, NULL), error_r);
}

static void domain_from_row(sqlite3_stmt *st, struct dir_domain *d)
{
	d->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, d->name, sizeof(d->name));
	d->created = sqlite3_column_int64(st, 2);
	d->accounts = (unsigned)sqlite3_column_int(st, 3);
}

#define DOMAIN_SELECT \
	"SELECT d.id, d.name, d.created, (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id)" \
	" FROM domains d"

int directory_domain_get(struct directory *dir, const char *name, struct dir_domain *domain_r)
{
	sqlite3_stmt *st = dir_prepare(dir, DOMAIN_SELECT " WHERE d.name = lower(?)", name, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		domain_from_row(st, domain_r);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_domain_list(struct directory *dir, dir_domain_cb *cb, void *ctx)
{
	sqlite3_stmt *st = dir_prepare(dir, DOMAIN_SELECT " ORDER BY d.name", NULL);
	struct dir_domain d;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		domain_from_row(st, &d);
		cb(&d, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* Without the password hash: only directory_account_get_auth reads it. */
#define ACCOUNT_COLUMNS "a.id, a.address, a.local, d.name, a.quota_mb, a.memo, a.enabled, a.created"
#define ACCOUNT_FROM " FROM accounts a JOIN domains d ON d.id = a.domain_id"
#define ACCOUNT_SELECT "SELECT " ACCOUNT_COLUMNS ACCOUNT_FROM

static void account_from_row(sqlite3_stmt *st, struct dir_account *a)
{
	a->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, a->address, sizeof(a->address));
	col_text(st, 2, a->local, sizeof(a->local));
	col_text(st, 3, a->domain, sizeof(a->domain));
	a->quota_mb = (unsigned)sqlite3_column_int(st, 4);
	col_text(st, 5, a->memo, sizeof(a->memo));
	a->enabled = sqlite3_column_int(st, 6) != 0;
	a->created = sqlite3_column_int64(st, 7);
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
		" SELECT id, ?, ?, ?, ?, ?, ? FROM domains WHERE name = ?",
		local, addr, password_hash, quota, memo != NULL ? memo : "", ts, domain, NULL), error_r);
	if (r < 0 && strcmp(*error_r, "already exists") == 0)
		*error_r = "the account already exists";
	return r;
}

/* Runs an UPDATE/DELETE on one account; "no such account" when it matched
 * nothing. */
static int dir_account_change(struct directory *dir, sqlite3_stmt *st, const char **error_r)
{
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	if (sqlite3_changes(dir->db) == 0) {
		*error_r = "no such account";
		return -1;
	}
	return 0;
}

int directory_account_del(struct directory *dir, const char *address, const char **error_r)
{
	return dir_account_change(dir, dir_prepare(dir,
		"DELETE FROM accounts WHERE address = lower(?)", address, NULL), error_r);
}

int directory_account_get(struct directory *dir, const char *address, struct dir_account *account_r)
{
	sqlite3_stmt *st = dir_prepare(dir, ACCOUNT_SELECT " WHERE a.address = lower(?)", address, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		account_from_row(st, account_r);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_account_get_auth(struct directory *dir, const char *address, struct dir_account *account_r,
			       char *hash_r, size_t hash_size)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT " ACCOUNT_COLUMNS ", a.password" ACCOUNT_FROM
				       " WHERE a.address = lower(?)", address, NULL);
	int r;

	if (hash_size > 0)
		hash_r[0] = '\0';
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		account_from_row(st, account_r);
		col_text(st, 8, hash_r, hash_size);
	}
	dir_finish(dir, st);	/* sqlite's copy of the row goes with the statement */
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_account_list(struct directory *dir, const char *domain, dir_account_cb *cb, void *ctx)
{
	sqlite3_stmt *st = domain != NULL
		? dir_prepare(dir, ACCOUNT_SELECT " WHERE d.name = lower(?) ORDER BY a.address", domain, NULL)
		: dir_prepare(dir, ACCOUNT_SELECT " ORDER BY a.address", NULL);
	struct dir_account a;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		account_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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
	" AND (?2 = '' OR a.address LIKE ?2 ESCAPE '\\' OR a.memo LIKE ?2 ESCAPE '\\')"

int directory_account_page(struct directory *dir, const char *domain, const char *q, size_t offset,
			   size_t limit, dir_account_cb *cb, void *ctx, size_t *total_r)
{
	char pattern[2 * 512 + 3] = "";
	sqlite3_stmt *st;
	struct dir_account a;
	int r;

	*total_r = 0;
	if (q != NULL && q[0] != '\0' && like_contains(q, pattern, sizeof(pattern)) < 0)
		return 0;	/* longer than any address or memo: nothing matches */
	st = dir_prepare(dir, "SELECT count(*) FROM accounts a" ACCOUNT_PAGE_WHERE, domain, pattern, NULL);
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*total_r = (size_t)sqlite3_column_int64(st, 0);
	dir_finish(dir, st);
	if (r != SQLITE_ROW)
		return -1;
	if (*total_r <= offset)
		return 0;
	st = dir_prepare(dir, ACCOUNT_SELECT ACCOUNT_PAGE_WHERE " ORDER BY a.address LIMIT ?3 OFFSET ?4",
			 domain, pattern, NULL);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
	sqlite3_bind_int64(st, 4, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		account_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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
	return dir_run(dir, dir_prepare(dir,
		"INSERT INTO settings(scope, name, key, value) VALUES (?, lower(?), ?, ?)"
		" ON CONFLICT(scope, name, key) DO UPDATE SET value = excluded.value",
		scope, name, key, value, NULL), error_r);
}

int directory_setting_unset(struct directory *dir, const char *scope, const char *name,
			    const char *key, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM settings WHERE scope = ? AND name = lower(?)"
					      " AND key = ?", scope, name, key, NULL), error_r);
}

int directory_setting_clear(struct directory *dir, const char *scope, const char *name,
			    const char **error_r)
{
	if (dir_run(dir, dir_prepare(dir, "DELETE FROM settings WHERE scope = ? AND name = lower(?)",
				     scope, name, NULL), error_r) < 0 ||
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

int directory_setting_get(struct directory *dir, const char *scope, const char *name,
			  const char *key, char *value_r, size_t size)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT value FROM settings"
		" WHERE scope = ? AND name = lower(?) AND key = ?", scope, name, key, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		col_text(st, 0, value_r, size);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_setting_list(struct directory *dir, const char *scope, const char *name,
			   dir_setting_cb *cb, void *ctx)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT key, value FROM settings"
		" WHERE scope = ? AND name = lower(?) ORDER BY key", scope, name, NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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
	sqlite3_stmt *st = kind != NULL
		? dir_prepare(dir, "SELECT kind, pattern, created FROM spam_lists WHERE scope = ?"
			      " AND name = lower(?) AND kind = ? ORDER BY kind, pattern", scope, name, kind, NULL)
		: dir_prepare(dir, "SELECT kind, pattern, created FROM spam_lists WHERE scope = ?"
			      " AND name = lower(?) ORDER BY kind, pattern", scope, name, NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (int64_t)sqlite3_column_int64(st, 2), ctx);
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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
static void event_from_row(sqlite3_stmt *st, struct dir_event *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	col_text(st, 2, e->kind, sizeof(e->kind));
	col_text(st, 3, e->address, sizeof(e->address));
	col_text(st, 4, e->ip, sizeof(e->ip));
	col_text(st, 5, e->detail, sizeof(e->detail));
}

/* Hands each row of st (event columns, as above) to cb, then finishes st.
 * 0, or -1 on a database error. */
static int events_each(struct directory *dir, sqlite3_stmt *st, dir_event_cb *cb, void *ctx)
{
	struct dir_event e;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		event_from_row(st, &e);
		cb(&e, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* Fills *a from a row of "SELECT id, ts, actor, ip, op, target, summary FROM audit". */
static void audit_from_row(sqlite3_stmt *st, struct dir_audit *a)
{
	a->id = sqlite3_column_int64(st, 0);
	a->ts = sqlite3_column_int64(st, 1);
	col_text(st, 2, a->actor, sizeof(a->actor));
	col_text(st, 3, a->ip, sizeof(a->ip));
	col_text(st, 4, a->op, sizeof(a->op));
	col_text(st, 5, a->target, sizeof(a->target));
	col_text(st, 6, a->summary, sizeof(a->summary));
}

/* Hands each row of st (audit columns, as above) to cb, then finishes st.
 * 0, or -1 on a database error. */
static int audit_each(struct directory *dir, sqlite3_stmt *st, dir_audit_cb *cb, void *ctx)
{
	struct dir_audit a;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		audit_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

int directory_event_list(struct directory *dir, const char *address, unsigned limit,
			 dir_event_cb *cb, void *ctx)
{
	sqlite3_stmt *st;

	st = address != NULL
		? dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " WHERE address = lower(?) ORDER BY id DESC LIMIT ?2", address, NULL)
		: dir_prepare(dir, "SELECT id, ts, kind, address, ip, detail FROM events"
			      " ORDER BY id DESC LIMIT ?2", NULL);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 2, limit);
	return events_each(dir, st, cb, ctx);
}

/* The domain of an event's address or an audit row's target: after the
 * '@' for an address, else the whole text (a domain's own rows). */
#define DIR_ROW_DOMAIN(col) "(CASE WHEN instr(" col ", '@') > 0 THEN substr(" col ", instr(" col ", '@') + 1)" \
	" ELSE " col " END)"
#define DIR_IN_LIST(param, expr) "(" param " = '' OR instr(',' || " param " || ',', ',' || " expr " || ',') > 0)"

static void dir_log_bind(sqlite3_stmt *st, const struct dir_log_filter *f)
{
	sqlite3_bind_text(st, 1, f->address != NULL ? f->address : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, f->domains != NULL ? f->domains : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, f->kinds != NULL ? f->kinds : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, f->since);
	sqlite3_bind_int64(st, 5, f->before);
	sqlite3_bind_int64(st, 6, f->limit);
	sqlite3_bind_text(st, 7, f->actor != NULL ? f->actor : "", -1, SQLITE_TRANSIENT);
}

int directory_event_query(struct directory *dir, const struct dir_log_filter *f, dir_event_cb *cb,
			  void *ctx)
{
	sqlite3_stmt *st;

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
	return sqlite3_exec(dir->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int directory_read_begin(struct directory *dir)
{
	if (!sqlite3_get_autocommit(dir->db))
		return -1;	/* inside a transaction already */
	return sqlite3_exec(dir->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void directory_read_end(struct directory *dir)
{
	if (!sqlite3_get_autocommit(dir->db))
		sqlite3_exec(dir->db, "COMMIT", NULL, NULL, NULL);
}

int directory_commit(struct directory *dir)
{
	return sqlite3_exec(dir->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void directory_rollback(struct directory *dir)
{
	sqlite3_exec(dir->db, "ROLLBACK", NULL, NULL, NULL);
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
	sqlite3_stmt *st;

	st = target != NULL
		? dir_prepare(dir, "SELECT id, ts, actor, ip, op, target, summary FROM audit"
			      " WHERE target = lower(?) OR target LIKE '%@' || lower(?)"
			      " ORDER BY id DESC LIMIT ?3", target, target, NULL)
		: dir_prepare(dir, "SELECT id, ts, actor, ip, op, target, summary FROM audit"
			      " ORDER BY id DESC LIMIT ?3", NULL);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 3, limit);
	return audit_each(dir, st, cb, ctx);
}

int directory_audit_query(struct directory *dir, const struct dir_log_filter *f, dir_audit_cb *cb,
			  void *ctx)
{
	sqlite3_stmt *st;

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
	sqlite3_stmt *st;
	char ts[32];
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	st = dir_prepare(dir, "INSERT INTO admins(name, password, role, domains, created)"
			 " VALUES (lower(?), ?, ?, ?, ?)", a->name, hash, a->role, a->domains, ts, NULL);
	if (st == NULL) {
		*error_r = "database error";
		return -1;
	}
	r = sqlite3_step(st);
	dir_finish(dir, st);
	if (r == SQLITE_CONSTRAINT) {
		*error_r = "exists";
		return -1;
	}
	if (r != SQLITE_DONE) {
		*error_r = "database error";
		return -1;
	}
	return 0;
}

static void admin_from_row(sqlite3_stmt *st, struct dir_admin *a)
{
	col_text(st, 0, a->name, sizeof(a->name));
	col_text(st, 1, a->role, sizeof(a->role));
	col_text(st, 2, a->domains, sizeof(a->domains));
	a->created = sqlite3_column_int64(st, 3);
}

int directory_admin_get_auth(struct directory *dir, const char *name, struct dir_admin *a_r,
			     char *hash_r, size_t hash_size)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT name, role, domains, created, password FROM admins"
				       " WHERE name = lower(?)", name, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		admin_from_row(st, a_r);
		col_text(st, 4, hash_r, hash_size);
	}
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
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
	sqlite3_stmt *st = dir_prepare(dir, "SELECT name, role, domains, created FROM admins"
				       " ORDER BY name", NULL);
	struct dir_admin a;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		admin_from_row(st, &a);
		cb(&a, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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

static void token_from_row(sqlite3_stmt *st, struct dir_token *t)
{
	col_text(st, 0, t->id, sizeof(t->id));
	col_text(st, 1, t->hash, sizeof(t->hash));
	col_text(st, 2, t->role, sizeof(t->role));
	col_text(st, 3, t->domains, sizeof(t->domains));
	t->expires = sqlite3_column_int64(st, 4);
	t->created = sqlite3_column_int64(st, 5);
	t->last_used = sqlite3_column_int64(st, 6);
	t->revoked = sqlite3_column_int64(st, 7) != 0;
}

int directory_token_get(struct directory *dir, const char *id, struct dir_token *t_r)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = ?",
				       id, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		token_from_row(st, t_r);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_token_list(struct directory *dir, dir_token_cb *cb, void *ctx)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT " TOKEN_COLUMNS " FROM api_tokens"
				       " ORDER BY created, id", NULL);
	struct dir_token t;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		token_from_row(st, &t);
		cb(&t, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
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
	sqlite3_stmt *st = dir_prepare(dir, "SELECT hash, role, name, domains, csrf, created, last_seen, ip"
				       " FROM sessions WHERE hash = ?", hash, NULL);
	int r;

	if (st == NULL)
		return -1;
	memset(s_r, 0, sizeof(*s_r));
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		col_text(st, 0, s_r->hash, sizeof(s_r->hash));
		col_text(st, 1, s_r->role, sizeof(s_r->role));
		col_text(st, 2, s_r->name, sizeof(s_r->name));
		col_text(st, 3, s_r->domains, sizeof(s_r->domains));
		col_text(st, 4, s_r->csrf, sizeof(s_r->csrf));
		s_r->created = sqlite3_column_int64(st, 5);
		s_r->last_seen = sqlite3_column_int64(st, 6);
		col_text(st, 7, s_r->ip, sizeof(s_r->ip));
	}
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
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
		return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE name = ? COLLATE NOCASE"
						" AND role = 'user' AND hash <> ?", name,
						keep_hash != NULL ? keep_hash : "", NULL), &error);
	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE name = lower(?) AND role <> 'user'"
					" AND hash <> ?", name, keep_hash != NULL ? keep_hash : "", NULL),
		       &error);
}

int directory_session_revoke_domain(struct directory *dir, const char *domain)
{
	const char *error;
	char pattern[DIR_DOMAIN_MAX + 3];

	snprintf(pattern, sizeof(pattern), "*@%s", domain);
	return dir_run(dir, dir_prepare(dir, "DELETE FROM sessions WHERE role = 'user' AND lower(name)"
					" GLOB lower(?)", pattern, NULL), &error);
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
	sqlite3_stmt *up = NULL, *rc = NULL;
	int ok = 1;

	if (sqlite3_exec(dir->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(dir->db, "INSERT INTO send_counts(address, minute, count) VALUES (?, ?, ?)"
			       " ON CONFLICT(address, minute) DO UPDATE SET count = count + excluded.count",
			       -1, &up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(dir->db, "INSERT INTO send_rcpts(address, rcpt, last) VALUES (?, ?, ?)"
			       " ON CONFLICT(address, rcpt) DO UPDATE SET last = max(last, excluded.last)",
			       -1, &rc, NULL) != SQLITE_OK)
		ok = 0;
	for (size_t i = 0; ok && i < ncounts; i++) {
		sqlite3_bind_text(up, 1, counts[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, counts[i].minute);
		sqlite3_bind_int64(up, 3, counts[i].count);
		ok = sqlite3_step(up) == SQLITE_DONE;
		sqlite3_reset(up);
	}
	for (size_t i = 0; ok && i < nrcpts; i++) {
		sqlite3_bind_text(rc, 1, rcpts[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_text(rc, 2, rcpts[i].rcpt, -1, SQLITE_STATIC);
		sqlite3_bind_int64(rc, 3, rcpts[i].ts);
		ok = sqlite3_step(rc) == SQLITE_DONE;
		sqlite3_reset(rc);
	}
	sqlite3_finalize(up);
	sqlite3_finalize(rc);
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
	if (sqlite3_exec(dir->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return ok ? 0 : -1;
}

int directory_send_counts_load(struct directory *dir, const char *address, int64_t since_minute,
			       dir_send_count_cb *cb, void *ctx)
{
	char m[32];
	sqlite3_stmt *st;
	int r;

	snprintf(m, sizeof(m), "%lld", (long long)since_minute);
	st = dir_prepare(dir, "SELECT minute, count FROM send_counts WHERE address = lower(?)"
			 " AND minute >= ? ORDER BY minute", address, m, NULL);
	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb(sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1), ctx);
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

int directory_send_peak_hour(struct directory *dir, const char *address, int64_t from_minute,
			     int64_t to_minute, uint64_t *peak_r)
{
	char f[32], t[32];
	sqlite3_stmt *st;
	int r;

	snprintf(f, sizeof(f), "%lld", (long long)from_minute);
	snprintf(t, sizeof(t), "%lld", (long long)to_minute);
	st = dir_prepare(dir, "SELECT coalesce(max(s), 0) FROM (SELECT sum(count) AS s FROM send_counts"
			 " WHERE address = lower(?) AND minute >= ? AND minute < ? GROUP BY minute / 60)",
			 address, f, t, NULL);
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	*peak_r = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 0 : -1;
}

int directory_send_rcpt_known(struct directory *dir, const char *address, const char *rcpt,
			      int64_t since)
{
	char ts[32];
	sqlite3_stmt *st;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)since);
	st = dir_prepare(dir, "SELECT 1 FROM send_rcpts WHERE address = lower(?) AND rcpt = lower(?)"
			 " AND last >= ?", address, rcpt, ts, NULL);
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_hold_get(struct directory *dir, const char *address, struct dir_hold *hold_r)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT address, since, reason, detail, lifted, lifted_by"
				       " FROM send_holds WHERE address = lower(?)", address, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		col_text(st, 0, hold_r->address, sizeof(hold_r->address));
		hold_r->since = sqlite3_column_int64(st, 1);
		col_text(st, 2, hold_r->reason, sizeof(hold_r->reason));
		col_text(st, 3, hold_r->detail, sizeof(hold_r->detail));
		hold_r->lifted = sqlite3_column_int64(st, 4);
		col_text(st, 5, hold_r->lifted_by, sizeof(hold_r->lifted_by));
	}
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
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
	sqlite3_stmt *st = dir_prepare(dir, "SELECT address, since, reason, detail, lifted, lifted_by"
				       " FROM send_holds WHERE lifted = 0 ORDER BY since, address", NULL);
	struct dir_hold h;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		col_text(st, 0, h.address, sizeof(h.address));
		h.since = sqlite3_column_int64(st, 1);
		col_text(st, 2, h.reason, sizeof(h.reason));
		col_text(st, 3, h.detail, sizeof(h.detail));
		h.lifted = sqlite3_column_int64(st, 4);
		col_text(st, 5, h.lifted_by, sizeof(h.lifted_by));
		cb(&h, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

int directory_batv_key(struct directory *dir, const char *domain, unsigned keynum, bool create,
		       char *hex_r, size_t size)
{
	char num[8], secret[65], ts[32];
	sqlite3_stmt *st;
	const char *error;
	int r;

	snprintf(num, sizeof(num), "%u", keynum);
	for (int attempt = 0; attempt < 2; attempt++) {
		st = dir_prepare(dir, "SELECT secret FROM batv_keys WHERE domain = lower(?) AND keynum = ?",
				 domain, num, NULL);
		if (st == NULL)
			return -1;
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			col_text(st, 0, hex_r, size);
		dir_finish(dir, st);
		if (r == SQLITE_ROW)
			return 1;
		if (r != SQLITE_DONE)
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
		if (dir_run(dir, dir_prepare(dir, "INSERT OR IGNORE INTO batv_keys(domain, keynum, secret,"
					     " created) VALUES (lower(?), ?, ?, ?)", domain, num, secret, ts,
					     NULL), &error) < 0)
			return -1;
		explicit_bzero(secret, sizeof(secret));
	}
	return 0;
}

int directory_event_since(struct directory *dir, const char *address, const char *kind, int64_t since,
			  dir_event_cb *cb, void *ctx)
{
	sqlite3_stmt *st;
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
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) < since) {
			r = SQLITE_DONE;
			break;
		}
		event_from_row(st, &e);
		cb(&e, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* ---- GeoIP overrides, login blocks and known login addresses (issue 5) ---- */

int directory_geoip_override_add(struct directory *dir, const char *cidr, const char *country,
				 const char **error_r)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT OR REPLACE INTO geoip_overrides(cidr, country, created)"
					" VALUES (?, upper(?), ?)", cidr, country, ts, NULL), error_r);
}

int directory_geoip_override_del(struct directory *dir, const char *cidr, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM geoip_overrides WHERE cidr = ?", cidr, NULL),
			      error_r);
}

int directory_geoip_override_list(struct directory *dir, dir_override_cb *cb, void *ctx)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT cidr, country, created FROM geoip_overrides"
				       " ORDER BY cidr", NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2), ctx);
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

static void auth_block_from_row(sqlite3_stmt *st, struct dir_auth_block *b)
{
	col_text(st, 0, b->key, sizeof(b->key));
	col_text(st, 1, b->kind, sizeof(b->kind));
	b->since = sqlite3_column_int64(st, 2);
	b->until = sqlite3_column_int64(st, 3);
	b->failures = (unsigned)sqlite3_column_int64(st, 4);
	col_text(st, 5, b->detail, sizeof(b->detail));
}

int directory_auth_block_set(struct directory *dir, const struct dir_auth_block *b, const char **error_r)
{
	char since[32], until[32], failures[32];

	snprintf(since, sizeof(since), "%lld", (long long)b->since);
	snprintf(until, sizeof(until), "%lld", (long long)b->until);
	snprintf(failures, sizeof(failures), "%u", b->failures);
	return dir_run(dir, dir_prepare(dir, "INSERT OR REPLACE INTO auth_blocks(key, kind, since, until,"
					" failures, detail) VALUES (lower(?), ?, ?, ?, ?, ?)", b->key, b->kind,
					since, until, failures, b->detail, NULL), error_r);
}

int directory_auth_block_get(struct directory *dir, const char *key, struct dir_auth_block *b_r)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT key, kind, since, until, failures, detail"
				       " FROM auth_blocks WHERE key = lower(?)", key, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		auth_block_from_row(st, b_r);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_auth_block_del(struct directory *dir, const char *key, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM auth_blocks WHERE key = lower(?)", key, NULL),
			      error_r);
}

int directory_auth_block_list(struct directory *dir, int64_t now, dir_auth_block_cb *cb, void *ctx)
{
	char ts[32];
	sqlite3_stmt *st;
	struct dir_auth_block b;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	st = dir_prepare(dir, "SELECT key, kind, since, until, failures, detail FROM auth_blocks"
			 " WHERE until > ? ORDER BY since", ts, NULL);
	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		auth_block_from_row(st, &b);
		cb(&b, ctx);
	}
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

int directory_auth_known_get(struct directory *dir, const char *address, const char *net, int64_t *last_r)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT last FROM auth_known WHERE address = lower(?) AND net = ?",
				       address, net, NULL);
	int r;

	*last_r = 0;
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*last_r = sqlite3_column_int64(st, 0);
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_auth_known_touch(struct directory *dir, const char *address, const char *net, int64_t now)
{
	char ts[32], old[32];
	const char *error;

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	snprintf(old, sizeof(old), "%lld", (long long)(now - 90LL * 86400));
	if (dir_run(dir, dir_prepare(dir, "INSERT OR REPLACE INTO auth_known(address, net, last)"
				     " VALUES (lower(?), ?, ?)", address, net, ts, NULL), &error) < 0)
		return -1;
	/* Forget addresses not used for 90 days, now and then. */
	if (now % 64 == 0)
		dir_run(dir, dir_prepare(dir, "DELETE FROM auth_known WHERE last < ?", old, NULL), &error);
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
	sqlite3_stmt *st = domain != NULL
		? dir_prepare(dir, "SELECT domain, name FROM host_names WHERE domain = lower(?)"
			      " ORDER BY name", domain, NULL)
		: dir_prepare(dir, "SELECT domain, name FROM host_names ORDER BY domain, name", NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
	dir_finish(dir, st);
	return r == SQLITE_DONE ? 0 : -1;
}

int directory_cert_state_get(struct directory *dir, const char *name, struct dir_cert_state *s_r)
{
	sqlite3_stmt *st = dir_prepare(dir, "SELECT name, source, failures, next_try, day, orders,"
				       " last_error, updated FROM cert_state WHERE name = lower(?)", name, NULL);
	int r;

	memset(s_r, 0, sizeof(*s_r));
	str_copy(s_r->name, sizeof(s_r->name), name);
	str_copy(s_r->source, sizeof(s_r->source), "acme");
	if (st == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		col_text(st, 0, s_r->name, sizeof(s_r->name));
		col_text(st, 1, s_r->source, sizeof(s_r->source));
		s_r->failures = (unsigned)sqlite3_column_int64(st, 2);
		s_r->next_try = sqlite3_column_int64(st, 3);
		s_r->day = sqlite3_column_int64(st, 4);
		s_r->orders = (unsigned)sqlite3_column_int64(st, 5);
		col_text(st, 6, s_r->last_error, sizeof(s_r->last_error));
		s_r->updated = sqlite3_column_int64(st, 7);
	}
	dir_finish(dir, st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int directory_cert_state_set(struct directory *dir, const struct dir_cert_state *s, const char **error_r)
{
	char failures[32], next_try[32], day[32], orders[32], updated[32];

	snprintf(failures, sizeof(failures), "%u", s->failures);
	snprintf(next_try, sizeof(next_try), "%lld", (long long)s->next_try);
	snprintf(day, sizeof(day), "%lld", (long long)s->day);
	snprintf(orders, sizeof(orders), "%u", s->orders);
	snprintf(updated, sizeof(updated), "%lld", (long long)time(NULL));
	return dir_run(dir, dir_prepare(dir, "INSERT OR REPLACE INTO cert_state(name, source, failures,"
					" next_try, day, orders, last_error, updated)"
					" VALUES (lower(?), ?, ?, ?, ?, ?, ?, ?)", s->name, s->source,
					failures, next_try, day, orders, s->last_error, updated, NULL),
		       error_r);
}
