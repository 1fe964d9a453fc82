/* The full-text search index (fts.h): search.db beside index.db, an FTS5
 * table with the trigram tokenizer (case-sensitive: the text is stored
 * with ASCII letters folded, as SEARCH compares, so a trigram phrase
 * match is exactly a substring match) and a small table of what each
 * message shows in a hit list. Rows are keyed by folder id << 32 | UID;
 * a folder gets a new id when its UIDVALIDITY changes. */
#include "store/fts.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/charset.h"
#include "mail/mail_text.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are indexed from their start (and marked
 * incomplete). */
#define FTS_READ_MAX (16 * 1024 * 1024)
/* Messages indexed per write transaction. */
#define FTS_BATCH 256

struct fts_index {
	sqlite3 *db;
	char path[4200];
};

static const char fts_schema[] =
	"CREATE TABLE IF NOT EXISTS folders(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT UNIQUE NOT NULL, uidvalidity INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS msgs(id INTEGER PRIMARY KEY, complete INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS summaries(id INTEGER PRIMARY KEY, subject TEXT NOT NULL,"
	" sender TEXT NOT NULL, snippet TEXT NOT NULL);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(hdr, body, subj, afrom, ato, acc, att,"
	" tokenize='trigram case_sensitive 1', columnsize=0);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS fts_terms USING fts5vocab(fts, 'row');";

static int fts_exec(struct fts_index *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warn(NULL, "search index %s: %s", f->path, msg != NULL ? msg : sqlite3_errmsg(f->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int fts_open_file(struct fts_index *f, char *err, size_t errsize)
{
	int rc = sqlite3_open_v2(f->path, &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", f->path, f->db != NULL ? sqlite3_errmsg(f->db) : "cannot open");
		return rc == SQLITE_OK ? SQLITE_ERROR : rc;
	}
	sqlite3_busy_timeout(f->db, 10000);
	rc = sqlite3_exec(f->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-2048",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(f->db, fts_schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		snprintf(err, errsize, "%s: %s", f->path, sqlite3_errmsg(f->db));
	return rc;
}

struct fts_index *fts_open(const char *root, char *err, size_t errsize)
{
	struct fts_index *f = calloc(1, sizeof(*f));
	int rc, n;

	if (f == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	n = snprintf(f->path, sizeof(f->path), "%s/%s", root, FTS_FILE);
	if (n < 0 || (size_t)n >= sizeof(f->path)) {
		snprintf(err, errsize, "path too long");
		free(f);
		return NULL;
	}
	rc = fts_open_file(f, err, errsize);
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
		/* a cache: a damaged one is simply made again */
		char side[4300];

		log_warn(NULL, "search index %s is damaged: made anew", f->path);
		sqlite3_close(f->db);
		f->db = NULL;
		unlink(f->path);
		snprintf(side, sizeof(side), "%s-wal", f->path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", f->path);
		unlink(side);
		rc = fts_open_file(f, err, errsize);
	}
	if (rc != SQLITE_OK) {
		fts_close(f);
		return NULL;
	}
	return f;
}

void fts_close(struct fts_index *f)
{
	if (f == NULL)
		return;
	sqlite3_close(f->db);
	free(f);
}

/* Deletes every row of folder id fid (inside the caller's transaction). */
static int fts_drop_folder_rows(struct fts_index *f, int64_t fid)
{
	char sql[400];
	long long lo = (long long)(fid << 32), hi = (long long)((fid << 32) | 0xffffffffLL);

	snprintf(sql, sizeof(sql),
		 "DELETE FROM fts WHERE rowid BETWEEN %lld AND %lld;"
		 "DELETE FROM msgs WHERE id BETWEEN %lld AND %lld;"
		 "DELETE FROM summaries WHERE id BETWEEN %lld AND %lld;", lo, hi, lo, hi, lo, hi);
	return fts_exec(f, sql);
}

/* The folder's id when its UIDVALIDITY is the one given; else 0, with
 * *old_r the id it had (0: unknown). -1 on error. */
static int64_t fts_folder_lookup(struct fts_index *f, const char *name, uint32_t uidvalidity, int64_t *old_r)
{
	sqlite3_stmt *st = NULL;
	int64_t fid = 0;
	int rc;

	*old_r = 0;
	if (sqlite3_prepare_v2(f->db, "SELECT id, uidvalidity FROM folders WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((uint32_t)sqlite3_column_int64(st, 1) == uidvalidity)
			fid = sqlite3_column_int64(st, 0);
		else
			*old_r = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? fid : -1;
}

/* The folder's id, a new one when it is unknown or its UIDVALIDITY
 * changed (its old rows are dropped then). 0 on error. */
static int64_t fts_folder_id(struct fts_index *f, const char *name, uint32_t uidvalidity)
{
	sqlite3_stmt *st = NULL;
	int64_t fid, old;

	fid = fts_folder_lookup(f, name, uidvalidity, &old);
	if (fid != 0)
		return fid > 0 ? fid : 0;
	/* again under the write lock: another process may have made it */
	if (fts_exec(f, "BEGIN IMMEDIATE") < 0)
		return 0;
	fid = fts_folder_lookup(f, name, uidvalidity, &old);
	if (fid < 0 || (fid == 0 && old != 0 && fts_drop_folder_rows(f, old) < 0))
		goto fail;
	if (fid == 0) {
		if (sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO folders(name, uidvalidity) VALUES (?, ?)", -1,
				       &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, uidvalidity);
		if (sqlite3_step(st) == SQLITE_DONE)
			fid = sqlite3_last_insert_rowid(f->db);
		sqlite3_finalize(st);
	}
	if (fid <= 0 || fts_exec(f, "COMMIT") < 0)
		goto fail;
	return fid;
fail:
	fts_exec(f, "ROLLBACK");
	return 0;
}

/* Reads at most FTS_READ_MAX bytes of a file; *cut_r when there was more. */
static char *read_message(const char *path, size_t *len_r, bool *cut_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	size_t want, got = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return NULL;
	}
	want = (size_t)sb.st_size > FTS_READ_MAX ? FTS_READ_MAX : (size_t)sb.st_size;
	*cut_r = (size_t)sb.st_size > want;
	buf = malloc(want + 1);
	while (buf != NULL && got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf != NULL)
		buf[got] = '\0';
	*len_r = got;
	return buf;
}

/* Text the index can hold exactly: valid UTF-8 without NUL. */
static bool text_ok(const struct strbuf *b)
{
	return b->len == 0 || (memchr(b->data, '\0', b->len) == NULL && charset_utf8_is_valid(b->data, b->len));
}

/* The text folded, with two line ends after it: every character of the
 * text then begins a trigram, so a needle of 1 or 2 characters (never
 * holding a line end) is found through the trigrams it begins. */
static void bind_folded(sqlite3_stmt *st, int col, struct strbuf *b)
{
	if (b->len > 0)
		mail_text_fold(b->data, b->len);
	strbuf_append_str(b, "\n\n");
	sqlite3_bind_text(st, col, b->data, (int)b->len, SQLITE_TRANSIENT);
}

/* The start of text, white space collapsed: at most max_chars
 * characters, fitting in size bytes with its NUL. */
static void snippet_make(const struct strbuf *text, char *out, size_t size, size_t max_chars)
{
	size_t o = 0, chars = 0, i = 0;
	bool space = false;

	while (i < text->len && chars < max_chars) {
		unsigned char c = (unsigned char)text->data[i];
		size_t n;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			i++;
			continue;
		}
		n = str_utf8_char_len(text->data + i, text->len - i);
		if (n == 0 || c < 0x20) {	/* never in valid text; skipped */
			i += n == 0 ? 1 : n;
			continue;
		}
		if (o + n + (space ? 1 : 0) + 1 > size)
			break;
		if (space) {
			out[o++] = ' ';
			chars++;
		}
		space = false;
		memcpy(out + o, text->data + i, n);
		o += n;
		i += n;
		chars++;
	}
	out[o] = '\0';
}

static void first_line(const struct strbuf *b, char *out, size_t max)
{
	const char *s = strbuf_cstr(b), *nl = strchr(s, '\n');
	size_t n = nl != NULL ? (size_t)(nl - s) : b->len;
	struct strbuf tmp = STRBUF_INIT;

	strbuf_append(&tmp, s, n);
	snippet_make(&tmp, out, max, max);
	strbuf_free(&tmp);
}

struct fts_stmts {
	sqlite3_stmt *del_fts, *ins_fts, *ins_msg, *del_msg, *ins_sum, *del_sum;
};

static void fts_stmts_free(struct fts_stmts *s)
{
	sqlite3_finalize(s->del_fts);
	sqlite3_finalize(s->ins_fts);
	sqlite3_finalize(s->ins_msg);
	sqlite3_finalize(s->del_msg);
	sqlite3_finalize(s->ins_sum);
	sqlite3_finalize(s->del_sum);
}

static int fts_stmts_prepare(struct fts_index *f, struct fts_stmts *s)
{
	memset(s, 0, sizeof(*s));
	if (sqlite3_prepare_v2(f->db, "DELETE FROM fts WHERE rowid = ?", -1, &s->del_fts, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT INTO fts(rowid, hdr, body, subj, afrom, ato, acc, att)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &s->ins_fts, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO msgs(id, complete) VALUES (?, ?)", -1, &s->ins_msg,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "DELETE FROM msgs WHERE id = ?", -1, &s->del_msg, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO summaries(id, subject, sender, snippet)"
			       " VALUES (?, ?, ?, ?)", -1, &s->ins_sum, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "DELETE FROM summaries WHERE id = ?", -1, &s->del_sum, NULL) != SQLITE_OK) {
		log_warn(NULL, "search index: %s", sqlite3_errmsg(f->db));
		fts_stmts_free(s);
		return -1;
	}
	return 0;
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int fts_remove(struct fts_stmts *s, int64_t id)
{
	sqlite3_bind_int64(s->del_fts, 1, id);
	sqlite3_bind_int64(s->del_msg, 1, id);
	sqlite3_bind_int64(s->del_sum, 1, id);
	return step_reset(s->del_fts) < 0 || step_reset(s->del_msg) < 0 || step_reset(s->del_sum) < 0 ? -1 : 0;
}

/* Indexes one message file. 1 indexed completely, 0 indexed in part or
 * not at all (the file is gone), -1 on a database error. */
static int fts_add(struct fts_stmts *s, int64_t id, const char *path)
{
	static const struct mail_text_limits limits = { FTS_MAX_HEADER, FTS_MAX_BODY, MAIL_TEXT_MIME_DEPTH,
							 MAIL_TEXT_MIME_PARTS };
	struct fts_summary sum;
	struct mail_text t;
	size_t len = 0;
	bool cut = false, complete;
	char *data = read_message(path, &len, &cut);
	int rc;

	if (data == NULL)
		return 0;
	mail_text_init(&t);
	mail_text_extract(data, len, &limits, &t);
	free(data);
	complete = !cut && !t.truncated && text_ok(&t.header) && text_ok(&t.body) && text_ok(&t.subject) &&
		   text_ok(&t.from) && text_ok(&t.to) && text_ok(&t.cc);
	first_line(&t.subject, sum.subject, sizeof(sum.subject));
	first_line(&t.from_display, sum.from, sizeof(sum.from));
	snippet_make(&t.body, sum.snippet, sizeof(sum.snippet), 200);
	sqlite3_bind_int64(s->del_fts, 1, id);
	rc = step_reset(s->del_fts);
	sqlite3_bind_int64(s->ins_fts, 1, id);
	bind_folded(s->ins_fts, 2, &t.header);
	bind_folded(s->ins_fts, 3, &t.body);
	bind_folded(s->ins_fts, 4, &t.subject);
	bind_folded(s->ins_fts, 5, &t.from);
	bind_folded(s->ins_fts, 6, &t.to);
	bind_folded(s->ins_fts, 7, &t.cc);
	bind_folded(s->ins_fts, 8, &t.attachments);
	if (rc == 0)
		rc = step_reset(s->ins_fts);
	sqlite3_bind_int64(s->ins_msg, 1, id);
	sqlite3_bind_int(s->ins_msg, 2, complete);
	if (rc == 0)
		rc = step_reset(s->ins_msg);
	sqlite3_bind_int64(s->ins_sum, 1, id);
	sqlite3_bind_text(s->ins_sum, 2, sum.subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_sum, 3, sum.from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_sum, 4, sum.snippet, -1, SQLITE_STATIC);
	if (rc == 0)
		rc = step_reset(s->ins_sum);
	mail_text_free(&t);
	return rc < 0 ? -1 : complete ? 1 : 0;
}

struct fts_row {
	uint32_t uid;
	bool complete;
};

/* The folder's indexed rows, ascending. */
static int fts_rows(struct fts_index *f, int64_t fid, struct fts_row **rows_r, size_t *n_r)
{
	sqlite3_stmt *st = NULL;
	struct fts_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*rows_r = NULL;
	*n_r = 0;
	if (sqlite3_prepare_v2(f->db, "SELECT id, complete FROM msgs WHERE id BETWEEN ? AND ? ORDER BY id", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, fid << 32);
	sqlite3_bind_int64(st, 2, (fid << 32) | 0xffffffffLL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct fts_row *nr;
			cap = cap == 0 ? 1024 : cap * 2;
			nr = realloc(rows, cap * sizeof(*rows));
			if (nr == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			rows = nr;
		}
		rows[n].uid = (uint32_t)(sqlite3_column_int64(st, 0) & 0xffffffffLL);
		rows[n].complete = sqlite3_column_int(st, 1) != 0;
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(rows);
		return -1;
	}
	*rows_r = rows;
	*n_r = n;
	return 0;
}

/* Drops the stale rows and indexes the missing messages (positions in the
 * view in todo), in transactions of FTS_BATCH messages. */
static int fts_apply(struct fts_index *f, const struct index_mailbox *mbox, const struct index_view *v,
		     int64_t fid, const uint32_t *stale, size_t nstale, const size_t *todo, size_t ntodo,
		     struct fts_folder *fs)
{
	struct fts_stmts s;
	size_t i = 0, k = 0;
	int rc = 0;

	if (fts_stmts_prepare(f, &s) < 0)
		return -1;
	while (rc == 0 && (i < nstale || k < ntodo)) {
		size_t batch = 0;

		if (fts_exec(f, "BEGIN IMMEDIATE") < 0) {
			rc = -1;
			break;
		}
		for (; rc == 0 && i < nstale && batch < FTS_BATCH * 8; i++, batch++)
			rc = fts_remove(&s, (fid << 32) | stale[i]);
		for (batch = 0; rc == 0 && k < ntodo && batch < FTS_BATCH; k++, batch++) {
			char path[4600];
			int r;

			if (mail_index_msg_path(mbox, &v->msgs[todo[k]], path, sizeof(path)) < 0)
				continue;
			r = fts_add(&s, (fid << 32) | v->msgs[todo[k]].uid, path);
			if (r < 0)
				rc = -1;
			fs->exact[todo[k]] = r == 1;
			fs->indexed++;
		}
		if (rc == 0 && fts_exec(f, "COMMIT") < 0)
			rc = -1;
		if (rc < 0)
			fts_exec(f, "ROLLBACK");
	}
	if (rc < 0) {
		for (size_t j = 0; j < ntodo; j++)
			fs->exact[todo[j]] = false;
	}
	fts_stmts_free(&s);
	return rc;
}

int fts_folder_sync(struct fts_index *f, const struct index_mailbox *mbox, const struct index_view *v,
		    size_t max_new, struct fts_folder *fs_r)
{
	struct fts_row *rows = NULL;
	uint32_t *stale = NULL;
	size_t *todo = NULL;
	size_t nrows = 0, nstale = 0, ntodo = 0, r = 0;
	int rc = -1;

	memset(fs_r, 0, sizeof(*fs_r));
	fs_r->exact = calloc(v->count > 0 ? v->count : 1, 1);
	fs_r->fid = fts_folder_id(f, mbox->name, v->uidvalidity);
	if (fs_r->exact == NULL || fs_r->fid == 0 || fts_rows(f, fs_r->fid, &rows, &nrows) < 0)
		goto out;
	stale = malloc((nrows > 0 ? nrows : 1) * sizeof(*stale));
	todo = malloc((v->count > 0 ? v->count : 1) * sizeof(*todo));
	if (stale == NULL || todo == NULL)
		goto out;
	for (size_t i = 0; i < v->count; i++) {
		uint32_t uid = v->msgs[i].uid;

		while (r < nrows && rows[r].uid < uid)
			stale[nstale++] = rows[r++].uid;
		if (r < nrows && rows[r].uid == uid) {
			fs_r->exact[i] = rows[r++].complete;
		} else if (ntodo < max_new) {
			todo[ntodo++] = i;
		} else {
			fs_r->missing++;
		}
	}
	while (r < nrows)
		stale[nstale++] = rows[r++].uid;
	rc = nstale + ntodo > 0 ? fts_apply(f, mbox, v, fs_r->fid, stale, nstale, todo, ntodo, fs_r) : 0;
out:
	free(rows);
	free(stale);
	free(todo);
	if (rc < 0) {
		free(fs_r->exact);
		memset(fs_r, 0, sizeof(*fs_r));
	}
	return rc;
}

void fts_folder_free(struct fts_folder *fs)
{
	if (fs == NULL)
		return;
	free(fs->exact);
	fs->exact = NULL;
}

bool fts_needle_is_exact(const char *needle, size_t len)
{
	return len > 0 && charset_utf8_is_valid(needle, len) && memchr(needle, '\n', len) == NULL &&
	       memchr(needle, '\0', len) == NULL;
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t chars = 0;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	}
	return chars;
}

static const char *const field_columns[] = {
	[FTS_TEXT] = "hdr body", [FTS_BODY] = "body", [FTS_SUBJECT] = "subj", [FTS_FROM] = "afrom",
	[FTS_TO] = "ato", [FTS_CC] = "acc", [FTS_TOCC] = "ato acc", [FTS_ANY] = "hdr body att",
};

static void phrase_append(struct strbuf *m, const char *s, size_t len)
{
	strbuf_append_c(m, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			strbuf_append_c(m, '"');
		strbuf_append_c(m, s[i]);
	}
	strbuf_append_c(m, '"');
}

/* The MATCH expression for a needle of 1 or 2 characters: the trigrams
 * that begin with it (every occurrence begins one: the text is padded),
 * from the index's own term list. 0, 1 when there are none (nothing
 * matches), or -1 when there are more than FTS_SHORT_TERMS of them (or an
 * error): the caller reads the text then. */
#define FTS_SHORT_TERMS 256
static int short_terms(struct fts_index *f, const char *needle, size_t len, struct strbuf *m)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(f->db, "SELECT term FROM fts_terms WHERE term >= ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, needle, (int)len, SQLITE_STATIC);
	strbuf_append_c(m, '(');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t tl = (size_t)sqlite3_column_bytes(st, 0);

		if (tl < len || memcmp(t, needle, len) != 0)
			break;
		if (n++ == FTS_SHORT_TERMS)
			break;
		if (n > 1)
			strbuf_append_str(m, " OR ");
		phrase_append(m, t, tl);
	}
	sqlite3_finalize(st);
	strbuf_append_c(m, ')');
	if ((rc != SQLITE_ROW && rc != SQLITE_DONE) || n > FTS_SHORT_TERMS)
		return -1;
	return n == 0 ? 1 : 0;
}

/* The SQL condition for reading the text: instr() on each column. */
static void instr_condition(enum fts_field field, struct strbuf *sql)
{
	const char *cols = field_columns[field];

	strbuf_append_c(sql, '(');
	for (const char *p = cols; *p != '\0';) {
		size_t n = strcspn(p, " ");
		strbuf_printf(sql, "%sinstr(%.*s, ?1) > 0", p == cols ? "" : " OR ", (int)n, p);
		p += n + (p[n] == ' ');
	}
	strbuf_append_c(sql, ')');
}

/* The statement for a needle (folded): a trigram MATCH when it can be
 * one, else instr() over the folder's indexed text. */
static int match_statement(struct fts_index *f, enum fts_field field, const struct strbuf *q,
			   struct strbuf *arg, sqlite3_stmt **st_r)
{
	struct strbuf sql = STRBUF_INIT, terms = STRBUF_INIT;
	size_t chars = utf8_chars(q->data, q->len);
	bool valid = fts_needle_is_exact(q->data, q->len);
	int rc, st = valid && chars < 3 ? short_terms(f, q->data, q->len, &terms) : -1;

	if (st == 1) {
		/* no trigram begins with it: nothing holds it */
		strbuf_free(&terms);
		*st_r = NULL;
		return 1;
	}
	if (valid && (chars >= 3 || st == 0)) {
		strbuf_printf(arg, "{%s} : ", field_columns[field]);
		if (chars >= 3)
			phrase_append(arg, q->data, q->len);
		else
			strbuf_append(arg, terms.data, terms.len);
		strbuf_append_str(&sql, "SELECT rowid FROM fts WHERE fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3"
				  " ORDER BY rowid");
	} else {
		strbuf_append(arg, q->data, q->len);
		strbuf_append_str(&sql, "SELECT rowid FROM fts WHERE rowid BETWEEN ?2 AND ?3 AND ");
		instr_condition(field, &sql);
		strbuf_append_str(&sql, " ORDER BY rowid");
	}
	rc = sqlite3_prepare_v2(f->db, strbuf_cstr(&sql), -1, st_r, NULL);
	strbuf_free(&sql);
	strbuf_free(&terms);
	return rc == SQLITE_OK ? 0 : -1;
}

int fts_folder_match(struct fts_index *f, int64_t fid, enum fts_field field, const char *needle, size_t len,
		     uint32_t **uids_r, size_t *n_r)
{
	struct strbuf q = STRBUF_INIT, arg = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	if (len == 0)
		return -1;
	/* the needle folded as the text was */
	strbuf_append(&q, needle, len);
	mail_text_fold(q.data, q.len);
	rc = match_statement(f, field, &q, &arg, &st);
	if (rc == 1) {
		rc = SQLITE_DONE;
	} else if (rc == 0) {
		sqlite3_bind_text(st, 1, arg.data, (int)arg.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, fid << 32);
		sqlite3_bind_int64(st, 3, (fid << 32) | 0xffffffffLL);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				uint32_t *nu;
				cap = cap == 0 ? 256 : cap * 2;
				nu = realloc(uids, cap * sizeof(*uids));
				if (nu == NULL) {
					rc = SQLITE_NOMEM;
					break;
				}
				uids = nu;
			}
			uids[n++] = (uint32_t)(sqlite3_column_int64(st, 0) & 0xffffffffLL);
		}
	}
	if (rc != SQLITE_DONE)
		log_warn(NULL, "search index %s: %s", f->path, sqlite3_errmsg(f->db));
	sqlite3_finalize(st);
	strbuf_free(&q);
	strbuf_free(&arg);
	if (rc != SQLITE_DONE) {
		free(uids);
		return -1;
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int fts_summary_get(struct fts_index *f, int64_t fid, uint32_t uid, struct fts_summary *s_r)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(s_r, 0, sizeof(*s_r));
	if (sqlite3_prepare_v2(f->db, "SELECT subject, sender, snippet FROM summaries WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (fid << 32) | uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		str_copy(s_r->subject, sizeof(s_r->subject), (const char *)sqlite3_column_text(st, 0));
		str_copy(s_r->from, sizeof(s_r->from), (const char *)sqlite3_column_text(st, 1));
		str_copy(s_r->snippet, sizeof(s_r->snippet), (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int fts_folders_prune(struct fts_index *f, const char *const *names, size_t n)
{
	sqlite3_stmt *st = NULL;
	int64_t gone[64];
	size_t ngone = 0;
	int rc = 0;

	if (sqlite3_prepare_v2(f->db, "SELECT id, name FROM folders", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (ngone < sizeof(gone) / sizeof(gone[0]) && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		bool found = false;

		for (size_t i = 0; i < n && !found && name != NULL; i++)
			found = strcmp(names[i], name) == 0;
		if (!found)
			gone[ngone++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (ngone == 0)
		return 0;
	if (fts_exec(f, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < ngone; i++) {
		char sql[100];
		snprintf(sql, sizeof(sql), "DELETE FROM folders WHERE id = %lld", (long long)gone[i]);
		rc = fts_drop_folder_rows(f, gone[i]) < 0 || fts_exec(f, sql) < 0 ? -1 : 0;
	}
	if (rc == 0 && fts_exec(f, "COMMIT") < 0)
		rc = -1;
	if (rc < 0)
		fts_exec(f, "ROLLBACK");
	return rc;
}

int fts_clear(struct fts_index *f)
{
	if (fts_exec(f, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (fts_exec(f, "DROP TABLE IF EXISTS fts_terms; DROP TABLE IF EXISTS fts; DELETE FROM msgs;"
			" DELETE FROM summaries; DELETE FROM folders;") < 0 ||
	    fts_exec(f, fts_schema) < 0 || fts_exec(f, "COMMIT") < 0) {
		fts_exec(f, "ROLLBACK");
		return -1;
	}
	return 0;
}

int fts_count(struct fts_index *f, uint64_t *messages_r)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*messages_r = 0;
	if (sqlite3_prepare_v2(f->db, "SELECT count(*) FROM msgs", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*messages_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}
