/* The virus check at the end of DATA/BDAT (see smtp_virus.h). It runs on
 * the delivery job's worker, blocking on clamd with the virus.timeout
 * deadline: the message is already on a worker for the DMARC check and the
 * delivery, and its body may be a spooled file. A clamd that stalls past
 * the deadline is not asked again for VIRUS_HOLDOFF_MS, so a hung clamd
 * holds at most the workers of the messages that met it first. */
#include "server/smtp_virus.h"
#include "directory/directory.h"
#include "mail/header.h"
#include "server/server.h"
#include "server/stats.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "settings/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define VIRUS_HOLDOFF_MS 10000		/* after a timeout, clamd counts as down this long */
#define VIRUS_EVENT_INTERVAL 300	/* at most one virus-unavailable event per 5 minutes */
#define VIRUS_COPY_MEM_MAX (1024 * 1024)
#define VIRUS_HEADER "X-Virus-Scan: unavailable\r\n"
#define VIRUS_HEADER_SKIPPED "X-Virus-Scan: skipped (too large to scan)\r\n"

static _Atomic int64_t virus_holdoff_until;	/* CLOCK_MONOTONIC ms */
static pthread_mutex_t virus_holdoff_lock = PTHREAD_MUTEX_INITIALIZER;
static char virus_holdoff_clamd[sizeof(((struct config *)0)->virus_clamd)];	/* the clamd that stalled */
static pthread_mutex_t virus_event_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t virus_event_last;
static unsigned virus_event_suppressed;

static int64_t virus_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void smtp_virus_init(struct smtp_virus *v)
{
	memset(v, 0, sizeof(*v));
	v->copy_fd = -1;
}

void smtp_virus_free(struct smtp_virus *v)
{
	if (v == NULL)
		return;
	free(v->copy);
	v->copy = NULL;
	if (v->copy_fd >= 0)
		close(v->copy_fd);
	v->copy_fd = -1;
}

static bool virus_domain_on(struct directory *dir, const char *address)
{
	const char *at = strrchr(address, '@');

	/* unreadable settings: scan (the safe side) */
	return dir == NULL || at == NULL || settings_domain_bool(dir, at + 1, SETTING_VIRUS);
}

/* Submission: the login's domain decides. Inbound: the recipients'
 * domains; with several, one that wants the check is enough, since the
 * message is one and its copies are the same. */
static bool virus_wanted(const struct smtp_virus_msg *m)
{
	struct directory *dir = server_directory();

	if (m->login[0] != '\0')
		return virus_domain_on(dir, m->login);
	for (size_t i = 0; i < m->nrcpts; i++) {
		if (virus_domain_on(dir, m->rcpts[i]))
			return true;
	}
	return false;
}

/* One event for a clamd that cannot scan, at most every
 * VIRUS_EVENT_INTERVAL seconds, counting the ones left out. */
static void virus_event_unavailable(const struct smtp_virus_msg *m, const char *clamd, const char *why,
				    bool defer)
{
	char detail[512];
	time_t now = time(NULL);
	unsigned more;

	pthread_mutex_lock(&virus_event_lock);
	if (virus_event_last != 0 && now - virus_event_last < VIRUS_EVENT_INTERVAL) {
		virus_event_suppressed++;
		pthread_mutex_unlock(&virus_event_lock);
		return;
	}
	virus_event_last = now;
	more = virus_event_suppressed;
	virus_event_suppressed = 0;
	pthread_mutex_unlock(&virus_event_lock);
	snprintf(detail, sizeof(detail), "clamd at %s: %s; message id %s %s (%u more unscanned since the"
		 " last such event)", clamd, why, m->txid,
		 defer ? "deferred with 451 4.7.1" : "accepted with X-Virus-Scan: unavailable", more);
	server_event("virus-unavailable", "", m->ip, detail);
}

static void virus_event_found(const struct smtp_virus_msg *m, const char *name)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "%s in a message from <%s>, id %s: refused with 554 5.7.1", name,
		 m->from, m->txid);
	if (m->login[0] != '\0') {
		server_event("virus-refused", m->login, m->ip, detail);
		return;
	}
	for (size_t i = 0; i < m->nrcpts; i++)
		server_event("virus-refused", m->rcpts[i], m->ip, detail);
}

/* Did this clamd stall lately? Another one (virus.clamd changed) is
 * asked at once. */
static bool virus_held_off(const char *clamd)
{
	bool held;

	if (virus_mono_ms() >= atomic_load(&virus_holdoff_until))
		return false;
	pthread_mutex_lock(&virus_holdoff_lock);
	held = strcmp(virus_holdoff_clamd, clamd) == 0;
	pthread_mutex_unlock(&virus_holdoff_lock);
	return held;
}

static void virus_hold_off(const char *clamd)
{
	pthread_mutex_lock(&virus_holdoff_lock);
	str_copy(virus_holdoff_clamd, sizeof(virus_holdoff_clamd), clamd);
	atomic_store(&virus_holdoff_until, virus_mono_ms() + VIRUS_HOLDOFF_MS);
	pthread_mutex_unlock(&virus_holdoff_lock);
}

/* Asks clamd unless it stalled lately: the verdict in r. */
static void virus_ask(const struct config *cfg, const char *msg, size_t len, struct virus_result *r)
{
	struct clamd_address a;
	const char *error;

	if (virus_held_off(cfg->virus_clamd)) {
		memset(r, 0, sizeof(*r));
		r->verdict = VIRUS_UNAVAILABLE;
		str_copy(r->why, sizeof(r->why), "clamd timed out moments ago; not asked again yet");
		return;
	}
	if (clamd_address_parse(cfg->virus_clamd, &a, &error) < 0) {
		memset(r, 0, sizeof(*r));
		r->verdict = VIRUS_UNAVAILABLE;
		snprintf(r->why, sizeof(r->why), "bad %s: %s", settings_key(SETTING_CONF_VIRUS_CLAMD), error);
		return;
	}
	virus_scan(&a, cfg->virus_timeout * 1000, msg, len, r);
	if (r->verdict == VIRUS_UNAVAILABLE && r->timed_out)
		virus_hold_off(cfg->virus_clamd);
}

/* Writes msg without the ranges, after prefix, into memory or an unlinked
 * file in DATA/tmp: 0, or -1. */
static int virus_copy(struct smtp_virus *v, const char *prefix, const char *msg, size_t len,
		      const struct mail_header_field *drop, size_t ndrop, const char **body, int *body_fd,
		      size_t *body_len)
{
	size_t plen = strlen(prefix), removed = 0, out = 0, pos = 0;
	char dir[4200];

	for (size_t i = 0; i < ndrop; i++)
		removed += drop[i].size;
	if (len - removed + plen <= VIRUS_COPY_MEM_MAX) {
		if ((v->copy = malloc(len - removed + plen + 1)) == NULL)
			return -1;
		memcpy(v->copy, prefix, plen);
		out = plen;
		for (size_t i = 0; i <= ndrop; i++) {
			size_t end = i < ndrop ? drop[i].offset : len;
			memcpy(v->copy + out, msg + pos, end - pos);
			out += end - pos;
			if (i < ndrop)
				pos = drop[i].offset + drop[i].size;
		}
		*body = v->copy;
		*body_fd = -1;
		*body_len = out;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/tmp", server->data_dir);
	if ((v->copy_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0 ||
	    fs_write_all(v->copy_fd, prefix, plen) < 0)
		return -1;
	out = plen;
	for (size_t i = 0; i <= ndrop; i++) {
		size_t end = i < ndrop ? drop[i].offset : len;
		if (fs_write_all(v->copy_fd, msg + pos, end - pos) < 0)
			return -1;
		out += end - pos;
		if (i < ndrop)
			pos = drop[i].offset + drop[i].size;
	}
	*body = NULL;
	*body_fd = v->copy_fd;
	*body_len = out;
	return 0;
}

/* The X-Virus-Scan fields of the message's header (forged: only this
 * server writes them), in order: how many, into *f_r (malloc'd, or NULL
 * when none); -1 when out of memory. */
static ssize_t virus_forged(const char *msg, size_t len, struct mail_header_field **f_r)
{
	struct mail_header_iter it;
	struct mail_header_field field;
	size_t n = 0, max = 0, hlen = mail_header_block_size(msg, len);

	*f_r = NULL;
	mail_header_iter_init(&it, msg, hlen);
	while (mail_header_iter_next(&it, &field)) {
		if (!mail_header_field_is(&field, "x-virus-scan"))
			continue;
		if (n == max) {
			struct mail_header_field *g = realloc(*f_r, (max = max == 0 ? 4 : max * 2) * sizeof(*g));
			if (g == NULL) {
				free(*f_r);
				*f_r = NULL;
				return -1;
			}
			*f_r = g;
		}
		(*f_r)[n++] = field;
	}
	return (ssize_t)n;
}

/* A message too large for clamd: delivered unscanned, marked so. */
static int virus_skip(const struct smtp_virus_msg *m, size_t len, bool clamd_said, const char **header_r)
{
	const char *key = settings_key(SETTING_CONF_VIRUS_MAX_SIZE);

	if (clamd_said)
		log_info(m->sid, "smtp: id=%s virus scan skipped: %zu bytes, above clamd's StreamMaxLength (lower %s"
			 " to match it)", m->txid, len, key);
	else
		log_info(m->sid, "smtp: id=%s virus scan skipped: %zu bytes, above %s", m->txid, len, key);
	stats_inc(STATS_VIRUS_SCANS, VIRUS_SCAN_SKIPPED);
	*header_r = VIRUS_HEADER_SKIPPED;
	return 0;
}

/* The check on the message at msg: 0 (with *header_r the X-Virus-Scan
 * field to add, or NULL), or -1 refused. */
static int virus_check(struct smtp_virus *v, const struct smtp_virus_msg *m, const char *msg, size_t len,
		       const char **header_r)
{
	struct config cfg;
	struct virus_result r;

	*header_r = NULL;
	server_config(&cfg);
	if (cfg.virus_clamd[0] == '\0' || !virus_wanted(m))
		return 0;
	if (cfg.virus_max_size != 0 && len > cfg.virus_max_size)
		return virus_skip(m, len, false, header_r);
	virus_ask(&cfg, msg, len, &r);
	if (r.verdict == VIRUS_CLEAN) {
		log_info(m->sid, "smtp: id=%s virus scan: clean", m->txid);
		stats_inc(STATS_VIRUS_SCANS, VIRUS_SCAN_CLEAN);
		return 0;
	}
	if (r.verdict == VIRUS_FOUND) {
		v->found = true;
		str_copy(v->name, sizeof(v->name), r.name);
		log_info(m->sid, "smtp: id=%s virus scan: %s found: refused", m->txid, r.name);
		stats_inc(STATS_VIRUS_SCANS, VIRUS_SCAN_FOUND);
		virus_event_found(m, r.name);
		return -1;
	}
	if (r.verdict == VIRUS_TOO_LARGE)
		return virus_skip(m, len, true, header_r);
	v->defer = strcmp(cfg.virus_unavailable, "defer") == 0;
	log_warn(m->sid, "smtp: id=%s virus scan unavailable (%s): %s", m->txid, r.why,
		 v->defer ? "deferred" : "accepted with X-Virus-Scan: unavailable");
	stats_inc(STATS_VIRUS_SCANS, VIRUS_SCAN_UNAVAILABLE);
	virus_event_unavailable(m, cfg.virus_clamd, r.why, v->defer);
	*header_r = v->defer ? NULL : VIRUS_HEADER;
	return v->defer ? -1 : 0;
}

int smtp_virus_run(struct smtp_virus *v, const struct smtp_virus_msg *m, const char **body, int *body_fd,
		   size_t *body_len)
{
	struct mail_header_field *forged = NULL;
	const char *msg = *body;
	void *map = NULL;
	size_t len = *body_len;
	ssize_t nforged = 0;
	const char *header;
	int rc = 0;

	if (*body_fd >= 0 && len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, *body_fd, 0);
		if (map == MAP_FAILED) {
			log_error(m->sid, "smtp: id=%s cannot map the spooled message: %s", m->txid,
				  strerror(errno));
			return -1;
		}
		msg = map;
	}
	if (msg == NULL)
		msg = "";
	if (virus_check(v, m, msg, len, &header) < 0 || (nforged = virus_forged(msg, len, &forged)) < 0) {
		rc = -1;
	} else {
		if (nforged > 0)
			log_info(m->sid, "smtp: id=%s removing %zd X-Virus-Scan field%s from outside", m->txid,
				 nforged, nforged == 1 ? "" : "s");
		if ((nforged > 0 || header != NULL) &&
		    virus_copy(v, header != NULL ? header : "", msg, len, forged, (size_t)nforged, body, body_fd,
			       body_len) < 0) {
			log_error(m->sid, "smtp: id=%s cannot rewrite the message's X-Virus-Scan field: %s",
				  m->txid, strerror(errno));
			rc = -1;
		}
	}
	free(forged);
	if (map != NULL)
		munmap(map, len);
	return rc;
}
