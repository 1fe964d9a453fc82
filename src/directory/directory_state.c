/* The directory's queries for the panels' administrators, tokens and
 * sessions, and for the sending and login state (issues 5, 11, 15, 16),
 * written once for both backends like directory.c's. */
#include "directory/directory.h"
#include "directory/dir_sql.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	dir_col_text(st, 0, a->name, sizeof(a->name));
	dir_col_text(st, 1, a->role, sizeof(a->role));
	dir_col_text(st, 2, a->domains, sizeof(a->domains));
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
		dir_col_text(st, 4, hash_r, hash_size);
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
	dir_col_text(st, 0, t->id, sizeof(t->id));
	dir_col_text(st, 1, t->hash, sizeof(t->hash));
	dir_col_text(st, 2, t->role, sizeof(t->role));
	dir_col_text(st, 3, t->domains, sizeof(t->domains));
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
		dir_col_text(st, 0, s_r->hash, sizeof(s_r->hash));
		dir_col_text(st, 1, s_r->role, sizeof(s_r->role));
		dir_col_text(st, 2, s_r->name, sizeof(s_r->name));
		dir_col_text(st, 3, s_r->domains, sizeof(s_r->domains));
		dir_col_text(st, 4, s_r->csrf, sizeof(s_r->csrf));
		s_r->created = dir_int64(st, 5);
		s_r->last_seen = dir_int64(st, 6);
		dir_col_text(st, 7, s_r->ip, sizeof(s_r->ip));
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
	if (dir_like_contains(domain, pattern + 1, sizeof(pattern) - 1) < 0)
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

int directory_abuse_count_add(struct directory *dir, const char *address, const char *kind, int64_t minute,
			      int64_t delta)
{
	struct dir_stmt *st = dir_prepare(dir, "INSERT INTO abuse_counts(address, kind, minute, count)"
					  " VALUES (lower(?), ?, ?, ?) ON CONFLICT(address, kind, minute) DO UPDATE"
					  " SET count = abuse_counts.count + excluded.count", address, kind, NULL);
	int r;

	if (st == NULL)
		return -1;
	dir_bind_int64(st, 3, minute);
	dir_bind_int64(st, 4, delta);
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_abuse_count_sum(struct directory *dir, const char *address, const char *kind,
			      int64_t since_minute, uint64_t *sum_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT coalesce(sum(count), 0) FROM abuse_counts"
					  " WHERE address = lower(?) AND kind = ? AND minute >= ?", address, kind, NULL);
	int r;

	*sum_r = 0;
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 3, since_minute);
	r = dir_step(st);
	if (r == DIR_ROW) {
		int64_t v = dir_int64(st, 0);

		*sum_r = v > 0 ? (uint64_t)v : 0;
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 0 : -1;
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
		dir_col_text(st, 0, hold_r->address, sizeof(hold_r->address));
		hold_r->since = dir_int64(st, 1);
		dir_col_text(st, 2, hold_r->reason, sizeof(hold_r->reason));
		dir_col_text(st, 3, hold_r->detail, sizeof(hold_r->detail));
		hold_r->lifted = dir_int64(st, 4);
		dir_col_text(st, 5, hold_r->lifted_by, sizeof(hold_r->lifted_by));
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
		dir_col_text(st, 0, h.address, sizeof(h.address));
		h.since = dir_int64(st, 1);
		dir_col_text(st, 2, h.reason, sizeof(h.reason));
		dir_col_text(st, 3, h.detail, sizeof(h.detail));
		h.lifted = dir_int64(st, 4);
		dir_col_text(st, 5, h.lifted_by, sizeof(h.lifted_by));
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
			dir_col_text(st, 0, hex_r, size);
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
		dir_event_from_row(st, &e);
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
	dir_col_text(st, 0, b->key, sizeof(b->key));
	dir_col_text(st, 1, b->kind, sizeof(b->kind));
	b->since = dir_int64(st, 2);
	b->until = dir_int64(st, 3);
	b->failures = (unsigned)dir_int64(st, 4);
	dir_col_text(st, 5, b->detail, sizeof(b->detail));
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
	char ts[32];
	const char *error;

	/* Networks unused for 90 days are forgotten by the daemon's pruning
	 * (directory_prune, DIR_PRUNE_AUTH_KNOWN). */
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	return dir_run(dir, dir_prepare(dir, "INSERT INTO auth_known(address, net, last)"
					" VALUES (lower(?), ?, ?) ON CONFLICT(address, net) DO UPDATE SET"
					" last = excluded.last", address, net, ts, NULL), &error);
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
	/* Keys quiet for two days are forgotten by the daemon's pruning
	 * (directory_prune, DIR_PRUNE_AUTH_COUNTERS). */
	return r == DIR_DONE ? 0 : -1;
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
		dir_col_text(st, 0, s_r->name, sizeof(s_r->name));
		dir_col_text(st, 1, s_r->source, sizeof(s_r->source));
		s_r->failures = (unsigned)dir_int64(st, 2);
		s_r->next_try = dir_int64(st, 3);
		s_r->day = dir_int64(st, 4);
		s_r->orders = (unsigned)dir_int64(st, 5);
		dir_col_text(st, 6, s_r->last_error, sizeof(s_r->last_error));
		s_r->updated = dir_int64(st, 7);
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_cert_state_del(struct directory *dir, const char *name)
{
	const char *error;

	return dir_run(dir, dir_prepare(dir, "DELETE FROM cert_state WHERE name = lower(?)", name, NULL), &error);
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
