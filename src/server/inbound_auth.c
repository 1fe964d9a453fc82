/* Inbound authentication: SPF for the client address and envelope, DKIM
 * signatures, DMARC for the From: domain, one Authentication-Results
 * field for every copy, forged fields with our authserv-id removed, and
 * the `inbound-dmarc` domain setting applied.
 *
 * The DNS is gathered on the session's loop while the message comes in,
 * in a batch of lib/dns_async.h: from MAIL FROM the SPF evaluation runs
 * against the batch, then again each time answers arrive, until it needs
 * no more; once the header is in, DKIM's key lookups and DMARC's policy
 * lookups join. At the end of DATA the delivery waits only for what is
 * still in flight, bounded by the message's budget (dns.message_budget),
 * and the final evaluation on the worker reads nothing but the batch's
 * answers: it never waits for DNS. */
#include "server/inbound_auth.h"
#include "server/server.h"
#include "server/smtp_session.h"
#include "directory/directory.h"
#include "mail/authres.h"
#include "policy/dkim_verify.h"
#include "policy/dmarc.h"
#include "policy/spf.h"
#include "store/maildir.h"
#include "lib/dns.h"
#include "lib/dns_async.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "settings/settings.h"

#include "spam/spam_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A copy without forged fields stays in memory up to this size (as the
 * DATA spool does). */
#define INBOUND_COPY_MEM_MAX (1024 * 1024)

struct inbound_auth {
	char sid[12], txid[16], ip[64];
	char helo[256];
	char mail_from[MAIL_PATH_MAX + 8];	/* "" for <> */
	char hostname[256];
	char resolver[256];
	bool authenticated;

	bool checked;
	struct spf_outcome spf;
	struct dkim_verdict dkim[DKIM_VERIFY_MAX];
	size_t ndkim;
	struct dmarc_verdict dmarc;
	char from_domain[DNS_NAME_MAX];
	char dmarc_problem[96];		/* the From: field could not be used */
	struct strbuf header;
	char reject[320];

	/* the copy without forged fields */
	char *copy;
	int copy_fd;

	/* DNS gathered on the loop (NULL: blocking lookups on the worker) */
	struct dns_batch *batch;
	unsigned budget_ms;
	struct strbuf hdr;		/* the header so far, up to INBOUND_HEADER_MAX */
	bool hdr_done;			/* hdr is the whole header (or all we keep of it) */
	bool keys_asked;		/* the DKIM keys the header names are in the batch */
	bool handed_off;		/* the batch is frozen for the final evaluation */
	void (*ready_cb)(void *arg);
	void *ready_arg;
};

/* The header bytes kept for the lookups that start before the end of
 * DATA; DKIM signatures further down are looked up only by the final
 * evaluation, from the cache. */
#define INBOUND_HEADER_MAX (256 * 1024)

static void inbound_pump(void *arg);

struct inbound_auth *inbound_auth_new(const struct smtp_session *s)
{
	struct inbound_auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->copy_fd = -1;
	strbuf_init(&a->header);
	str_copy(a->sid, sizeof(a->sid), s->conn->sid);
	str_copy(a->txid, sizeof(a->txid), s->tx.txid);
	str_copy(a->ip, sizeof(a->ip), s->conn->ip);
	str_copy(a->helo, sizeof(a->helo), s->helo);
	if (!s->tx.from.null_path)
		mail_path_format(&s->tx.from, a->mail_from, sizeof(a->mail_from));
	str_copy(a->hostname, sizeof(a->hostname), s->lim.hostname);
	str_copy(a->resolver, sizeof(a->resolver), s->lim.dns_resolver);
	a->authenticated = s->authenticated;
	a->budget_ms = s->lim.dns_message_budget;
	strbuf_init(&a->hdr);
	if (!a->authenticated && s->conn->loop->dns != NULL &&
	    (a->batch = dns_batch_new(s->conn->loop->dns, a->resolver, a->budget_ms)) != NULL) {
		dns_batch_set_cb(a->batch, inbound_pump, a);
		inbound_pump(a);	/* SPF's lookups start now */
	}
	return a;
}

void inbound_auth_free(struct inbound_auth *a)
{
	if (a == NULL)
		return;
	strbuf_free(&a->header);
	strbuf_free(&a->hdr);
	dns_batch_free(a->batch);
	free(a->copy);
	if (a->copy_fd >= 0)
		close(a->copy_fd);
	free(a);
}

const char *inbound_auth_header(const struct inbound_auth *a)
{
	return a != NULL ? strbuf_cstr(&a->header) : "";
}

const char *inbound_auth_reject_text(const struct inbound_auth *a)
{
	return a->reject;
}

/* ---- the checks */

static void inbound_spf(struct inbound_auth *a)
{
	struct spf_dns dns;
	struct spf_dns_real real;
	struct spf_request req = { .helo = a->helo, .mail_from = a->mail_from, .receiver = a->hostname };

	if (a->batch != NULL)
		spf_dns_batch_init(&dns, &real, a->batch);
	else
		spf_dns_real_init(&dns, &real, a->resolver);
	if (spf_ip_parse(a->ip, &req.ip) < 0) {
		memset(&a->spf, 0, sizeof(a->spf));
		a->spf.result = SPF_NONE;
		str_copy(a->spf.reason, sizeof(a->spf.reason), "the client address is not an IP address");
		return;
	}
	spf_check(&dns, &req, &a->spf);
}

static void inbound_dmarc(struct inbound_auth *a, const char *msg, size_t len)
{
	const char *dkim_domains[DKIM_VERIFY_MAX];
	struct dmarc_input in = { 0 };
	const char *error = NULL;
	int r = dmarc_from_domain(msg, len, a->from_domain, sizeof(a->from_domain), &error);

	memset(&a->dmarc, 0, sizeof(a->dmarc));
	if (r <= 0) {
		/* RFC 7489 section 6.6.1: without exactly one From domain,
		 * DMARC cannot be applied; say so */
		a->dmarc.result = r == 0 ? DMARC_RES_NONE : DMARC_RES_PERMERROR;
		str_copy(a->dmarc_problem, sizeof(a->dmarc_problem), error != NULL ? error : "no From domain");
		return;
	}
	for (size_t i = 0; i < a->ndkim; i++) {
		if (a->dkim[i].result == DKIM_PASS)
			dkim_domains[in.ndkim++] = a->dkim[i].domain;
	}
	in.from_domain = a->from_domain;
	in.spf_domain = a->spf.domain;
	in.spf_pass = a->spf.result == SPF_PASS;
	in.dkim_domains = dkim_domains;
	in.sample = arc4random_uniform(100);
	if (a->batch != NULL)
		dmarc_check_batch(a->batch, &in, &a->dmarc);
	else
		dmarc_check(a->resolver, &in, &a->dmarc);
}

static void inbound_build_header(struct inbound_auth *a)
{
	struct authres_dkim d[DKIM_VERIFY_MAX];
	char spf_comment[200], dmarc_comment[200];
	struct authres ar = {
		.authserv_id = a->hostname,
		.spf_result = spf_result_name(a->spf.result),
		.spf_helo = a->spf.helo_identity,
		.spf_identity = a->spf.helo_identity ? a->helo : a->spf.identity,
		.spf_comment = spf_comment,
		.dkim_checked = true, .dkim = d, .ndkim = a->ndkim,
		.dmarc_result = dmarc_res_name(a->dmarc.result),
		.dmarc_from = a->from_domain,
		.dmarc_comment = dmarc_comment,
	};

	switch (a->spf.result) {
	case SPF_PASS:
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		if (strcmp(a->spf.mechanism, "default") == 0)
			snprintf(spf_comment, sizeof(spf_comment), "%s: no mechanism of %s matched %s",
				 a->hostname, a->spf.domain, a->ip);
		else
			snprintf(spf_comment, sizeof(spf_comment), "%s: %s matched %s of %s", a->hostname,
				 a->ip, a->spf.mechanism, a->spf.domain);
		break;
	default:
		snprintf(spf_comment, sizeof(spf_comment), "%s: %s", a->hostname, a->spf.reason);
		break;
	}
	for (size_t i = 0; i < a->ndkim; i++) {
		d[i].result = dkim_res_name(a->dkim[i].result);
		d[i].domain = a->dkim[i].domain;
		d[i].selector = a->dkim[i].selector;
		d[i].b = a->dkim[i].header_b;
		d[i].reason = a->dkim[i].reason;
	}
	if (a->dmarc_problem[0] != '\0')
		str_copy(dmarc_comment, sizeof(dmarc_comment), a->dmarc_problem);
	else if (a->dmarc.have_record) {
		snprintf(dmarc_comment, sizeof(dmarc_comment), "p=%s%s%s pct=%u dis=%s",
			 dmarc_policy_name(a->dmarc.rec.p), a->dmarc.rec.has_sp ? " sp=" : "",
			 a->dmarc.rec.has_sp ? dmarc_policy_name(a->dmarc.rec.sp) : "", a->dmarc.rec.pct,
			 dmarc_policy_name(a->dmarc.disposition));
		ar.dmarc_policy = dmarc_policy_name(a->dmarc.policy);
	} else
		str_copy(dmarc_comment, sizeof(dmarc_comment), a->dmarc.reason);
	authres_build(&ar, &a->header);
}

/* ---- DNS on the loop, while the message comes in */

/* The lookups the header asks for: each signature's DKIM key (asked for,
 * nothing verified: the body is not there yet) and the DMARC policy (its
 * verdict thrown away; only the names it looks up matter here). */
static void inbound_header_lookups(struct inbound_auth *a)
{
	const char *hdr = a->hdr.len > 0 ? strbuf_cstr(&a->hdr) : "";
	char from[DNS_NAME_MAX];
	const char *error = NULL;

	/* the header does not change: its signatures' keys are asked for
	 * once; the DMARC walk runs again, its next names depend on answers */
	if (!a->keys_asked) {
		dkim_prefetch_batch(a->batch, hdr, a->hdr.len);
		a->keys_asked = true;
	}
	if (dmarc_from_domain(hdr, a->hdr.len, from, sizeof(from), &error) == 1) {
		struct dmarc_input in = { .from_domain = from };
		struct dmarc_verdict dv;
		dmarc_check_batch(a->batch, &in, &dv);
	}
}

/* Runs the evaluations against the batch until they need nothing new,
 * sending the queries for what they lack; once nothing is in flight and
 * the message is complete, hands over to the waiting delivery. Runs again
 * (as the batch's callback) whenever answers arrive. */
static void inbound_pump(void *arg)
{
	struct inbound_auth *a = arg;
	void (*cb)(void *);

	if (a->batch == NULL || a->handed_off)
		return;
	for (;;) {
		size_t before = dns_batch_size(a->batch);

		inbound_spf(a);
		if (a->hdr_done)
			inbound_header_lookups(a);
		if (dns_batch_size(a->batch) == before)
			break;
		dns_batch_fetch(a->batch);
	}
	if (dns_batch_pending(a->batch) > 0 || a->ready_cb == NULL)
		return;
	if (dns_batch_is_exhausted(a->batch))
		log_info(a->sid, "smtp: id=%s DNS budget of %u ms used up: missing answers count as temperror",
			 a->txid, a->budget_ms);
	a->handed_off = true;
	dns_batch_freeze(a->batch);
	cb = a->ready_cb;
	a->ready_cb = NULL;
	cb(a->ready_arg);
}

/* Finds the end of the header in hdr from offset from: the offset just
 * after the empty line, or 0 when it is not there yet. */
static size_t inbound_header_end(const char *h, size_t len, size_t from)
{
	if (from == 0 && len >= 1 && h[0] == '\n')
		return 1;
	if (from == 0 && len >= 2 && h[0] == '\r' && h[1] == '\n')
		return 2;
	for (size_t i = from > 0 ? from - 1 : 0; i + 1 < len; i++) {
		if (h[i] != '\n')
			continue;
		if (h[i + 1] == '\n')
			return i + 2;
		if (h[i + 1] == '\r' && i + 2 < len && h[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

void inbound_auth_feed(struct inbound_auth *a, const char *data, size_t len)
{
	size_t old, take, end;

	if (a == NULL || a->batch == NULL || a->hdr_done || a->handed_off)
		return;
	old = a->hdr.len;
	take = len < INBOUND_HEADER_MAX - old ? len : INBOUND_HEADER_MAX - old;
	strbuf_append(&a->hdr, data, take);
	end = inbound_header_end(strbuf_cstr(&a->hdr), a->hdr.len, old > 2 ? old - 2 : 0);
	if (end > 0)
		strbuf_truncate(&a->hdr, end);
	else if (a->hdr.len < INBOUND_HEADER_MAX)
		return;
	a->hdr_done = true;
	inbound_pump(a);
}

void inbound_auth_when_ready(struct inbound_auth *a, void (*cb)(void *arg), void *arg)
{
	if (a->batch == NULL || a->handed_off) {
		cb(arg);
		return;
	}
	a->hdr_done = true;	/* a message without a body: the header is all of it */
	a->ready_cb = cb;
	a->ready_arg = arg;
	inbound_pump(a);
}

/* ---- forged fields */

/* Copies msg without the ranges into memory or a spool file. */
static int inbound_copy(struct inbound_auth *a, const char *msg, size_t len, const struct authres_range *r,
			size_t n, const char **body, int *body_fd, size_t *body_len)
{
	size_t removed = 0, pos = 0, out = 0;

	for (size_t i = 0; i < n; i++)
		removed += r[i].size;
	if (len - removed <= INBOUND_COPY_MEM_MAX) {
		a->copy = malloc(len - removed + 1);
		if (a->copy == NULL)
			return -1;
		for (size_t i = 0; i <= n; i++) {
			size_t end = i < n ? r[i].offset : len;
			memcpy(a->copy + out, msg + pos, end - pos);
			out += end - pos;
			if (i < n)
				pos = r[i].offset + r[i].size;
		}
		*body = a->copy;
		*body_fd = -1;
		*body_len = out;
		return 0;
	} else {
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/tmp", server->data_dir);
		a->copy_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (a->copy_fd < 0)
			return -1;
		for (size_t i = 0; i <= n; i++) {
			size_t end = i < n ? r[i].offset : len;
			while (pos < end) {
				ssize_t w = write(a->copy_fd, msg + pos, end - pos);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return -1;
				pos += (size_t)w;
				out += (size_t)w;
			}
			if (i < n)
				pos = r[i].offset + r[i].size;
		}
		*body = NULL;
		*body_fd = a->copy_fd;
		*body_len = out;
		return 0;
	}
}

/* Finds our authserv-id's fields in the header and drops them. */
static int inbound_strip(struct inbound_auth *a, const char *msg, size_t len, const char **body, int *body_fd,
			 size_t *body_len)
{
	size_t max = 16, n = 0;
	struct authres_range *r = NULL;
	bool more = true;
	int rc = 0;

	while (more) {
		struct authres_range *g = realloc(r, max * sizeof(*r));
		if (g == NULL) {
			free(r);
			return -1;
		}
		r = g;
		n = authres_find_ours(msg, len, a->hostname, r, max, &more);
		max *= 4;
	}
	if (n > 0) {
		log_info(a->sid, "smtp: id=%s removing %zu Authentication-Results field%s claiming to be"
			 " from %s", a->txid, n, n == 1 ? "" : "s", a->hostname);
		rc = inbound_copy(a, msg, len, r, n, body, body_fd, body_len);
		if (rc < 0)
			log_error(a->sid, "smtp: id=%s cannot copy the message without forged fields: %s",
				  a->txid, strerror(errno));
	}
	free(r);
	return rc;
}

int inbound_auth_run(struct inbound_auth *a, const char **body, int *body_fd, size_t *body_len)
{
	const char *msg = *body;
	void *map = NULL;
	size_t len = *body_len;
	int rc;

	if (*body_fd >= 0 && len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, *body_fd, 0);
		if (map == MAP_FAILED) {
			log_error(a->sid, "smtp: id=%s cannot map the spooled message: %s", a->txid,
				  strerror(errno));
			return -1;
		}
		msg = map;
	}
	if (msg == NULL)
		msg = "";
	if (!a->authenticated) {
		if (a->batch == NULL)
			dns_deadline_set(a->budget_ms);	/* blocking lookups, bounded all the same */
		else
			dns_batch_freeze(a->batch);
		inbound_spf(a);
		a->ndkim = a->batch != NULL ? dkim_verify_batch(a->batch, msg, len, a->dkim, DKIM_VERIFY_MAX)
					    : dkim_verify(a->resolver, msg, len, a->dkim, DKIM_VERIFY_MAX);
		inbound_dmarc(a, msg, len);
		dns_deadline_set(0);
		inbound_build_header(a);
		a->checked = true;
		log_info(a->sid, "smtp: id=%s auth spf=%s (%s) dkim=%s%s dmarc=%s from_domain=%s%s%s", a->txid,
			 spf_result_name(a->spf.result), a->spf.domain,
			 a->ndkim > 0 ? dkim_res_name(a->dkim[0].result) : "none",
			 a->ndkim > 1 ? "+" : "", dmarc_res_name(a->dmarc.result), a->from_domain,
			 a->dmarc.result == DMARC_RES_FAIL ? " policy=" : "",
			 a->dmarc.result == DMARC_RES_FAIL ? dmarc_policy_name(a->dmarc.disposition) : "");
	}
	rc = inbound_strip(a, msg, len, body, body_fd, body_len);
	if (map != NULL)
		munmap(map, len);
	return rc;
}

void inbound_auth_results(const struct inbound_auth *a, struct spam_auth *r)
{
	memset(r, 0, sizeof(*r));
	if (!a->checked)
		return;
	str_copy(r->spf, sizeof(r->spf), spf_result_name(a->spf.result));
	str_copy(r->dmarc, sizeof(r->dmarc), dmarc_res_name(a->dmarc.result));
	/* any signature that passed makes DKIM pass, as the rules read it */
	str_copy(r->dkim, sizeof(r->dkim), a->ndkim > 0 ? dkim_res_name(a->dkim[0].result) : "none");
	for (size_t i = 0; i < a->ndkim; i++) {
		if (strcmp(dkim_res_name(a->dkim[i].result), "pass") == 0)
			str_copy(r->dkim, sizeof(r->dkim), "pass");
	}
}

/* ---- inbound-dmarc */

static bool inbound_dmarc_enforced(struct directory *dir, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	return dir != NULL && at != NULL && settings_domain_bool(dir, at + 1, SETTING_INBOUND_DMARC);
}

bool inbound_auth_decide(struct inbound_auth *a, const char *const *rcpts, size_t n, bool *junk_r)
{
	struct directory *dir;
	bool enforce[n > 0 ? n : 1];
	size_t nenforce = 0;
	enum dmarc_policy dis = a->dmarc.disposition;
	char detail[400];

	for (size_t i = 0; i < n; i++)
		junk_r[i] = false;
	if (!a->checked || a->dmarc.result != DMARC_RES_FAIL || dis == DMARC_POLICY_NONE || n == 0)
		return false;
	dir = server_directory();
	for (size_t i = 0; i < n; i++) {
		enforce[i] = rcpts[i] != NULL && inbound_dmarc_enforced(dir, rcpts[i]);
		nenforce += enforce[i];
	}
	if (nenforce == 0)
		return false;
	if (dis == DMARC_POLICY_REJECT && nenforce == n) {
		snprintf(a->reject, sizeof(a->reject),
			 "Message refused by the DMARC policy (p=reject) of %s, the From: domain:"
			 " neither SPF nor DKIM authenticates it as sent by %s", a->from_domain, a->from_domain);
		snprintf(detail, sizeof(detail), "DMARC fail for From domain %s (p=reject): refused, id %s",
			 a->from_domain, a->txid);
		for (size_t i = 0; i < n; i++)
			server_event("dmarc-reject", rcpts[i], a->ip, detail);
		log_info(a->sid, "smtp: id=%s refused by the DMARC policy of %s", a->txid, a->from_domain);
		return true;
	}
	snprintf(detail, sizeof(detail), "DMARC fail for From domain %s (p=%s): delivered to Junk, id %s%s",
		 a->from_domain, dmarc_policy_name(dis), a->txid,
		 dis == DMARC_POLICY_REJECT ? " (other recipients accept the message)" : "");
	for (size_t i = 0; i < n; i++) {
		if (!enforce[i])
			continue;
		junk_r[i] = true;
		server_event("dmarc-quarantine", rcpts[i], a->ip, detail);
		log_info(a->sid, "smtp: id=%s to=<%s> quarantined (DMARC policy of %s)", a->txid, rcpts[i],
			 a->from_domain);
	}
	return false;
}

int inbound_auth_junk_path(const char *maildir, char *buf, size_t size)
{
	struct stat st;
	int n = snprintf(buf, size, "%s/.Junk", maildir);
	char sub[4200];

	if (n < 0 || (size_t)n >= size)
		return -1;
	snprintf(sub, sizeof(sub), "%s/new", buf);
	if (stat(sub, &st) < 0 && maildir_folders_mend(maildir) < 0)
		return -1;
	return 0;
}
