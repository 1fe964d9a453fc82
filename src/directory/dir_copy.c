/* yubinctl directory copy: every table of one directory into another
 * (an SQLite installation into an empty PostgreSQL database), in one
 * transaction on the target, then the row counts compared. */
#include "directory/directory.h"
#include "directory/dir_sql.h"

#include <stdio.h>
#include <string.h>

#define COPY_COLS_MAX 10

/* One table: its columns, as literals the backends' caches key on. */
#define DIR_COPY(t, cols, marks, n, id) \
	{ t, "SELECT " cols " FROM " t, "INSERT INTO " t "(" cols ") VALUES (" marks ")", \
	  "SELECT count(*) FROM " t, n, id }

/* Every table of the schema, parents first (accounts refer to domains).
 * A migration that adds a table or a column adds it here too. */
static const struct dir_copy_table {
	const char *name, *select, *insert, *count;
	int ncols;
	/* an identity column PostgreSQL's sequence must continue after */
	const char *setval;
} dir_copy_tables[] = {
	DIR_COPY("domains", "id, name, created", "?, ?, ?", 3,
		 "SELECT setval(pg_get_serial_sequence('domains', 'id'), coalesce(max(id), 0) + 1, false) FROM domains"),
	DIR_COPY("nodes", "name, imap, pop3, lmtp, http, state, capacity_mb, created",
		 "?, ?, ?, ?, ?, ?, ?, ?", 8, NULL),
	/* node: NULL (this machine) reads as "" and goes back as NULL */
	DIR_COPY("accounts", "id, domain_id, local, address, password, quota_mb, memo, enabled, created, node",
		 "?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, '')", 10,
		 "SELECT setval(pg_get_serial_sequence('accounts', 'id'), coalesce(max(id), 0) + 1, false) FROM accounts"),
	DIR_COPY("settings", "scope, name, key, value", "?, ?, ?, ?", 4, NULL),
	DIR_COPY("events", "id, ts, kind, address, ip, detail", "?, ?, ?, ?, ?, ?", 6,
		 "SELECT setval(pg_get_serial_sequence('events', 'id'), coalesce(max(id), 0) + 1, false) FROM events"),
	DIR_COPY("send_counts", "address, minute, count", "?, ?, ?", 3, NULL),
	DIR_COPY("send_rcpts", "address, rcpt, last", "?, ?, ?", 3, NULL),
	DIR_COPY("abuse_counts", "address, kind, minute, count", "?, ?, ?, ?", 4, NULL),
	DIR_COPY("send_holds", "address, since, reason, detail, lifted, lifted_by", "?, ?, ?, ?, ?, ?", 6, NULL),
	DIR_COPY("batv_keys", "domain, keynum, secret, created", "?, ?, ?, ?", 4, NULL),
	DIR_COPY("geoip_overrides", "cidr, country, created", "?, ?, ?", 3, NULL),
	DIR_COPY("auth_blocks", "key, kind, since, until, failures, detail", "?, ?, ?, ?, ?, ?", 6, NULL),
	DIR_COPY("auth_known", "address, net, last", "?, ?, ?", 3, NULL),
	DIR_COPY("auth_counters", "key, bucket, cur, prev, last, throttled, blocks, last_block",
		 "?, ?, ?, ?, ?, ?, ?, ?", 8, NULL),
	DIR_COPY("audit", "id, ts, actor, ip, op, target, summary", "?, ?, ?, ?, ?, ?, ?", 7,
		 "SELECT setval(pg_get_serial_sequence('audit', 'id'), coalesce(max(id), 0) + 1, false) FROM audit"),
	DIR_COPY("admins", "name, password, role, domains, created", "?, ?, ?, ?, ?", 5, NULL),
	DIR_COPY("api_tokens", "id, hash, role, domains, expires, created, last_used, revoked",
		 "?, ?, ?, ?, ?, ?, ?, ?", 8, NULL),
	DIR_COPY("sessions", "hash, role, name, domains, csrf, created, last_seen, ip", "?, ?, ?, ?, ?, ?, ?, ?", 8,
		 NULL),
	DIR_COPY("spam_lists", "scope, name, kind, pattern, created", "?, ?, ?, ?, ?", 5, NULL),
	DIR_COPY("host_names", "name, domain, created", "?, ?, ?", 3, NULL),
	DIR_COPY("dkim_keys", "domain, selector, type, state, since, pem, pos, updated", "?, ?, ?, ?, ?, ?, ?, ?",
		 8, NULL),
	DIR_COPY("mailbox_deletions", "node, address, requested", "?, ?, ?", 3, NULL),
	DIR_COPY("cert_state", "name, source, failures, next_try, day, orders, last_error, updated",
		 "?, ?, ?, ?, ?, ?, ?, ?", 8, NULL),
};

#define DIR_COPY_NTABLES (sizeof(dir_copy_tables) / sizeof(dir_copy_tables[0]))

/* The rows of table t in dir into *n_r: 0 or -1. */
static int copy_count(struct directory *dir, const struct dir_copy_table *t, int64_t *n_r)
{
	struct dir_stmt *st = dir->be->prepare(dir->db, t->count);
	int r;

	if (st == NULL)
		return -1;
	r = st->be->step(st);
	*n_r = r == DIR_ROW ? st->be->int64(st, 0) : 0;
	dir->be->finish(dir->db, st);
	return r == DIR_ROW ? 0 : -1;
}

/* Copies the rows of one table; 0 or -1 with a message. */
static int copy_table(struct directory *from, struct directory *to, const struct dir_copy_table *t,
		      char *err, size_t errsize)
{
	struct dir_stmt *src = from->be->prepare(from->db, t->select), *dst;
	int r, ok = 0;

	if (src == NULL) {
		snprintf(err, errsize, "%s: cannot read the source", t->name);
		return -1;
	}
	while ((r = src->be->step(src)) == DIR_ROW) {
		dst = to->be->prepare(to->db, t->insert);
		if (dst == NULL)
			break;
		for (int i = 0; i < t->ncols; i++)
			dst->be->bind_text(dst, i + 1, src->be->text(src, i));
		ok = dst->be->step(dst);
		to->be->finish(to->db, dst);
		if (ok != DIR_DONE)
			break;
	}
	from->be->finish(from->db, src);
	if (r == DIR_DONE)
		return 0;
	snprintf(err, errsize, "%s: %s", t->name, r == DIR_ROW ? "cannot write a row to the target"
							    : "cannot read the source");
	return -1;
}

/* Whether every table of to is empty: 1, 0 (the name of one that is not
 * into *busy_r), -1 error. */
static int copy_target_empty(struct directory *to, const char **busy_r)
{
	for (size_t i = 0; i < DIR_COPY_NTABLES; i++) {
		int64_t n;

		if (copy_count(to, &dir_copy_tables[i], &n) < 0)
			return -1;
		if (n > 0) {
			*busy_r = dir_copy_tables[i].name;
			return 0;
		}
	}
	return 1;
}

int directory_copy(struct directory *from, struct directory *to, dir_copy_cb *cb, void *ctx,
		   char *err, size_t errsize)
{
	const char *busy = NULL;
	int r;

	err[0] = '\0';
	if (directory_migrate(from, err, errsize) < 0 || directory_migrate(to, err, errsize) < 0)
		return -1;
	r = copy_target_empty(to, &busy);
	if (r <= 0) {
		snprintf(err, errsize, r < 0 ? "cannot read the target" : "the target is not empty (table %s has rows):"
			 " copy only into a new database", busy);
		return -1;
	}
	if (to->be->exec(to->db, dir_sql_begin(to->be->dialect), err, errsize) < 0)
		return -1;
	for (size_t i = 0; i < DIR_COPY_NTABLES; i++) {
		const struct dir_copy_table *t = &dir_copy_tables[i];
		int64_t n_from, n_to;

		if (copy_table(from, to, t, err, errsize) < 0)
			goto fail;
		if (t->setval != NULL && to->be->dialect == DIR_POSTGRESQL &&
		    to->be->exec(to->db, t->setval, err, errsize) < 0)
			goto fail;
		if (copy_count(from, t, &n_from) < 0 || copy_count(to, t, &n_to) < 0) {
			snprintf(err, errsize, "%s: cannot count the rows", t->name);
			goto fail;
		}
		if (n_from != n_to) {
			snprintf(err, errsize, "%s: %lld rows read but %lld in the target", t->name,
				 (long long)n_from, (long long)n_to);
			goto fail;
		}
		if (cb != NULL)
			cb(t->name, n_to, ctx);
	}
	if (to->be->exec(to->db, "COMMIT", err, errsize) < 0)
		return -1;
	return 0;
fail:
	to->be->exec(to->db, "ROLLBACK", NULL, 0);
	return -1;
}
