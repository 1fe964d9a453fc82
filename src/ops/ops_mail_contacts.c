/* The address book of a mail user (ops_mail_write.h): ROOT/contacts.db, one
 * SQLite file per account beside index.db, so it lives and dies with the
 * mailbox (an account deleted or moved takes it along) and no write of
 * one account waits on another's. Tables: contacts (id, name, note,
 * updated), emails (contact, pos, address, label) and recent (addresses
 * the user sent to, for autocomplete, the newest OPS_RECENT_MAX kept). */
#include "ops/ops_mail_write.h"
#include "lib/str.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" note TEXT NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS emails (contact INTEGER NOT NULL, pos INTEGER NOT NULL,"
	" address TEXT NOT NULL COLLATE NOCASE, label TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS emails_contact ON emails (contact);"
	"CREATE INDEX IF NOT EXISTS emails_address ON emails (address);"
	"CREATE TABLE IF NOT EXISTS recent (address TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL,"
	" last INTEGER NOT NULL);";

static int book_open(struct ops *o, const struct ops_actor *actor, sqlite3 **db_r, struct ops_error *err)
{
	char root[PATH_MAX], path[PATH_MAX + 16];
	struct dir_account a;

	*db_r = NULL;
	if (ops_mail_account(o, actor, &a, root, sizeof(root), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/contacts.db", root);
	if (sqlite3_open_v2(path, db_r, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(*db_r, 5000) != SQLITE_OK ||
	    sqlite3_exec(*db_r, schema, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(*db_r);
		*db_r = NULL;
		return ops_fail(err, "internal", NULL, "the address book is unavailable", "アドレス帳を利用できません");
	}
	return 0;
}

static int db_fail(sqlite3 *db, struct ops_error *err)
{
	(void)db;
	return ops_fail(err, "internal", NULL, "the address book is unavailable", "アドレス帳を利用できません");
}

/* The emails of contact id into c. */
static int emails_load(sqlite3 *db, int64_t id, struct vcard *c)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT address, label FROM emails WHERE contact = ? ORDER BY pos", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	c->nemails = 0;
	while (sqlite3_step(st) == SQLITE_ROW && c->nemails < VCARD_EMAILS_MAX) {
		str_copy(c->emails[c->nemails].address, sizeof(c->emails[0].address),
			 (const char *)sqlite3_column_text(st, 0));
		str_copy(c->emails[c->nemails].label, sizeof(c->emails[0].label),
			 (const char *)sqlite3_column_text(st, 1));
		c->nemails++;
	}
	sqlite3_finalize(st);
	return 0;
}

static void row_contact(sqlite3_stmt *st, struct ops_contact *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	str_copy(c->card.name, sizeof(c->card.name), (const char *)sqlite3_column_text(st, 1));
	str_copy(c->card.note, sizeof(c->card.note), (const char *)sqlite3_column_text(st, 2));
	c->updated = sqlite3_column_int64(st, 3);
}

/* q as a LIKE pattern: %q% (contains) or q% (prefix), wildcards escaped. */
static void like_pattern(const char *q, bool contains, char *out, size_t size)
{
	size_t o = 0;

	if (contains && o + 1 < size)
		out[o++] = '%';
	for (const char *p = q; *p != '\0' && o + 3 < size; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '%';
	out[o] = '\0';
}

#define MATCH_SQL " WHERE (? = '' OR name LIKE ? ESCAPE '\\' OR id IN (SELECT contact FROM emails WHERE" \
		  " address LIKE ? ESCAPE '\\'))"

int ops_contact_list(struct ops *o, const struct ops_actor *actor, const char *q, unsigned offset,
		     unsigned limit, ops_contact_cb *cb, void *ctx, unsigned *total_r, struct ops_error *err)
{
	char pat[640];
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int r = -1;

	*total_r = 0;
	if (q == NULL)
		q = "";
	if (strlen(q) > 200)
		return ops_fail(err, "invalid_field", "q", "the search is too long", "検索語が長すぎます");
	if (book_open(o, actor, &db, err) < 0)
		return -1;
	like_pattern(q, true, pat, sizeof(pat));
	for (int pass = 0; pass < 2; pass++) {
		const char *sql = pass == 0 ? "SELECT count(*) FROM contacts" MATCH_SQL :
				  "SELECT id, name, note, updated FROM contacts" MATCH_SQL
				  " ORDER BY name COLLATE NOCASE, id LIMIT ? OFFSET ?";

		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, pat, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, pat, -1, SQLITE_STATIC);
		if (pass == 1) {
			sqlite3_bind_int64(st, 4, limit > 0 ? (int64_t)limit : -1);
			sqlite3_bind_int64(st, 5, offset);
		}
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct ops_contact c;

			if (pass == 0) {
				*total_r = (unsigned)sqlite3_column_int64(st, 0);
				continue;
			}
			row_contact(st, &c);
			emails_load(db, c.id, &c.card);
			cb(&c, ctx);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	r = 0;
out:
	if (r < 0)
		db_fail(db, err);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static int contact_read(sqlite3 *db, int64_t id, struct ops_contact *c)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, name, note, updated FROM contacts WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		row_contact(st, c);
		r = emails_load(db, id, &c->card) < 0 ? -1 : 1;
	}
	sqlite3_finalize(st);
	return r;
}

static int not_found(struct ops_error *err)
{
	return ops_fail(err, "not_found", "id", "no such contact", "その連絡先はありません");
}

int ops_contact_get(struct ops *o, const struct ops_actor *actor, int64_t id, struct ops_contact *c_r,
		    struct ops_error *err)
{
	sqlite3 *db;
	int r;

	if (book_open(o, actor, &db, err) < 0)
		return -1;
	r = contact_read(db, id, c_r);
	sqlite3_close(db);
	return r < 0 ? db_fail(NULL, err) : r == 0 ? not_found(err) : 0;
}

static int card_check(const struct vcard *c, struct ops_error *err)
{
	if (c->nemails == 0)
		return ops_fail(err, "invalid_field", "emails", "a contact needs an e-mail address",
				"連絡先にはメールアドレスが必要です");
	for (size_t i = 0; i < c->nemails; i++) {
		if (!vcard_address_ok(c->emails[i].address))
			return ops_fail(err, "invalid_address", "emails", "%s is not an e-mail address",
					"%s はメールアドレスではありません", c->emails[i].address);
	}
	return 0;
}

/* Writes card as contact id (0: a new one) inside the caller's
 * transaction: its id, or -1. */
static int64_t card_store(sqlite3 *db, int64_t id, const struct vcard *c, int64_t now)
{
	sqlite3_stmt *st;
	int ok;

	if (sqlite3_prepare_v2(db, id == 0 ? "INSERT INTO contacts (name, note, updated) VALUES (?, ?, ?)" :
			       "UPDATE contacts SET name = ?, note = ?, updated = ? WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (id != 0)
		sqlite3_bind_int64(st, 4, id);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		return -1;
	if (id == 0)
		id = sqlite3_last_insert_rowid(db);
	if (sqlite3_prepare_v2(db, "DELETE FROM emails WHERE contact = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok || sqlite3_prepare_v2(db, "INSERT INTO emails (contact, pos, address, label) VALUES (?, ?, ?, ?)", -1,
				      &st, NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; ok && i < c->nemails; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_text(st, 3, c->emails[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->emails[i].label, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return ok ? id : -1;
}

static int64_t contact_count(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM contacts", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int full(struct ops_error *err)
{
	return ops_fail(err, "too_many", NULL, "the address book is full (%d contacts)",
			"アドレス帳がいっぱいです (%d 件)", OPS_CONTACTS_MAX);
}

int ops_contact_put(struct ops *o, const struct ops_actor *actor, int64_t id, const struct vcard *card,
		    int64_t *id_r, struct ops_error *err)
{
	struct ops_contact old;
	sqlite3 *db;
	int r;

	if (card_check(card, err) < 0 || book_open(o, actor, &db, err) < 0)
		return -1;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return db_fail(db, err);
	}
	/* 1 go on, 0 no such contact, 2 the book is full, -1 error */
	r = id != 0 ? contact_read(db, id, &old) : contact_count(db) >= OPS_CONTACTS_MAX ? 2 : 1;
	if (r == 1 && (*id_r = card_store(db, id, card, time(NULL))) < 0)
		r = -1;
	if (r == 1 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -1;
	if (r != 1)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return r < 0 ? db_fail(NULL, err) : r == 0 ? not_found(err) : r == 2 ? full(err) : 0;
}

int ops_contact_del(struct ops *o, const struct ops_actor *actor, int64_t id, struct ops_error *err)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int changed = -1;

	if (book_open(o, actor, &db, err) < 0)
		return -1;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "DELETE FROM contacts WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		changed = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
		sqlite3_finalize(st);
		if (changed > 0 && sqlite3_prepare_v2(db, "DELETE FROM emails WHERE contact = ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) != SQLITE_DONE)
				changed = -1;
			sqlite3_finalize(st);
		}
	}
	sqlite3_exec(db, changed >= 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return changed < 0 ? db_fail(NULL, err) : changed == 0 ? not_found(err) : 0;
}

int ops_contact_complete(struct ops *o, const struct ops_actor *actor, const char *q, ops_complete_cb *cb,
			 void *ctx, struct ops_error *err)
{
	char prefix[640], word[660];
	sqlite3_stmt *st;
	sqlite3 *db;
	int n = 0;

	if (q == NULL || q[0] == '\0' || strlen(q) > 200)
		return ops_fail(err, "invalid_field", "q", "type 1 to 200 bytes", "1〜200 バイトで入力してください");
	if (book_open(o, actor, &db, err) < 0)
		return -1;
	like_pattern(q, false, prefix, sizeof(prefix));
	snprintf(word, sizeof(word), "%% %s", prefix);
	if (sqlite3_prepare_v2(db, "SELECT c.name, e.address FROM contacts c JOIN emails e ON e.contact = c.id"
			       " WHERE c.name LIKE ?1 ESCAPE '\\' OR c.name LIKE ?2 ESCAPE '\\'"
			       " OR e.address LIKE ?1 ESCAPE '\\' ORDER BY c.name COLLATE NOCASE, e.pos LIMIT ?3",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, word, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, OPS_COMPLETE_MAX);
		while (sqlite3_step(st) == SQLITE_ROW && n < OPS_COMPLETE_MAX) {
			cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), false, ctx);
			n++;
		}
		sqlite3_finalize(st);
	}
	if (n < OPS_COMPLETE_MAX &&
	    sqlite3_prepare_v2(db, "SELECT name, address FROM recent WHERE (address LIKE ?1 ESCAPE '\\'"
			       " OR name LIKE ?1 ESCAPE '\\' OR name LIKE ?2 ESCAPE '\\')"
			       " AND address NOT IN (SELECT address FROM emails) ORDER BY last DESC LIMIT ?3",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, word, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, OPS_COMPLETE_MAX - n);
		while (sqlite3_step(st) == SQLITE_ROW)
			cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), true, ctx);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return 0;
}

static void export_cb(const struct ops_contact *c, void *ctx)
{
	vcard_write(ctx, &c->card);
}

int ops_contact_export(struct ops *o, const struct ops_actor *actor, struct strbuf *out, struct ops_error *err)
{
	unsigned total;

	return ops_contact_list(o, actor, NULL, 0, 0, export_cb, out, &total, err);
}

struct import_ctx {
	sqlite3 *db;
	int64_t count, now;
	unsigned imported;
	bool failed;
	vcard_bad_cb *bad;
	void *bad_ctx;
};

static bool address_known(sqlite3 *db, const char *address)
{
	sqlite3_stmt *st;
	bool known = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM emails WHERE address = ? LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	known = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return known;
}

static int import_card(const struct vcard *c, unsigned number, void *arg)
{
	struct import_ctx *ic = arg;

	for (size_t i = 0; i < c->nemails; i++) {
		if (address_known(ic->db, c->emails[i].address)) {
			ic->bad(number, "already in the address book", ic->bad_ctx);
			return 0;
		}
	}
	if (ic->count >= OPS_CONTACTS_MAX) {
		ic->bad(number, "the address book is full", ic->bad_ctx);
		return 0;
	}
	if (card_store(ic->db, 0, c, ic->now) < 0) {
		ic->failed = true;
		return -1;
	}
	ic->count++;
	ic->imported++;
	return 0;
}

static void import_bad(unsigned number, const char *reason, void *arg)
{
	struct import_ctx *ic = arg;

	ic->bad(number, reason, ic->bad_ctx);
}

int ops_contact_import(struct ops *o, const struct ops_actor *actor, const char *text, size_t len,
		       unsigned *imported_r, vcard_bad_cb *bad, void *ctx, struct ops_error *err)
{
	struct vcard_limits lim = { OPS_CONTACTS_MAX, 16384 };
	struct import_ctx ic = { NULL, 0, time(NULL), 0, false, bad, ctx };
	const char *error = NULL;
	int r;

	*imported_r = 0;
	if (book_open(o, actor, &ic.db, err) < 0)
		return -1;
	if (sqlite3_exec(ic.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    (ic.count = contact_count(ic.db)) < 0) {
		sqlite3_close(ic.db);
		return db_fail(NULL, err);
	}
	r = vcard_parse(text, len, &lim, import_card, import_bad, &ic, &error);
	if (r < 0 || ic.failed || sqlite3_exec(ic.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(ic.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(ic.db);
		if (ic.failed || error == NULL)
			return db_fail(NULL, err);
		return ops_fail(err, "invalid_vcard", NULL, "%s", "vCard ではありません (%s)", error);
	}
	sqlite3_close(ic.db);
	*imported_r = ic.imported;
	return 0;
}

void ops_mail_note_sent(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d)
{
	const struct ops_mail_addr *lists[3] = { d->to, d->cc, d->bcc };
	size_t counts[3] = { d->nto, d->ncc, d->nbcc };
	struct ops_error err;
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t now = time(NULL);

	if (book_open(o, actor, &db, &err) < 0)
		return;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "INSERT INTO recent (address, name, last) VALUES (?, ?, ?) ON CONFLICT (address)"
			       " DO UPDATE SET last = excluded.last, name = CASE WHEN excluded.name = ''"
			       " THEN name ELSE excluded.name END", -1, &st, NULL) == SQLITE_OK) {
		for (int l = 0; l < 3; l++) {
			for (size_t i = 0; i < counts[l]; i++) {
				sqlite3_reset(st);
				sqlite3_bind_text(st, 1, lists[l][i].address, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, lists[l][i].name, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 3, now);
				sqlite3_step(st);
			}
		}
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(db, "DELETE FROM recent WHERE address NOT IN (SELECT address FROM recent"
				       " ORDER BY last DESC LIMIT ?)", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int(st, 1, OPS_RECENT_MAX);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
}
