/* The daemon's metrics: the table of names shown at /metrics, the calls
 * the services make, and the queue's gauges (see stats.h). */
#include "server/stats.h"
#include "http/http.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "store/queue_file.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* threads of the daemon seldom exceed this: loops, workers, queue */
#define STATS_SHARDS 32

static struct metrics *registry;

static const char *const conn_services[] = {
	"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps", "sieve", "lmtp", "http", "https", NULL,
};
static const char *const open_services[] = {
	"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps", "sieve", "lmtp", "https", NULL,
};
static const char *const reject_reasons[] = {
	"rcpt_unknown", "mailbox_disabled", "quota", "relay_denied", "batv_tag", "dmarc",
	"rate_limit", "suspended", "sender", "size", "auth_required", "too_many_recipients",
	"connection_limit", NULL,
};
static const char *const outbound_results[] = { "sent", "deferred", "bounced", "expired", NULL };
static const char *const auth_services[] = { "smtp", "pop3", "imap", "sieve", "web", NULL };
static const char *const block_kinds[] = { "ip", "account", "delayed", NULL };
static const char *const virus_results[] = { "clean", "found", "unavailable", "skipped", NULL };
static const char *const spam_results[] = { "ham", "spam", "allowed", "blocked", NULL };

/* seconds, observed in microseconds: 1 ms to 60 s */
static const uint64_t time_bounds[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};
#define TIME_BOUNDS (sizeof(time_bounds) / sizeof(time_bounds[0]))

static atomic_uint open_mail[SERVICE_COUNT];
static atomic_llong queue_messages, queue_oldest;	/* oldest: creation time, 0 none */

static int64_t read_open(size_t series, void *arg)
{
	if (series < SERVICE_COUNT)
		return atomic_load_explicit(&open_mail[series], memory_order_relaxed);
	return http_conn_open_count();
}

static int64_t read_queue(size_t series, void *arg)
{
	int64_t oldest;

	if (arg == NULL)
		return atomic_load_explicit(&queue_messages, memory_order_relaxed);
	oldest = atomic_load_explicit(&queue_oldest, memory_order_relaxed);
	if (oldest <= 0 || oldest > (int64_t)time(NULL))
		return 0;
	return (int64_t)time(NULL) - oldest;
}

#define HISTOGRAM(n, h) { .name = (n), .help = (h), .kind = METRIC_HISTOGRAM, \
			   .bounds = time_bounds, .nbounds = TIME_BOUNDS, .decimals = 6 }

/* in the order of enum stats_family */
static const struct metric_def defs[STATS_FAMILIES] = {
	{ .name = "yubin_connections_accepted_total", .kind = METRIC_COUNTER,
	  .help = "Connections accepted, per service.", .label = "service", .values = conn_services },
	{ .name = "yubin_connections_open", .kind = METRIC_GAUGE, .read = read_open,
	  .help = "Connections open now, per service (port 80 only redirects and is not counted).",
	  .label = "service", .values = open_services },
	{ .name = "yubin_smtp_local_deliveries_total", .kind = METRIC_COUNTER,
	  .help = "Copies of received messages stored in local mailboxes (one per recipient)." },
	{ .name = "yubin_smtp_relay_queued_total", .kind = METRIC_COUNTER,
	  .help = "Received messages put into the outbound queue for other domains." },
	{ .name = "yubin_smtp_rejections_total", .kind = METRIC_COUNTER,
	  .help = "SMTP commands and messages refused, per reason.", .label = "reason",
	  .values = reject_reasons },
	{ .name = "yubin_outbound_results_total", .kind = METRIC_COUNTER,
	  .help = "Outbound delivery results, per recipient.", .label = "result",
	  .values = outbound_results },
	{ .name = "yubin_queue_messages", .kind = METRIC_GAUGE, .read = read_queue,
	  .help = "Messages in the outbound queue (at the scheduler's last scan)." },
	{ .name = "yubin_queue_oldest_message_age_seconds", .kind = METRIC_GAUGE, .read = read_queue,
	  .arg = (void *)&queue_oldest,
	  .help = "Age of the oldest message in the outbound queue (0 when empty)." },
	{ .name = "yubin_auth_failures_total", .kind = METRIC_COUNTER,
	  .help = "Logins refused (bad credentials, foreign-access restriction, blocked address), per service.",
	  .label = "service", .values = auth_services },
	{ .name = "yubin_auth_blocks_total", .kind = METRIC_COUNTER,
	  .help = "Brute-force defence: addresses blocked, accounts slowed, login replies delayed.", .label = "kind",
	  .values = block_kinds },
	{ .name = "yubin_virus_scans_total", .kind = METRIC_COUNTER,
	  .help = "Messages checked for viruses, per result (skipped: too large for clamd).",
	  .label = "result", .values = virus_results },
	{ .name = "yubin_spam_verdicts_total", .kind = METRIC_COUNTER,
	  .help = "Spam filter decisions, per recipient filtered (allowed, blocked: by the allow or block list).",
	  .label = "result", .values = spam_results },
	HISTOGRAM("yubin_smtp_data_seconds",
		  "Time from the end of a message's data to the server's final reply."),
	HISTOGRAM("yubin_imap_command_seconds",
		  "Time from an IMAP command's arrival to its tagged reply (IDLE not counted)."),
	HISTOGRAM("yubin_outbound_attempt_seconds",
		  "Time of one delivery attempt of one queued message to one destination."),
	HISTOGRAM("yubin_http_request_seconds",
		  "Time from an HTTPS request's arrival to the end of its response."),
};

void stats_start(void)
{
	const char *error;

	if (registry != NULL)
		return;
	registry = metrics_new(defs, STATS_FAMILIES, STATS_SHARDS, &error);
	if (registry == NULL)
		log_fatal("metrics: %s", error);
}

void stats_add(enum stats_family f, size_t series, int64_t n)
{
	metrics_add(registry, f, series, n);
}

uint64_t stats_now(void)
{
	return metrics_now_us();
}

void stats_time(enum stats_family f, uint64_t start_us)
{
	uint64_t now;

	if (start_us == 0)
		return;
	now = metrics_now_us();
	metrics_observe(registry, f, 0, now > start_us ? now - start_us : 0);
}

void stats_conn_open(enum service s, int delta)
{
	if ((unsigned)s < SERVICE_COUNT)
		atomic_fetch_add_explicit(&open_mail[s], (unsigned)delta, memory_order_relaxed);
}

void stats_auth_failed(const char *service)
{
	long i = metrics_series_find(registry, STATS_AUTH_FAILURES, service);

	if (i >= 0)
		metrics_add(registry, STATS_AUTH_FAILURES, (size_t)i, 1);
}

/* ---- the queue's gauges ------------------------------------------------- */

/* The creation time of each queue file seen, sorted by id: the last
 * scan's, and the one being built. Only the scheduler thread uses them. */
struct seen {
	char id[QUEUE_ID_MAX];
	int64_t created;
};

static struct {
	struct seen *prev, *cur;
	size_t nprev, capprev, ncur, capcur;
	int64_t oldest;
	bool failed;
} scan;

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->id, ((const struct seen *)b)->id);
}

void stats_queue_scan_begin(void)
{
	scan.ncur = 0;
	scan.oldest = 0;
	scan.failed = false;
}

void stats_queue_scan_file(const char *id, const char *path)
{
	struct seen key, *hit;

	if (scan.ncur == scan.capcur) {
		size_t cap = scan.capcur != 0 ? scan.capcur * 2 : 64;
		struct seen *grown = realloc(scan.cur, cap * sizeof(*grown));

		if (grown == NULL) {
			scan.failed = true;
			return;
		}
		scan.cur = grown;
		scan.capcur = cap;
	}
	memset(&key, 0, sizeof(key));
	strncpy(key.id, id, sizeof(key.id) - 1);
	hit = scan.nprev > 0 ? bsearch(&key, scan.prev, scan.nprev, sizeof(key), seen_cmp) : NULL;
	if (hit != NULL) {
		key.created = hit->created;
	} else {
		struct queue_env env;
		const char *error;

		if (queue_file_read(path, &env, &error) < 0)
			return;	/* gone meanwhile, or damaged (the scan says so) */
		key.created = env.created;
		queue_env_free(&env);
	}
	scan.cur[scan.ncur++] = key;
	if (key.created > 0 && (scan.oldest == 0 || key.created < scan.oldest))
		scan.oldest = key.created;
}

void stats_queue_scan_end(void)
{
	struct seen *t = scan.prev;
	size_t cap = scan.capprev;

	if (scan.failed)
		return;	/* out of memory: the last figures stay */
	if (scan.ncur > 1)
		qsort(scan.cur, scan.ncur, sizeof(*scan.cur), seen_cmp);
	scan.prev = scan.cur;
	scan.nprev = scan.ncur;
	scan.capprev = scan.capcur;
	scan.cur = t;
	scan.capcur = cap;
	atomic_store_explicit(&queue_messages, (long long)scan.nprev, memory_order_relaxed);
	atomic_store_explicit(&queue_oldest, scan.oldest, memory_order_relaxed);
}

/* ---- the web server ----------------------------------------------------- */

static void http_accepted(bool tls)
{
	metrics_add(registry, STATS_CONN_ACCEPTED, tls ? STATS_HTTPS : STATS_HTTP, 1);
}

static void http_request_done(uint64_t usec)
{
	metrics_observe(registry, STATS_HTTP_REQUEST_TIME, 0, usec);
}

static void http_metrics(struct strbuf *out)
{
	metrics_render(registry, out);
}

static const struct http_observer observer = {
	.accepted = http_accepted,
	.request_done = http_request_done,
	.metrics = http_metrics,
};

const struct http_observer *stats_http_observer(void)
{
	return &observer;
}
