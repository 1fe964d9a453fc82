/* Vacation auto-replies in delivery (see smtp_vacation.h). */
#include "server/smtp_vacation.h"
#include "server/queue.h"
#include "server/sendguard.h"
#include "server/server.h"
#include "directory/directory.h"
#include "mail/autoreply.h"
#include "sieve/sieve.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VACATION_DB_BYTES (VACATION_DB_MAX * 400)

static char *dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

struct smtp_vacation *smtp_vacation_from(const struct sieve_vacation *v, const char *reason, unsigned line,
					 const char *script)
{
	struct smtp_vacation *c = calloc(1, sizeof(*c));
	bool ok = true;

	if (c == NULL)
		return NULL;
	c->reason = dup_or_null(reason != NULL ? reason : "", &ok);
	c->subject = dup_or_null(v->subject, &ok);
	c->from = dup_or_null(v->from, &ok);
	c->handle = dup_or_null(v->handle != NULL ? v->handle : "", &ok);
	if (v->address_count > 0 && (c->addresses = calloc(v->address_count, sizeof(char *))) == NULL)
		ok = false;
	for (unsigned i = 0; ok && i < v->address_count; i++) {
		c->addresses[i] = dup_or_null(v->addresses[i], &ok);
		c->naddresses++;
	}
	c->seconds = v->seconds;
	c->mime = v->mime;
	c->reply = v->reply;
	c->line = line;
	str_copy(c->script, sizeof(c->script), script != NULL ? script : "");
	/* only the panel's generated script asks for the quote (ops_rules_gen.c) */
	c->quote = script != NULL && strcmp(script, "panel") == 0 && c->handle != NULL &&
		   strcmp(c->handle, AUTOREPLY_QUOTE_HANDLE) == 0;
	if (!ok) {
		smtp_vacation_free(c);
		return NULL;
	}
	return c;
}

void smtp_vacation_free(struct smtp_vacation *v)
{
	if (v == NULL)
		return;
	for (unsigned i = 0; i < v->naddresses; i++)
		free(v->addresses[i]);
	free(v->addresses);
	free(v->reason);
	free(v->subject);
	free(v->from);
	free(v->handle);
	free(v);
}

/* ---- the once-per-period record ---------------------------------------- */

static uint64_t fnv64(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* MAILDIR/sieve/vacation.db opened and locked: the fd, or -1. */
static int db_open(const char *maildir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/sieve", maildir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/sieve/vacation.db", maildir) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The file's unexpired lines into out (at most VACATION_DB_MAX - 1 of the
 * newest), and whether (key, sender) is among them. */
static int db_scan(int fd, int64_t now, const char *key, const char *sender, struct strbuf *out, bool *seen,
		   bool drop_match)
{
	struct strbuf all = STRBUF_INIT;
	char buf[8192];
	ssize_t n;
	off_t off = 0;
	size_t lines = 0, skip = 0;

	*seen = false;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0 && all.len < VACATION_DB_BYTES) {
		strbuf_append(&all, buf, (size_t)n);
		off += n;
	}
	if (n < 0) {
		strbuf_free(&all);
		return -1;
	}
	for (const char *p = strbuf_cstr(&all); *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char line[400], k[17], s[330];
		long long exp;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (sscanf(line, "%lld %16s %329s", &exp, k, s) == 3 && exp > now) {
				if (strcmp(k, key) == 0 && strcasecmp(s, sender) == 0) {
					*seen = true;
					if (drop_match) {
						p += len + (nl != NULL);
						continue;
					}
				}
				strbuf_append(out, p, len);
				strbuf_append_c(out, '\n');
				lines++;
			}
		}
		p += len + (nl != NULL);
	}
	strbuf_free(&all);
	/* bounded: the oldest lines go first */
	for (const char *p = strbuf_cstr(out); lines >= VACATION_DB_MAX; lines--) {
		const char *nl = strchr(p + skip, '\n');
		skip = (size_t)(nl - p) + 1;
	}
	if (skip > 0) {
		memmove(out->data, out->data + skip, out->len - skip);
		strbuf_truncate(out, out->len - skip);
	}
	return 0;
}

static int db_write(int fd, const struct strbuf *lines)
{
	if (ftruncate(fd, 0) < 0)
		return -1;
	return pwrite(fd, lines->data, lines->len, 0) == (ssize_t)lines->len ? 0 : -1;
}

static void db_key(const char *handle, char key[17])
{
	snprintf(key, 17, "%016" PRIx64, fnv64(handle != NULL ? handle : ""));
}

static void db_add(struct strbuf *lines, const char *key, const char *sender, int64_t now, uint64_t seconds)
{
	strbuf_printf(lines, "%lld %s %s\n", (long long)(now + (int64_t)(seconds > 0 ? seconds : 1)), key, sender);
}

int vacation_db_check(const char *maildir, const char *handle, const char *sender, uint64_t seconds,
		      int64_t now, bool record)
{
	struct strbuf lines = STRBUF_INIT;
	char key[17];
	bool seen;
	int fd = db_open(maildir), r = -1;

	if (fd < 0)
		return -1;
	db_key(handle, key);
	if (db_scan(fd, now, key, sender, &lines, &seen, false) == 0) {
		r = seen ? 1 : 0;
		if (!seen && record) {
			db_add(&lines, key, sender, now, seconds);
			if (db_write(fd, &lines) < 0)
				r = -1;
		}
	}
	strbuf_free(&lines);
	close(fd);
	return r;
}

int vacation_db_duplicate(const char *maildir, const char *handle, const char *id, uint64_t seconds,
			  int64_t now, bool record)
{
	struct strbuf lines = STRBUF_INIT, h = STRBUF_INIT;
	char key[17], idkey[24];
	bool seen = false;
	int fd = db_open(maildir), r = -1;

	if (fd < 0)
		return -1;
	strbuf_printf(&h, "duplicate\001%s", handle != NULL ? handle : "");
	db_key(strbuf_cstr(&h), key);
	snprintf(idkey, sizeof(idkey), "dup:%016" PRIx64, fnv64(id != NULL ? id : ""));
	/* recording replaces the line: :last extends the period */
	if (db_scan(fd, now, key, idkey, &lines, &seen, record) == 0) {
		r = seen ? 1 : 0;
		if (record) {
			db_add(&lines, key, idkey, now, seconds);
			if (db_write(fd, &lines) < 0)
				r = -1;
		}
	}
	strbuf_free(&lines);
	strbuf_free(&h);
	close(fd);
	return r;
}

/* ---- sending ----------------------------------------------------------- */

/* The start of the original (malloc'd, NUL-terminated), at most max octets. */
static char *original_read(const struct vacation_msg *m, size_t max, size_t *len_r)
{
	size_t want = m->body_len < max ? m->body_len : max;
	char *h = malloc(want + 1);
	size_t got = 0;

	if (h == NULL)
		return NULL;
	if (m->body != NULL) {
		memcpy(h, m->body, want);
		got = want;
	} else {
		while (got < want) {
			ssize_t n = pread(m->body_fd, h + got, want - got, (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	h[got] = '\0';
	*len_r = got;
	return h;
}

/* The original's header block (malloc'd), at most AUTOREPLY_HEADER_MAX. */
static char *original_header(const struct vacation_msg *m, size_t *len_r)
{
	return original_read(m, AUTOREPLY_HEADER_MAX, len_r);
}

/* Into the sender's mailbox when the sender's domain is ours: 1 done, 0
 * not local, -1 failed (error_r says why). */
static int send_local(const char *to, const struct strbuf *msg, const char **error_r)
{
	struct directory *dir = server_directory();
	const char *at = strrchr(to, '@');
	struct dir_account acct;
	struct maildir_msg mm;
	char maildir[PATH_MAX], name[MAILDIR_NAME_MAX], prefix[400];
	const char *error = "";

	if (dir == NULL || at == NULL || directory_domain_exists(dir, at + 1) <= 0)
		return 0;
	if (directory_account_get(dir, to, &acct) <= 0 || !acct.enabled) {
		*error_r = "no such enabled local account";
		return -1;
	}
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) < 0 ||
	    (access(maildir, F_OK) < 0 && maildir_create(maildir) < 0)) {
		*error_r = "the sender's mailbox cannot be opened";
		return -1;
	}
	memset(&mm, 0, sizeof(mm));
	mm.prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "Return-Path: <>\r\nDelivered-To: %s\r\n",
					 acct.address);
	mm.prefix = prefix;
	mm.body = msg->data;
	mm.body_fd = -1;
	mm.body_len = msg->len;
	if (!quota_reserve(maildir, mm.prefix_len + mm.body_len, (uint64_t)acct.quota_mb * 1024 * 1024)) {
		*error_r = "the sender's mailbox is full";
		return -1;
	}
	if (maildir_deliver(maildir, &mm, name, sizeof(name), &error) < 0) {
		quota_release(maildir, mm.prefix_len + mm.body_len);
		*error_r = error;
		return -1;
	}
	store_changed(maildir);
	return 1;
}

static int send_reply(const char *account, const char *to, const struct strbuf *msg, char *id, size_t size,
		      const char **error_r)
{
	struct maildir_msg mm;
	int r = send_local(to, msg, error_r);

	if (r != 0) {
		str_copy(id, size, "local");
		return r > 0 ? 0 : -1;
	}
	memset(&mm, 0, sizeof(mm));
	mm.prefix = "";
	mm.body = msg->data;
	mm.body_fd = -1;
	mm.body_len = msg->len;
	return queue_submit(account, "", &to, 1, &mm, id, size, error_r);
}

static void random_hex(char *out, size_t n)
{
	unsigned char b[16];
	size_t k = (n - 1) / 2 < sizeof(b) ? (n - 1) / 2 : sizeof(b);

	if (getrandom(b, k, 0) != (ssize_t)k) {
		for (size_t i = 0; i < k; i++)
			b[i] = (unsigned char)(rand() & 0xff);
	}
	for (size_t i = 0; i < k; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Builds the reply into msg: 0, or -1 with *error_r. */
static int compose_reply(const struct vacation_msg *m, const char *account, const struct smtp_vacation *v,
			 const char *header, size_t hlen, struct strbuf *msg, const char **error_r)
{
	struct config cfg;
	char mid[400], seed[33];
	time_t now = time(NULL);
	struct tm tm;
	struct autoreply_in in = {
		.header = header, .header_len = hlen, .from = v->from, .account = account, .to = m->from,
		.subject = v->subject, .reason = v->reason, .mime = v->mime, .date = (int64_t)now,
		.message_id = mid, .boundary_seed = seed,
	};

	server_config(&cfg);
	random_hex(seed, sizeof(seed));
	snprintf(mid, sizeof(mid), "<%lld.%s.vacation@%s>", (long long)now, seed, cfg.hostname);
	localtime_r(&now, &tm);
	in.tz_minutes = (int)(tm.tm_gmtoff / 60);
	if (v->quote && !v->mime) {
		char *orig = original_read(m, AUTOREPLY_ORIGINAL_MAX, &in.original_len);
		int r;

		in.original = orig;
		in.quote = orig != NULL;
		r = autoreply_build(&in, msg, error_r);
		free(orig);
		return r;
	}
	return autoreply_build(&in, msg, error_r);
}

/* why NULL: the reply was sent. */
static void vacation_event(const struct vacation_msg *m, const char *account, const struct smtp_vacation *v,
			   const char *why)
{
	char detail[700];

	if (why == NULL)
		snprintf(detail, sizeof(detail), "replied to <%s>", m->from);
	else
		snprintf(detail, sizeof(detail), "not replied to <%s>: %s", m->from, why);
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), " (%s%sline %u)", v->script,
		 v->script[0] != '\0' ? " " : "", v->line);
	log_info(m->sid, "smtp: id=%s vacation for <%s>: %s", m->txid, account, detail);
	server_event("sieve-vacation", account, m->ip, detail);
}

/* Under the record's lock: sends unless the sender had one this period. */
static void send_locked(const struct vacation_msg *m, const char *account, const char *maildir,
			const struct smtp_vacation *v, const char *header, size_t hlen)
{
	struct strbuf lines = STRBUF_INIT, msg = STRBUF_INIT;
	const char *error = "";
	char key[17], reply[512], id[64];
	int64_t now = (int64_t)time(NULL);
	bool seen = false;
	int fd = db_open(maildir);

	db_key(v->handle, key);
	if (fd < 0 || db_scan(fd, now, key, m->from, &lines, &seen, false) < 0) {
		vacation_event(m, account, v, "the reply record cannot be read");
		goto out;
	}
	if (seen) {
		vacation_event(m, account, v, "already replied within the period");
		goto out;
	}
	if (compose_reply(m, account, v, header, hlen, &msg, &error) < 0) {
		vacation_event(m, account, v, error);
		goto out;
	}
	if (sendguard_count_forward(account, 1, reply, sizeof(reply)) != SENDGUARD_OK) {
		vacation_event(m, account, v, "the account's sending limit is reached");
		goto out;
	}
	if (send_reply(account, m->from, &msg, id, sizeof(id), &error) < 0) {
		vacation_event(m, account, v, error);
		goto out;
	}
	db_add(&lines, key, m->from, now, v->seconds);
	if (db_write(fd, &lines) < 0)
		log_warn(m->sid, "smtp: vacation record of %s cannot be written: %s", account, strerror(errno));
	vacation_event(m, account, v, NULL);
out:
	if (fd >= 0)
		close(fd);
	strbuf_free(&lines);
	strbuf_free(&msg);
}

void smtp_vacation_send(const struct vacation_msg *m, const char *account, const char *maildir,
			const struct smtp_vacation *v)
{
	size_t hlen = 0;
	char *header = original_header(m, &hlen);
	const char *why;

	if (header == NULL)
		return;
	why = autoreply_refused(header, hlen, m->from, account, (const char *const *)v->addresses,
				v->naddresses);
	if (why == NULL && v->from != NULL && strcasestr(v->from, m->from) != NULL)
		why = "the sender is the reply's own From address";
	if (why == NULL && m->spam)
		why = "the message is spam";
	if (why == NULL && !v->reply)
		why = "none of the user's addresses is in To, Cc or Bcc";
	if (why != NULL)
		vacation_event(m, account, v, why);
	else
		send_locked(m, account, maildir, v, header, hlen);
	free(header);
}

/* ---- reject and ereject notices (RFC 5429) ------------------------------ */

static void refusal_event(const struct vacation_msg *m, const char *account, bool mdn, const char *why)
{
	char detail[700];

	if (why == NULL)
		snprintf(detail, sizeof(detail), "%s sent to <%s>", mdn ? "MDN (deleted)" : "DSN (failed)", m->from);
	else
		snprintf(detail, sizeof(detail), "no %s to <%s>: %s", mdn ? "MDN" : "DSN", m->from, why);
	log_info(m->sid, "smtp: id=%s refusal for <%s>: %s", m->txid, account, detail);
	server_event("sieve-rejected", account, m->ip, detail);
}

void smtp_refusal_send(const struct vacation_msg *m, const char *account, bool mdn, const char *reason)
{
	struct strbuf msg = STRBUF_INIT;
	struct config cfg;
	size_t hlen = 0;
	char *header = original_header(m, &hlen);
	char mid[400], seed[33], reply[512], id[64];
	const char *why, *error = "";
	time_t now = time(NULL);
	struct tm tm;
	struct refusal_in in = {
		.header = header, .header_len = hlen, .mdn = mdn, .account = account, .to = m->from,
		.reason = reason != NULL ? reason : "", .date = (int64_t)now, .message_id = mid,
		.boundary_seed = seed,
	};

	if (header == NULL)
		return;
	why = autoreply_refusal_refused(header, hlen, m->from, account);
	if (why == NULL && m->spam)
		why = "the message is spam";	/* no backscatter to forged senders */
	if (why != NULL) {
		refusal_event(m, account, mdn, why);
		free(header);
		return;
	}
	server_config(&cfg);
	in.hostname = cfg.hostname;
	random_hex(seed, sizeof(seed));
	snprintf(mid, sizeof(mid), "<%lld.%s.refusal@%s>", (long long)now, seed, cfg.hostname);
	localtime_r(&now, &tm);
	in.tz_minutes = (int)(tm.tm_gmtoff / 60);
	if (autoreply_refusal_build(&in, &msg, &error) < 0)
		why = error;
	else if (sendguard_count_forward(account, 1, reply, sizeof(reply)) != SENDGUARD_OK)
		why = "the account's sending limit is reached";
	else if (send_reply(account, m->from, &msg, id, sizeof(id), &error) < 0)
		why = error;
	refusal_event(m, account, mdn, why);
	strbuf_free(&msg);
	free(header);
}
