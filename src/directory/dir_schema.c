/* The directory's schema and its migrations: one list for both backends.
 * Each step's SQL is written once in SQLite's dialect; the PostgreSQL
 * backend gets the same statements with its column types
 * (dir_dialect_schema), plus what only it needs (pg). The version is
 * SQLite's user_version or PostgreSQL's yubin_schema table. */
#include "directory/dir_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* v10 (issue 16): the brute-force counters of each client address and
 * account, kept here when several nodes share the directory (a two-bucket
 * sliding window, see policy/bruteforce.c). */
static const char schema_v10[] =
	"CREATE TABLE IF NOT EXISTS auth_counters ("
	" key TEXT PRIMARY KEY,"		/* an address (IPv6: /64) or an account */
	" bucket INTEGER NOT NULL,"
	" cur INTEGER NOT NULL,"
	" prev INTEGER NOT NULL,"
	" last INTEGER NOT NULL,"
	" throttled INTEGER NOT NULL DEFAULT 0,"
	" blocks INTEGER NOT NULL DEFAULT 0,"
	" last_block INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

/* v10 for PostgreSQL (issue 16, the directory in PostgreSQL): what PostgreSQL lacks of
 * the SQL the queries share (instr), and a notification on the channel
 * yubin_directory after every change of accounts, domains or settings, on
 * which each daemon drops its cache of hot-path lookups (dir_cache.c). */
static const char schema_v10_pg[] =
	"CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer"
	" LANGUAGE sql IMMUTABLE AS 'SELECT strpos(haystack, needle)';"
	"CREATE OR REPLACE FUNCTION yubin_notify() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN PERFORM pg_notify('yubin_directory', TG_TABLE_NAME); RETURN NULL; END$$;"
	"CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts"
	" FOR EACH STATEMENT EXECUTE FUNCTION yubin_notify();"
	"CREATE TRIGGER domains_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domains"
	" FOR EACH STATEMENT EXECUTE FUNCTION yubin_notify();"
	"CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings"
	" FOR EACH STATEMENT EXECUTE FUNCTION yubin_notify();";

/* v11 (issue 16 §2, scale-out): the mail nodes and each account's home
 * node (NULL: this machine, the single-node mode); node.c. */
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

/* v12 (issue 16 §1): every domain's DKIM keys with their private keys,
 * so proxies side by side sign with the same keys; each daemon writes
 * them out to DATA/dkim, which the signer reads (server/dkim_share.c). */
static const char schema_v12[] =
	"CREATE TABLE IF NOT EXISTS dkim_keys ("
	" domain TEXT NOT NULL,"
	" selector TEXT NOT NULL,"
	" type TEXT NOT NULL,"			/* 'rsa' or 'ed25519' */
	" state TEXT NOT NULL,"			/* 'next', 'active' or 'retired' */
	" since INTEGER NOT NULL,"
	" pem TEXT NOT NULL,"			/* the private key, PKCS#8 PEM */
	" pos INTEGER NOT NULL,"		/* its line in the selectors file */
	" updated INTEGER NOT NULL,"		/* when written, microseconds */
	" PRIMARY KEY (domain, selector));";

/* v13 (issue 16 §2, account move): the node an account's mailbox is
 * being moved to (NULL: no move running); node.c, ops/ops_move.c. */
static const char schema_v13[] =
	"ALTER TABLE accounts ADD COLUMN moving TEXT DEFAULT NULL;";

/* v14 (issue 16): the compromise signals other than the recipients sent
 * (which send_counts holds): bounces and new recipients per account and
 * minute, so that nodes sharing PostgreSQL decide on their sum; kept two
 * days (dir_prune.c). The events by time, for their pruning. */
static const char schema_v14[] =
	"CREATE TABLE IF NOT EXISTS abuse_counts ("
	" address TEXT NOT NULL,"
	" kind TEXT NOT NULL,"			/* 'bounce' or 'new-rcpt' */
	" minute INTEGER NOT NULL,"		/* unix time / 60 */
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (address, kind, minute)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS events_ts ON events(ts);";

/* v15 (issue 16): mailboxes their home node is to delete (an account or
 * a domain deleted on a proxy or another node); mailbox_deletions.c. */
static const char schema_v15[] =
	"CREATE TABLE IF NOT EXISTS mailbox_deletions ("
	" node TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" requested INTEGER NOT NULL,"
	" PRIMARY KEY (node, address)) WITHOUT ROWID;";

/* Each migration takes the schema from version - 1 to version: sql for
 * both backends (NULL: none), then pg for PostgreSQL only and sqlite for
 * SQLite only. Add a migration by appending a row with the next version;
 * write its SQL once where both dialects share it. */
static const struct dir_migration {
	int version;
	const char *sql, *pg, *sqlite;
} dir_migrations[] = {
	{ 1, schema_v1, NULL, NULL },
	{ 2, schema_v2, NULL, NULL },
	{ 3, schema_v3, NULL, NULL },
	{ 4, schema_v4, NULL, NULL },
	{ 5, schema_v5, NULL, NULL },
	{ 6, schema_v6, NULL, NULL },
	{ 7, schema_v7, NULL, NULL },
	{ 8, schema_v8, NULL, NULL },
	{ 9, schema_v9, NULL, NULL },
	{ 10, schema_v10, schema_v10_pg, NULL },
	{ 11, schema_v11, NULL, NULL },
	{ 12, schema_v12, NULL, NULL },
	{ 13, schema_v13, NULL, NULL },
	{ 14, schema_v14, NULL, NULL },
	{ 15, schema_v15, NULL, NULL },
};

int dir_schema_latest(void)
{
	return dir_migrations[sizeof(dir_migrations) / sizeof(dir_migrations[0]) - 1].version;
}

/* Runs one migration's SQL for the backend's dialect. */
static int dir_schema_step(const struct dir_backend *be, void *db, const struct dir_migration *m,
			   char *err, size_t errsize)
{
	const char *own = be->dialect == DIR_POSTGRESQL ? m->pg : m->sqlite;

	if (m->sql != NULL) {
		if (be->dialect == DIR_POSTGRESQL) {
			size_t size = strlen(m->sql) * 3 + 1;
			char *pg = malloc(size);
			int r = pg != NULL && dir_dialect_schema(m->sql, pg, size) == 0
				? be->exec(db, pg, err, errsize) : -1;

			free(pg);
			if (r < 0)
				return -1;
		} else if (be->exec(db, m->sql, err, errsize) < 0) {
			return -1;
		}
	}
	return own != NULL ? be->exec(db, own, err, errsize) : 0;
}

int dir_schema_migrate(const struct dir_backend *be, void *db, char *err, size_t errsize)
{
	int version;

	err[0] = '\0';
	if (be->version_get(db, &version) < 0) {
		snprintf(err, errsize, "cannot read the schema version");
		return -1;
	}
	for (size_t i = 0; i < sizeof(dir_migrations) / sizeof(dir_migrations[0]); i++) {
		const struct dir_migration *m = &dir_migrations[i];

		if (version >= m->version)
			continue;
		/* One transaction per step; on PostgreSQL a lock, so that nodes
		 * starting together migrate once; the version is read again
		 * under it. */
		if (be->exec(db, dir_sql_begin(be->dialect), err, errsize) < 0)
			return -1;
		if (be->dialect == DIR_POSTGRESQL &&
		    be->exec(db, "SELECT pg_advisory_xact_lock(7955010)", err, errsize) < 0)
			goto fail;
		if (be->version_get(db, &version) < 0)
			goto fail;
		if (version < m->version &&
		    (dir_schema_step(be, db, m, err, errsize) < 0 || be->version_set(db, m->version) < 0))
			goto fail;
		if (be->exec(db, "COMMIT", err, errsize) < 0)
			goto fail;
		if (version < m->version)
			version = m->version;
	}
	return 0;
fail:
	be->exec(db, "ROLLBACK", NULL, 0);
	if (err[0] == '\0')
		snprintf(err, errsize, "migration failed");
	return -1;
}
