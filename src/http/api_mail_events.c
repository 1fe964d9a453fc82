/* GET /api/v1/mail/events: server-sent events (text/event-stream) telling
 * the webmail that the mailbox changed, fed by the account's change
 * counter that IMAP IDLE polls (store_generation: bumped by delivery,
 * POP3, IMAP and the webmail's own changes). The worker checks the session
 * and opens the mailbox; the stream then lives on the loop: a timer looks
 * at the counter every 250 ms and sends "event: change" when it moved, a
 * comment line every 25 s keeps proxies from closing it.
 *
 * Bounded: at most API_MAIL_EVENTS_PER_USER streams per account and
 * API_MAIL_EVENTS_MAX in all (429 past them); a stream ends after
 * API_MAIL_EVENTS_LIFETIME seconds (EventSource reconnects, and the
 * session is checked again), when more than API_MAIL_EVENTS_BACKLOG bytes
 * wait unread (a client that does not read), and at shutdown. */
#include "http/api_mail.h"
#include "http/http_internal.h"
#include "lib/log.h"
#include "lib/str.h"
#include "store/index.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define API_MAIL_EVENTS_PER_USER 4
#define API_MAIL_EVENTS_MAX 1024
#define API_MAIL_EVENTS_LIFETIME 600
#define API_MAIL_EVENTS_BACKLOG (64 * 1024)
#define API_MAIL_EVENTS_HEARTBEAT 25
#define API_MAIL_EVENTS_TICK_MS 250

struct mail_stream {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *tick;
	uint64_t generation;
	time_t started, last_sent;
	unsigned long id;
	char root[4096];
	char address[DIR_ADDRESS_MAX + 1];
};

/* The open streams per account (any loop, any worker). */
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char address[DIR_ADDRESS_MAX + 1];
	unsigned count;
} streams[API_MAIL_EVENTS_MAX];
static unsigned streams_total;
static atomic_bool streams_stopping;

static bool stream_slot_take(const char *address)
{
	size_t free_slot = API_MAIL_EVENTS_MAX, i;
	bool ok = false;

	pthread_mutex_lock(&streams_lock);
	for (i = 0; i < API_MAIL_EVENTS_MAX; i++) {
		if (streams[i].count > 0 && strcasecmp(streams[i].address, address) == 0)
			break;
		if (streams[i].count == 0 && free_slot == API_MAIL_EVENTS_MAX)
			free_slot = i;
	}
	if (streams_total < API_MAIL_EVENTS_MAX) {
		if (i < API_MAIL_EVENTS_MAX && streams[i].count < API_MAIL_EVENTS_PER_USER) {
			streams[i].count++;
			ok = true;
		} else if (i == API_MAIL_EVENTS_MAX && free_slot < API_MAIL_EVENTS_MAX) {
			str_copy(streams[free_slot].address, sizeof(streams[free_slot].address), address);
			streams[free_slot].count = 1;
			ok = true;
		}
	}
	if (ok)
		streams_total++;
	pthread_mutex_unlock(&streams_lock);
	return ok;
}

static void stream_slot_give(const char *address)
{
	pthread_mutex_lock(&streams_lock);
	for (size_t i = 0; i < API_MAIL_EVENTS_MAX; i++) {
		if (streams[i].count > 0 && strcasecmp(streams[i].address, address) == 0) {
			streams[i].count--;
			streams_total--;
			break;
		}
	}
	pthread_mutex_unlock(&streams_lock);
}

void api_mail_events_stop(void)
{
	atomic_store(&streams_stopping, true);
}

static void stream_free(struct mail_stream *st)
{
	if (st->tick != NULL)
		event_free(st->tick);
	stream_slot_give(st->address);
	free(st);
}

/* The client went or the connection failed: evhttp frees the connection,
 * and the request too unless it detached it first (a reply still being
 * sent, as a stream always is): then it is ours to free. */
static void stream_closed(struct evhttp_connection *evcon, void *arg)
{
	struct mail_stream *st = arg;

	if (evhttp_request_get_connection(st->req) == NULL)
		evhttp_request_free(st->req);
	stream_free(st);
}

/* Ends the reply (and with it the connection: "Connection: close"). */
static void stream_end(struct mail_stream *st)
{
	evhttp_connection_set_closecb(st->evcon, NULL, NULL);
	evhttp_send_reply_end(st->req);
	stream_free(st);
}

static void stream_send(struct mail_stream *st, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add(b, text, strlen(text));
	evhttp_send_reply_chunk(st->req, b);
	evbuffer_free(b);
	st->last_sent = time(NULL);
}

/* Bytes the client has not read yet. */
static size_t stream_backlog(const struct mail_stream *st)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void stream_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mail_stream *st = arg;
	time_t now = time(NULL);
	uint64_t gen;
	char line[96];

	if (atomic_load(&streams_stopping) || now - st->started >= API_MAIL_EVENTS_LIFETIME) {
		stream_end(st);
		return;
	}
	if (stream_backlog(st) > API_MAIL_EVENTS_BACKLOG) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
		evutil_socket_t sock = bev != NULL ? bufferevent_getfd(bev) : -1;

		log_info(NULL, "api: events of %s: the client does not read; closing", st->address);
		if (sock >= 0)
			shutdown(sock, SHUT_RDWR);	/* evhttp ends it on its own path */
		return;
	}
	gen = store_generation(st->root);
	if (gen != st->generation) {
		st->generation = gen;
		snprintf(line, sizeof(line), "event: change\ndata: {\"generation\":%llu}\n\n",
			 (unsigned long long)gen);
		stream_send(st, line);
	} else if (now - st->last_sent >= API_MAIL_EVENTS_HEARTBEAT) {
		stream_send(st, ": keep-alive\n\n");
	}
}

static void stream_start(struct api_job *j, bool start)
{
	struct mail_stream *st = j->stream_arg;
	struct evkeyvalq *h;
	struct timeval tv = { 0, API_MAIL_EVENTS_TICK_MS * 1000 };
	char line[128];

	j->stream_arg = NULL;
	if (!start) {
		stream_free(st);
		return;
	}
	st->req = j->req;
	st->evcon = j->evcon;
	st->tick = event_new(j->cfg->base, -1, EV_PERSIST, stream_tick, st);
	if (st->tick == NULL || event_add(st->tick, &tv) < 0) {
		http_send_error(st->req, 503, "Service Unavailable", true);
		stream_free(st);
		return;
	}
	h = evhttp_request_get_output_headers(st->req);
	http_security_headers(st->req, true);
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* evhttp reads (for a close) while it answers, with http.timeout as
	 * the read timeout: the stream gets its lifetime instead, and the
	 * connection ends with the stream (EventSource reconnects). */
	evhttp_add_header(h, "Connection", "close");
	evhttp_connection_set_timeout(st->evcon, API_MAIL_EVENTS_LIFETIME + 60);
	evhttp_send_reply_start(st->req, 200, "OK");
	evhttp_connection_set_closecb(st->evcon, stream_closed, st);
	snprintf(line, sizeof(line), "retry: 3000\nevent: ready\ndata: {\"generation\":%llu}\n\n",
		 (unsigned long long)st->generation);
	stream_send(st, line);
}

void api_mail_events(struct api_job *j)
{
	struct ops_mailbox mb;
	struct mail_stream *st;

	if (!api_mail_open(j, &mb))
		return;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		ops_mail_close(&mb);
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	str_copy(st->root, sizeof(st->root), mb.root);
	str_copy(st->address, sizeof(st->address), mb.address);
	ops_mail_close(&mb);
	if (j->method == EVHTTP_REQ_HEAD) {
		free(st);
		api_reply(j, 200);
		api_reply_end(j);
		return;
	}
	if (!stream_slot_take(st->address)) {
		free(st);
		api_error(j, 429, "rate_limited", NULL, "too many open event streams for this account",
			  "このアカウントのイベント接続が多すぎます");
		return;
	}
	st->generation = store_generation(st->root);
	st->started = st->last_sent = time(NULL);
	api_reply(j, 200);
	api_reply_end(j);
	j->stream = stream_start;
	j->stream_arg = st;
}
