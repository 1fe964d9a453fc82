/* The daily TLS reports (see tlsrpt.h). Blocks only its own thread on
 * DNS, the HTTPS client and the queue's writes. */
#include "server/tlsrpt.h"
#include "server/queue.h"
#include "server/server.h"
#include "policy/mta_sts.h"
#include "policy/tlsrpt.h"
#include "mail/compose.h"
#include "lib/dns.h"
#include "lib/https_client.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define TLSRPT_CHECK_INTERVAL 3600	/* seconds between looks for a finished day */
#define TLSRPT_JOURNAL_READ_MAX (32u << 20)
#define TLSRPT_DOMAINS_MAX 10000
#define TLSRPT_POST_TIMEOUT_MS 30000
#define TLSRPT_KEEP_DAYS 30		/* journals kept (sent or not) */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started, stop, woken;
} rpt = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* gzip (RFC 1952) of data into out: 0, or -1. */
static int gzip_bytes(const char *data, size_t len, struct strbuf *out)
{
	z_stream z;
	unsigned char buf[16384];
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = deflate(&z, Z_FINISH);
		if (r == Z_STREAM_ERROR)
			break;
		strbuf_append(out, buf, sizeof(buf) - z.avail_out);
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

/* The rua URIs of domain's one TLSRPTv1 record: their number (0: none). */
static size_t rua_lookup(const char *resolver, const char *domain, char rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1])
{
	char name[300], **txt = NULL, one[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1];
	const char *error = "";
	size_t n = 0, found = 0, nrua = 0, k;

	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (dns_txt_lookup(resolver, name, &txt, &n, &error) != DNS_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int r = tlsrpt_txt_parse(txt[i], one, &k, &error);

		if (r != 0)
			found++;
		if (r > 0) {
			memcpy(rua, one, sizeof(one));
			nrua = k;
		}
	}
	dns_txt_free(txt, n);
	return found == 1 ? nrua : 0;	/* several records: none counts (§3) */
}

struct day_ctx {
	const struct config *cfg;
	const char *journal, *day;
	size_t len;
	time_t start;
	char from[320];
	unsigned sent, failed;
};

/* The report mail (§5.3): multipart/report; report-type="tlsrpt". */
static void report_mail(struct strbuf *m, const struct day_ctx *d, const char *domain, const char *to,
			const char *id, const struct strbuf *gz)
{
	char date[64], boundary[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof(boundary), "tlsrpt-%lld-%u", (long long)now, (unsigned)getpid());
	strbuf_printf(m, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nSubject: Report Domain: %s Submitter: %s"
		      " Report-ID: <%s>\r\nMessage-ID: <%s>\r\nTLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
		      "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
		      "\tboundary=\"%s\"\r\n\r\n", d->from, to, date, domain, d->cfg->hostname, id, id, domain,
		      d->cfg->hostname, boundary);
	strbuf_printf(m, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe TLS report (RFC 8460) of"
		      " %s for %s, %s UTC: connections to the domain's mail servers and how TLS went.\r\n\r\n",
		      boundary, d->cfg->hostname, domain, d->day);
	strbuf_printf(m, "--%s\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
		      "Content-Disposition: attachment;\r\n\tfilename=\"%s!%s!%lld!%lld.json.gz\"\r\n\r\n", boundary,
		      d->cfg->hostname, domain, (long long)d->start, (long long)d->start + 86400);
	compose_base64(m, gz->data, gz->len);
	strbuf_printf(m, "--%s--\r\n", boundary);
}

static int send_mail(struct day_ctx *d, const char *domain, const char *uri, const char *id,
		     const struct strbuf *gz, char *why, size_t size)
{
	char to[TLSRPT_URI_MAX + 1], qid[QUEUE_ID_MAX];
	const char *rcpt = to, *error = "";
	struct maildir_msg mm;
	struct strbuf m;
	int r;

	str_copy(to, sizeof(to), uri + 7);
	to[strcspn(to, "?")] = '\0';
	if (strchr(to, '@') == NULL || strpbrk(to, " \t\r\n<>\"") != NULL) {
		snprintf(why, size, "bad address %s", uri);
		return -1;
	}
	strbuf_init(&m);
	report_mail(&m, d, domain, to, id, gz);
	memset(&mm, 0, sizeof(mm));
	mm.prefix = "";
	mm.body = strbuf_cstr(&m);
	mm.body_fd = -1;
	mm.body_len = m.len;
	r = queue_submit(NULL, d->from, &rcpt, 1, &mm, qid, sizeof(qid), &error);
	strbuf_free(&m);
	if (r < 0)
		snprintf(why, size, "%s: cannot queue: %s", to, error);
	else
		snprintf(why, size, "to <%s> queued as id=%s", to, qid);
	return r < 0 ? -1 : 0;
}

static int send_https(struct day_ctx *d, const char *uri, const struct strbuf *gz, char *why, size_t size)
{
	struct https_request req = { 0 };
	struct https_response resp;
	struct https_client *c;
	char err[256];
	int r = -1;

	if ((c = https_client_new(d->cfg->mta_sts_ca_file, err, sizeof(err))) == NULL) {
		snprintf(why, size, "%s", err);
		return -1;
	}
	req.method = "POST";
	req.url = uri;
	req.content_type = "application/tlsrpt+gzip";
	req.body = gz->data;
	req.body_len = gz->len;
	req.timeout_ms = TLSRPT_POST_TIMEOUT_MS;
	req.limits.max_header = 16 * 1024;
	req.limits.max_body = 64 * 1024;
	req.resolver = d->cfg->dns_resolver;
	if (https_request(c, &req, &resp, err, sizeof(err)) < 0)
		snprintf(why, size, "%s", err);
	else if (resp.status / 100 != 2)
		snprintf(why, size, "%s: HTTP status %d", uri, resp.status);
	else {
		snprintf(why, size, "posted to %s", uri);
		r = 0;
	}
	https_response_clear(&resp);
	https_client_free(c);
	return r;
}

/* One domain's report to each of its rua URIs. */
static void report_domain(const char *domain, void *ctx)
{
	struct day_ctx *d = ctx;
	char rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1], id[400], start[32], end[32], why[600], detail[900];
	struct tlsrpt_meta meta;
	struct strbuf gz;
	struct json j;
	const char *text;
	size_t nrua = rua_lookup(d->cfg->dns_resolver, domain, rua), len;

	if (nrua == 0)
		return;		/* the domain asks for no reports */
	snprintf(start, sizeof(start), "%sT00:00:00Z", d->day);
	snprintf(end, sizeof(end), "%sT23:59:59Z", d->day);
	snprintf(id, sizeof(id), "%s.%s@%s", d->day, domain, d->cfg->hostname);
	meta = (struct tlsrpt_meta){ d->cfg->hostname, d->from, id, start, end };
	json_init(&j);
	strbuf_init(&gz);
	if (tlsrpt_report_json(d->journal, d->len, domain, &meta, &j) <= 0 ||
	    (text = json_result(&j, &len)) == NULL || gzip_bytes(text, len, &gz) < 0) {
		log_warn(NULL, "tlsrpt: %s %s: cannot make the report", d->day, domain);
		goto out;
	}
	for (size_t i = 0; i < nrua; i++) {
		bool mail = strncasecmp(rua[i], "mailto:", 7) == 0;
		int r = mail ? send_mail(d, domain, rua[i], id, &gz, why, sizeof(why))
			: send_https(d, rua[i], &gz, why, sizeof(why));

		snprintf(detail, sizeof(detail), "%s %s: %s", domain, d->day, why);
		log_info(NULL, "tlsrpt: %s", detail);
		server_event(r == 0 ? "tlsrpt-sent" : "tlsrpt-failed", domain, "", detail);
		if (r == 0)
			d->sent++;
		else
			d->failed++;
	}
out:
	strbuf_free(&gz);
	json_free(&j);
}

/* Reads DATA/tlsrpt/DAY (DAY.sent when sent is set) and reports each
 * domain in it. */
static void report_day(const struct config *cfg, const char *dir, const char *day, bool sent)
{
	struct day_ctx d = { .cfg = cfg, .day = day };
	char path[4200];
	struct strbuf buf;
	struct tm tm;
	ssize_t n;
	int fd;

	memset(&tm, 0, sizeof(tm));
	if (strptime(day, "%Y-%m-%d", &tm) == NULL)
		return;
	d.start = timegm(&tm);
	if (cfg->tlsrpt_from[0] != '\0')
		str_copy(d.from, sizeof(d.from), cfg->tlsrpt_from);
	else
		snprintf(d.from, sizeof(d.from), "postmaster@%s", cfg->hostname);
	snprintf(path, sizeof(path), "%s/%s%s", dir, day, sent ? ".sent" : "");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	strbuf_init(&buf);
	for (;;) {
		strbuf_reserve(&buf, 65536);
		n = read(fd, buf.data + buf.len, 65536);
		if (n <= 0 || buf.len + (size_t)n > TLSRPT_JOURNAL_READ_MAX)
			break;
		buf.len += (size_t)n;
	}
	close(fd);
	d.journal = buf.data != NULL ? buf.data : "";
	d.len = buf.len;
	tlsrpt_journal_domains(d.journal, d.len, TLSRPT_DOMAINS_MAX, report_domain, &d);
	log_info(NULL, "tlsrpt: %s: %u report(s) sent, %u failed", day, d.sent, d.failed);
	strbuf_free(&buf);
}

static bool is_day(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strlen(s) == 10 ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	return end != NULL && *end == '\0';
}

/* Removes the journals (DAY, DAY.sent) older than TLSRPT_KEEP_DAYS, sent
 * or not: with the reports off they would pile up. */
static void report_prune(const char *dir, time_t now)
{
	char oldest[16], path[4300], day[16];
	time_t t = now - (time_t)TLSRPT_KEEP_DAYS * 86400;
	struct dirent *de;
	struct tm tm;
	DIR *dp;

	gmtime_r(&t, &tm);
	strftime(oldest, sizeof(oldest), "%Y-%m-%d", &tm);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		str_copy(day, sizeof(day), de->d_name);
		if (strlen(de->d_name) >= 10 && (de->d_name[10] == '\0' || strcmp(de->d_name + 10, ".sent") == 0)) {
			day[10] = '\0';
			if (is_day(day) && strcmp(day, oldest) < 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
				unlink(path);
			}
		}
	}
	closedir(dp);
}

/* A day yubinctl asked for, then every finished day not yet sent. */
static void report_run(void)
{
	struct config cfg;
	char dir[4200], path[4300], done[4400], today[16], req[32] = "";
	time_t now = time(NULL);
	struct dirent *de;
	struct tm tm;
	DIR *dp;
	int fd;

	server_config(&cfg);
	snprintf(dir, sizeof(dir), "%s/tlsrpt", server->data_dir);
	report_prune(dir, now);
	if (strcmp(cfg.tlsrpt, "on") != 0)
		return;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	snprintf(path, sizeof(path), "%s/request", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, req, sizeof(req) - 1);

		close(fd);
		unlink(path);
		req[n > 0 ? n : 0] = '\0';
		req[strcspn(req, "\r\n")] = '\0';
		/* today's so far, or a day sent already, again; a finished day
		 * not yet sent goes below, once */
		snprintf(path, sizeof(path), "%s/%s", dir, req);
		if (is_day(req) && strcmp(req, today) == 0)
			report_day(&cfg, dir, req, false);
		else if (is_day(req) && strcmp(req, today) < 0 && access(path, F_OK) < 0)
			report_day(&cfg, dir, req, true);
	}
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (!is_day(de->d_name) || strcmp(de->d_name, today) >= 0)
			continue;
		report_day(&cfg, dir, de->d_name, false);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(done, sizeof(done), "%s/%s.sent", dir, de->d_name);
		if (rename(path, done) < 0)
			log_warn(NULL, "tlsrpt: %s: %s", path, strerror(errno));
	}
	closedir(dp);
}

static void *report_thread(void *arg)
{
	struct timespec until;

	pthread_mutex_lock(&rpt.lock);
	while (!rpt.stop) {
		int r = 0;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += TLSRPT_CHECK_INTERVAL - until.tv_sec % TLSRPT_CHECK_INTERVAL + 60;
		while (!rpt.stop && !rpt.woken && r == 0)
			r = pthread_cond_timedwait(&rpt.cond, &rpt.lock, &until);
		if (rpt.stop)
			break;
		rpt.woken = false;
		pthread_mutex_unlock(&rpt.lock);
		report_run();
		pthread_mutex_lock(&rpt.lock);
	}
	pthread_mutex_unlock(&rpt.lock);
	return NULL;
}

void tlsrpt_start(void)
{
	rpt.stop = false;
	rpt.woken = true;	/* a day finished while the daemon was down */
	if (pthread_create(&rpt.thread, NULL, report_thread, NULL) != 0)
		log_fatal("tlsrpt: cannot start the report thread");
	rpt.started = true;
}

void tlsrpt_wake(void)
{
	pthread_mutex_lock(&rpt.lock);
	rpt.woken = true;
	pthread_cond_signal(&rpt.cond);
	pthread_mutex_unlock(&rpt.lock);
}

void tlsrpt_stop(void)
{
	if (!rpt.started)
		return;
	pthread_mutex_lock(&rpt.lock);
	rpt.stop = true;
	pthread_cond_signal(&rpt.cond);
	pthread_mutex_unlock(&rpt.lock);
	pthread_join(rpt.thread, NULL);
	rpt.started = false;
}
