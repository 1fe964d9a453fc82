#ifndef YUBIN_SERVER_STATS_H
#define YUBIN_SERVER_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "server/server.h"

/* The daemon's metrics (the names shown at /metrics, docs/operations.md)
 * on top of lib/metrics.h: one call per event at the place it happens,
 * each a relaxed atomic add into the calling thread's shard. Every call
 * is a no-op before stats_start. */

enum stats_family {
	STATS_CONN_ACCEPTED,	/* series: enum service, then STATS_HTTP, STATS_HTTPS */
	STATS_CONN_OPEN,	/* read at scrape: enum service, then STATS_HTTPS_OPEN */
	STATS_LOCAL_DELIVERIES,
	STATS_RELAY_QUEUED,
	STATS_SMTP_REJECTS,	/* series: enum stats_reject */
	STATS_OUTBOUND,		/* series: enum stats_outbound */
	STATS_QUEUE_MESSAGES,
	STATS_QUEUE_OLDEST,
	STATS_AUTH_FAILURES,	/* series: "smtp", "pop3", "imap", "web" */
	STATS_AUTH_BLOCKS,	/* series: enum stats_block */
	STATS_VIRUS_SCANS,	/* series: enum stats_virus */
	STATS_SPAM_VERDICTS,	/* series: enum stats_spam */
	STATS_SMTP_DATA_TIME,
	STATS_IMAP_COMMAND_TIME,
	STATS_OUTBOUND_TIME,
	STATS_HTTP_REQUEST_TIME,
	STATS_FAMILIES
};

#define STATS_HTTP SERVICE_COUNT
#define STATS_HTTPS (SERVICE_COUNT + 1)
#define STATS_HTTPS_OPEN SERVICE_COUNT

/* Why the SMTP server refused: one stable label value each. */
enum stats_reject {
	REJECT_RCPT_UNKNOWN,	/* 550 5.1.1 no such mailbox */
	REJECT_MAILBOX_DISABLED,	/* 550 5.2.1 */
	REJECT_QUOTA,		/* 552 5.2.2 at RCPT or at the end of DATA */
	REJECT_RELAY_DENIED,	/* 554/550 5.7.1 relaying, 550 5.1.2 address forms */
	REJECT_BATV,		/* 550 5.7.1 bad or missing BATV tag */
	REJECT_DMARC,		/* 550 5.7.1 DMARC p=reject */
	REJECT_RATE_LIMIT,	/* 451 4.7.1 sending limits */
	REJECT_SUSPENDED,	/* 550 5.7.1 sending suspended (compromise detection) */
	REJECT_SENDER,		/* 553 5.7.1 sender address not allowed for the login */
	REJECT_SIZE,		/* 552 5.3.4 */
	REJECT_AUTH_REQUIRED,	/* 530 5.7.0 */
	REJECT_TOO_MANY_RCPTS,	/* 452 4.5.3 */
	REJECT_CONN_LIMIT,	/* 421 4.7.0 too many connections (in all or per address) */
};

enum stats_outbound {
	OUTBOUND_SENT,
	OUTBOUND_DEFERRED,
	OUTBOUND_BOUNCED,
	OUTBOUND_EXPIRED,
};

enum stats_virus {
	VIRUS_SCAN_CLEAN,
	VIRUS_SCAN_FOUND,	/* refused with 554 5.7.1 */
	VIRUS_SCAN_UNAVAILABLE,	/* clamd could not scan: accepted marked, or deferred */
	VIRUS_SCAN_SKIPPED,	/* too large for clamd: delivered marked */
};

enum stats_spam {
	SPAM_VERDICT_HAM,
	SPAM_VERDICT_SPAM,
	SPAM_VERDICT_ALLOWED,	/* the allow list decided */
	SPAM_VERDICT_BLOCKED,	/* the block list decided */
};

enum stats_block {
	BLOCK_IP,		/* an address blocked after failed logins */
	BLOCK_ACCOUNT,		/* an account's logins slowed */
	BLOCK_DELAYED,		/* a login's reply held back by the delay */
};

/* Makes the registry; called by main before any thread starts. It lives
 * as long as the process (like the DKIM signer): a delivery thread still
 * running past the shutdown grace may count until the end. */
void stats_start(void);

void stats_add(enum stats_family f, size_t series, int64_t n);
#define stats_inc(f, series) stats_add((f), (series), 1)
/* Counts the time since start_us (metrics_now_us()) into a histogram;
 * start_us 0: nothing. */
void stats_time(enum stats_family f, uint64_t start_us);
/* metrics_now_us(), for stats_time. */
uint64_t stats_now(void);
/* A connection of a mail service opened (+1) or closed (-1). */
void stats_conn_open(enum service s, int delta);
/* A refused login (service "smtp", "pop3", "imap", "web"). */
void stats_auth_failed(const char *service);

/* The queue's gauges, kept by its scheduler thread: scan_begin, one
 * scan_file per queue file (its creation time is read once per message
 * and remembered), then scan_end publishes the count and the oldest. */
void stats_queue_scan_begin(void);
void stats_queue_scan_file(const char *id, const char *path);
void stats_queue_scan_end(void);

struct http_observer;
/* What the web server reports (connections, request times) and the
 * /metrics page. */
const struct http_observer *stats_http_observer(void);

#endif
