/* The outbound queue runner. A scheduler thread scans DATA/queue for files
 * whose next attempt (their mtime) has come, groups their pending
 * recipients by destination (recipient domain, or the relay host) and hands
 * one job per destination to a delivery thread; at most queue.max_parallel
 * destinations are served at once and a destination is never served twice
 * at the same time. A delivery thread opens one connection for its job (or
 * takes the idle one the last job to that destination left open) and
 * sends every message of it over that connection, then records each
 * recipient's result in the queue file (appended, fdatasync'd), sends
 * DSNs, removes finished files and sets the next attempt of the others:
 * the age of the message clamped to [queue.retry_min, queue.retry_max],
 * which doubles the wait at every attempt, as Postfix's queue manager does.
 *
 * Why threads of its own: delivery is blocking network I/O bounded by
 * RFC 5321's long timeouts (minutes); on the shared worker pool one slow
 * remote server would stall local deliveries and logins. */
#include "server/queue.h"
#include "store/maildir_commit.h"
#include "store/queue_spare.h"
#include "server/outbound.h"
#include "server/outbound_sts.h"
#include "server/server.h"
#include "server/stats.h"
#include "policy/dkim_sign.h"
#include "server/smtp_sendas.h"
#include "lib/dns.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOB_MAX_MESSAGES 100
#define SCAN_INTERVAL 60	/* seconds between scans when nothing is due */
/* Idle connections kept open after a job, for the next job to the same
 * destination (Postfix's connection cache does the same): at most
 * IDLE_MAX of them, each for IDLE_SECS, and none reused after
 * IDLE_REUSE_SECS, so a preferred MX that comes back gets the mail again. */
#define IDLE_MAX 32
#define IDLE_SECS 5
#define IDLE_REUSE_SECS 300
#define IDLE_KEY_MAX (DNS_NAME_MAX + 600)

struct idle_conn {
	char key[IDLE_KEY_MAX];	/* destination, relay host, user */
	struct outbound_conn *conn;
	int64_t since;
};

struct job {
	struct job *next;
	char dest[DNS_NAME_MAX];
	char (*ids)[QUEUE_ID_MAX];	/* JOB_MAX_MESSAGES of them */
	size_t nids;			/* under q.lock once the job runs */
	struct job *run_next;		/* q.running */
	bool closed;			/* its thread took its last id */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t sched_cond, job_cond;
	bool started, wake, stopping;
	struct job *head, *tail;
	/* in flight: destinations and message ids held by jobs */
	char (*busy_dest)[DNS_NAME_MAX];
	size_t nbusy_dest;
	char (*busy_ids)[QUEUE_ID_MAX];
	size_t nbusy_ids, cap_ids;
	unsigned running;		/* delivery threads alive */
	struct job *run_jobs;		/* jobs being delivered, open for more ids */
	struct idle_conn idle[IDLE_MAX];
	size_t nidle;
	pthread_t sched;
	pthread_t *threads;
	unsigned nthreads;
	char dir[PATH_MAX];
} q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.sched_cond = PTHREAD_COND_INITIALIZER,
	.job_cond = PTHREAD_COND_INITIALIZER,
};

/* DKIM: every queued message whose From: (or sender) domain has keys is
 * signed as its queue file is written (store/queue_file.c calls
 * queue_sign), so the signature is made once and retries send the same
 * bytes. The signer lives as long as the process: worker jobs may still
 * queue a bounce while the daemon stops. */
static struct dkim_signer *queue_dkim;
/* The login of the queue_submit running on this thread (the signer is
 * called from inside queue_file_create), or NULL. */
static __thread const char *queue_sign_login;

static bool queue_may_sign(const char *domain, void *ctx)
{
	struct directory *dir = server_directory();

	return dir != NULL && sendas_may_sign(dir, ctx, domain) > 0;
}

static char *queue_sign(void *ctx, const char *from, const struct maildir_msg *msg, size_t *len_r)
{
	struct strbuf out = STRBUF_INIT;
	char domain[256] = "";
	const char *error = "";
	const char *login = queue_sign_login;
	int n = dkim_signer_sign_for(ctx, from, msg, login != NULL ? queue_may_sign : NULL,
				     (void *)login, &out, domain, &error);

	if (n <= 0) {
		if (n < 0)
			log_warn(NULL, "dkim: cannot sign a message from <%s>: %s; it is sent unsigned", from,
				 error);
		strbuf_free(&out);
		return NULL;
	}
	log_info(NULL, "dkim: message from <%s> signed for d=%s (%d signature%s)", from, domain, n,
		 n == 1 ? "" : "s");
	*len_r = out.len;
	return out.data;
}

static bool queue_enqueued(const char *id, const char *const *rcpts, size_t nrcpts);

static void queue_dir(char *buf, size_t size)
{
	snprintf(buf, size, "%s/queue", server->data_dir);
}

int queue_submit(const char *login, const char *from, const char *const *rcpts, size_t nrcpts,
		 const struct maildir_msg *msg, char *id_r, size_t id_size, const char **error_r)
{
	char dir[PATH_MAX];
	int r;

	queue_dir(dir, sizeof(dir));
	queue_sign_login = login;
	r = queue_file_create(dir, from, rcpts, nrcpts, msg, id_r, id_size, error_r);
	queue_sign_login = NULL;
	if (r < 0) {
		log_error(NULL, "queue: cannot queue a message from <%s>: %s", from, *error_r);
		return -1;
	}
	log_info(NULL, "queue: id=%s from=<%s> nrcpt=%zu size=%zu queued%s", id_r, from, nrcpts,
		 msg->prefix_len + msg->body_len,
		 queue_enqueued(id_r, rcpts, nrcpts) ? ", joins a delivery under way" : "");
	return 0;
}

int queue_stage(const char *login, const char *from, const char *const *rcpts, size_t nrcpts,
		const struct maildir_msg *msg, struct maildir_staged *st, const char **error_r)
{
	char dir[PATH_MAX];
	int r;

	queue_dir(dir, sizeof(dir));
	queue_sign_login = login;
	r = queue_file_stage(dir, from, rcpts, nrcpts, msg, st, error_r);
	queue_sign_login = NULL;
	if (r < 0)
		log_error(NULL, "queue: cannot queue a message from <%s>: %s", from, *error_r);
	return r;
}

void queue_staged_done(const struct maildir_staged *st, const char *from, const char *const *rcpts,
		       size_t nrcpts, size_t size)
{
	log_info(NULL, "queue: id=%s from=<%s> nrcpt=%zu size=%zu queued%s", st->name, from, nrcpts, size,
		 queue_enqueued(st->name, rcpts, nrcpts) ? ", joins a delivery under way" : "");
}

void queue_wake(void)
{
	pthread_mutex_lock(&q.lock);
	q.wake = true;
	pthread_cond_signal(&q.sched_cond);
	pthread_mutex_unlock(&q.lock);
}

/* The destination of a recipient: its domain, lowercased; every recipient
 * shares one destination with a relay host. */
static void rcpt_dest(const char *addr, bool relay, char *buf, size_t size)
{
	const char *at = strrchr(addr, '@');

	if (relay) {
		str_copy(buf, size, "[relay]");
		return;
	}
	str_copy(buf, size, at != NULL ? at + 1 : "");
	str_lower(buf);
}

/* Callers hold q.lock. */
static bool id_is_busy(const char *id)
{
	for (size_t i = 0; i < q.nbusy_ids; i++) {
		if (strcmp(q.busy_ids[i], id) == 0)
			return true;
	}
	return false;
}

/* Connections to dest in flight. */
static unsigned dest_busy_count(const char *dest)
{
	unsigned n = 0;

	for (size_t i = 0; i < q.nbusy_dest; i++) {
		if (strcmp(q.busy_dest[i], dest) == 0)
			n++;
	}
	return n;
}

static void busy_release(const struct job *job)
{
	for (size_t i = 0; i < q.nbusy_dest; i++) {
		if (strcmp(q.busy_dest[i], job->dest) == 0) {
			memmove(q.busy_dest[i], q.busy_dest[q.nbusy_dest - 1], DNS_NAME_MAX);
			q.nbusy_dest--;
			break;
		}
	}
	for (size_t k = 0; k < job->nids; k++) {
		for (size_t i = 0; i < q.nbusy_ids; i++) {
			if (strcmp(q.busy_ids[i], job->ids[k]) == 0) {
				memmove(q.busy_ids[i], q.busy_ids[q.nbusy_ids - 1], QUEUE_ID_MAX);
				q.nbusy_ids--;
				break;
			}
		}
	}
}

/* Marks id as held by a job (q.lock held): 0, or -1 without memory. */
static int busy_id_add(const char *id)
{
	if (q.nbusy_ids + 1 > q.cap_ids) {
		size_t ncap = (q.nbusy_ids + 1) * 2;
		char (*ni)[QUEUE_ID_MAX] = realloc(q.busy_ids, ncap * QUEUE_ID_MAX);

		if (ni == NULL)
			return -1;
		q.busy_ids = ni;
		q.cap_ids = ncap;
	}
	str_copy(q.busy_ids[q.nbusy_ids++], QUEUE_ID_MAX, id);
	return 0;
}

/* A message just queued whose recipients all have one destination goes
 * straight to a job delivering to it now, if one has room: its thread
 * sends it over the connection it holds, after the ones before it, with
 * no scan of the queue (true). Otherwise the scheduler is woken. */
static bool queue_enqueued(const char *id, const char *const *rcpts, size_t nrcpts)
{
	char dest[DNS_NAME_MAX], other[DNS_NAME_MAX];
	struct config cfg;
	bool relay, taken = false, busy;

	server_config(&cfg);
	relay = cfg.smtp_relayhost[0] != '\0';
	explicit_bzero(&cfg, sizeof(cfg));
	if (nrcpts == 0 || !queue_id_is_valid(id)) {
		queue_wake();
		return false;
	}
	rcpt_dest(rcpts[0], relay, dest, sizeof(dest));
	for (size_t i = 1; i < nrcpts; i++) {
		rcpt_dest(rcpts[i], relay, other, sizeof(other));
		if (strcmp(other, dest) != 0) {
			queue_wake();
			return false;
		}
	}
	pthread_mutex_lock(&q.lock);
	busy = id_is_busy(id);	/* a scan got to it first */
	for (struct job *j = q.run_jobs; j != NULL && !busy && !taken && !q.stopping; j = j->run_next) {
		if (j->closed || j->nids >= JOB_MAX_MESSAGES || strcmp(j->dest, dest) != 0 ||
		    busy_id_add(id) < 0)
			continue;
		str_copy(j->ids[j->nids], QUEUE_ID_MAX, id);
		j->nids++;
		taken = true;
	}
	if (!taken && !busy) {
		q.wake = true;
		pthread_cond_signal(&q.sched_cond);
	}
	pthread_mutex_unlock(&q.lock);
	return taken;
}

/* The job's next id to deliver into id, or false when it has none left or
 * the queue stops: the job is then closed to hand-offs (q.lock not held). */
static bool job_next_id(struct job *job, size_t i, char *id)
{
	bool more;

	pthread_mutex_lock(&q.lock);
	more = i < job->nids && !q.stopping;
	if (more) {
		str_copy(id, QUEUE_ID_MAX, job->ids[i]);
	} else if (!job->closed) {
		job->closed = true;
		for (struct job **p = &q.run_jobs; *p != NULL; p = &(*p)->run_next) {
			if (*p == job) {
				*p = job->run_next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&q.lock);
	return more;
}

static void job_free(struct job *job)
{
	if (job == NULL)
		return;
	free(job->ids);
	free(job);
}

/* A job of this scan for dest with room for one more message: the one
 * with the fewest, so a backlog spreads over up to slots connections.
 * NULL when dest has no free connection. */
static struct job *scan_job_for(struct job **jobs, const char *dest, unsigned slots)
{
	struct job *j, *best = NULL;
	unsigned n = 0;

	for (j = *jobs; j != NULL; j = j->next) {
		if (strcmp(j->dest, dest) != 0)
			continue;
		n++;
		if (j->nids < JOB_MAX_MESSAGES && (best == NULL || j->nids < best->nids))
			best = j;
	}
	if (best != NULL && (best->nids == 0 || n >= slots))
		return best;
	if (n >= slots)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->ids = calloc(JOB_MAX_MESSAGES, QUEUE_ID_MAX);
	if (j->ids == NULL) {
		free(j);
		return NULL;
	}
	str_copy(j->dest, sizeof(j->dest), dest);
	j->next = *jobs;
	*jobs = j;
	return j;
}

/* sync: make the removal durable. A delivered message's removal is not
 * synced: if a power loss undoes it, the message is sent again, which is
 * SMTP's own at-least-once case (RFC 5321 6.1: a reply lost after the
 * final dot does the same), and a crash of the process alone cannot undo
 * an unlink. Postfix does not sync it either. */
static void file_remove(const char *path, const char *id, const char *why, bool sync)
{
	if (queue_spare_retire(path) == 0) {
		if (sync)
			fs_fsync_dir(q.dir);
		log_info(NULL, "queue: id=%s removed (%s)", id, why);
	}
}

/* The result writes of the queue file: a failure is logged (the disk is
 * full or the file went away); the state in memory stays right for this
 * attempt, and what was not recorded is retried from the file's state. */
static void record(const char *path, const char *id, char state, size_t rcpt, const char *reply,
		   bool sync)
{
	if (queue_file_record2(path, state, rcpt, reply, sync) < 0)
		log_error(NULL, "queue: id=%s cannot record the result '%c' of recipient %zu: %s", id,
			  state, rcpt, strerror(errno));
}

static void set_next(const char *path, const char *id, int64_t when)
{
	if (queue_file_set_next(path, when) < 0)
		log_error(NULL, "queue: id=%s cannot set the next attempt: %s", id, strerror(errno));
}

static int64_t backoff(const struct config *cfg, int64_t age)
{
	if (age < (int64_t)cfg->queue_retry_min)
		return cfg->queue_retry_min;
	if (age > (int64_t)cfg->queue_retry_max)
		return cfg->queue_retry_max;
	return age;
}

/* After an attempt (or at expiry): bounces what failed, warns about delay,
 * removes the file when nothing is left, else sets the next attempt.
 * untried: pending recipients were left out of this attempt (other
 * destinations), so the message is due again at once. */
static void message_settle(struct queue_env *env, const char *path, const size_t *failed,
			   size_t nfailed, bool untried)
{
	struct config cfg;
	int64_t now = (int64_t)time(NULL), age = now - env->created;
	size_t pending, *idx;
	const char *error = "";

	server_config(&cfg);
	if (nfailed > 0) {
		if (dsn_send(env, path, failed, nfailed, false, &error) < 0) {
			log_error(NULL, "queue: id=%s bounce to <%s> failed: %s; retrying later",
				  env->id, env->from, error);
			for (size_t i = 0; i < nfailed; i++)
				env->rcpts[failed[i]].state = QUEUE_PENDING;
		} else {
			for (size_t i = 0; i < nfailed; i++)
				record(path, env->id, 'F', failed[i], env->rcpts[failed[i]].reply, true);
		}
	}
	pending = queue_env_pending(env);
	if (pending == 0) {
		file_remove(path, env->id, "delivered or bounced", nfailed > 0);
		return;
	}
	if (queue_file_sync(path) < 0)	/* the D lines of this attempt */
		log_error(NULL, "queue: id=%s cannot sync the results: %s", env->id, strerror(errno));
	idx = calloc(pending, sizeof(*idx));
	if (idx == NULL)
		return;
	pending = 0;
	for (size_t i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].state == QUEUE_PENDING)
			idx[pending++] = i;
	}
	if (age >= (int64_t)cfg.queue_lifetime && !untried) {
		/* expired: bounce with the last reason, like Postfix's
		 * maximal_queue_lifetime */
		for (size_t i = 0; i < pending; i++) {
			struct queue_rcpt *r = &env->rcpts[idx[i]];
			char reason[QUEUE_REPLY_MAX];
			snprintf(reason, sizeof(reason), "%s (message expired after %" PRId64 " seconds in the queue)",
				 r->reply[0] != '\0' ? r->reply : "451 4.4.7 delivery time expired", age);
			str_copy(r->reply, sizeof(r->reply), reason);
		}
		if (dsn_send(env, path, idx, pending, false, &error) < 0) {
			/* The sender must learn the mail was lost: it stays queued
			 * and the bounce is tried again at the next attempt. */
			log_error(NULL, "queue: id=%s expiry bounce to <%s> failed: %s; the message stays"
				  " queued and the bounce is retried", env->id, env->from, error);
			free(idx);
			set_next(path, env->id, now + backoff(&cfg, age));
			return;
		}
		for (size_t i = 0; i < pending; i++)
			log_info(NULL, "queue: id=%s to=<%s> status=expired (%s)", env->id,
				 env->rcpts[idx[i]].addr, env->rcpts[idx[i]].reply);
		stats_add(STATS_OUTBOUND, OUTBOUND_EXPIRED, (int64_t)pending);
		file_remove(path, env->id, "expired", true);
		free(idx);
		return;
	}
	if (!env->warned && cfg.queue_delay_warning > 0 && age >= (int64_t)cfg.queue_delay_warning &&
	    env->from[0] != '\0' && !untried) {
		if (dsn_send(env, path, idx, pending, true, &error) == 0) {
			record(path, env->id, 'W', 0, "", true);
			env->warned = true;
		}
	}
	free(idx);
	set_next(path, env->id, untried ? now : now + backoff(&cfg, age));
}

/* The idle connections. The key names what a connection was opened for. */
static void idle_key(const struct outbound_opts *o, const char *dest, char *buf, size_t size)
{
	snprintf(buf, size, "%s\n%s\n%s\n%u", dest, o->relayhost, o->user, o->port);
}

/* An idle connection for key that still works, or NULL. */
static struct outbound_conn *idle_take(const char *key)
{
	for (;;) {
		struct outbound_conn *c = NULL;

		pthread_mutex_lock(&q.lock);
		for (size_t i = 0; i < q.nidle; i++) {
			if (strcmp(q.idle[i].key, key) == 0) {
				c = q.idle[i].conn;
				q.idle[i] = q.idle[--q.nidle];
				break;
			}
		}
		pthread_mutex_unlock(&q.lock);
		if (c == NULL || outbound_is_alive(c))
			return c;
		log_info(NULL, "outbound: a cached connection was closed by the server");
		outbound_close(c);
	}
}

/* After a job: keeps a usable connection for the next job to the same
 * destination, else closes it. */
static void idle_put(const char *key, struct outbound_conn *c)
{
	struct outbound_conn *evict = NULL;
	int64_t now = (int64_t)time(NULL);

	if (c == NULL)
		return;
	pthread_mutex_lock(&q.lock);
	if (q.stopping || !outbound_is_usable(c) || now - (int64_t)outbound_opened(c) >= IDLE_REUSE_SECS) {
		evict = c;
	} else {
		if (q.nidle == IDLE_MAX) {
			size_t old = 0;
			for (size_t i = 1; i < q.nidle; i++) {
				if (q.idle[i].since < q.idle[old].since)
					old = i;
			}
			evict = q.idle[old].conn;
			q.idle[old] = q.idle[--q.nidle];
		}
		str_copy(q.idle[q.nidle].key, IDLE_KEY_MAX, key);
		q.idle[q.nidle].conn = c;
		q.idle[q.nidle].since = now;
		q.nidle++;
		pthread_cond_signal(&q.sched_cond);	/* to close it in time */
	}
	pthread_mutex_unlock(&q.lock);
	outbound_close(evict);
}

/* Closes the idle connections whose time is up (all of them with all);
 * returns when the next one's is, or INT64_MAX. */
static int64_t idle_sweep(bool all)
{
	struct outbound_conn *gone[IDLE_MAX];
	size_t ngone = 0;
	int64_t now = (int64_t)time(NULL), next = INT64_MAX;

	pthread_mutex_lock(&q.lock);
	for (size_t i = 0; i < q.nidle;) {
		if (all || q.idle[i].since + IDLE_SECS <= now) {
			gone[ngone++] = q.idle[i].conn;
			q.idle[i] = q.idle[--q.nidle];
			continue;
		}
		if (q.idle[i].since + IDLE_SECS < next)
			next = q.idle[i].since + IDLE_SECS;
		i++;
	}
	pthread_mutex_unlock(&q.lock);
	for (size_t i = 0; i < ngone; i++)
		outbound_close(gone[i]);
	return next;
}

/* Sends one message over *conn, opening it first when needed. A reused
 * connection that turns out closed before MAIL was answered took nothing:
 * the message goes at once over a new one. */
static void send_over(const struct outbound_opts *o, const char *dest, const struct queue_env *env,
		      const char *path, const size_t *idx, size_t n, char (*replies)[QUEUE_REPLY_MAX],
		      struct outbound_conn **conn, char *conn_error, size_t errsize)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused;

		if (*conn == NULL && conn_error[0] == '\0')
			*conn = outbound_open(o, dest, conn_error, errsize);
		if (*conn == NULL) {
			for (size_t i = 0; i < n; i++)
				str_copy(replies[i], QUEUE_REPLY_MAX, conn_error);
			return;
		}
		reused = outbound_sent(*conn) > 0;
		if (outbound_send(*conn, env, path, idx, n, replies) == 0 || !reused) {
			if (!outbound_is_usable(*conn)) {
				outbound_close(*conn);
				*conn = NULL;	/* the next message reconnects */
			}
			return;
		}
		log_info(NULL, "queue: id=%s the reused connection to %s was lost before MAIL was answered;"
			 " sending over a new one", env->id, dest);
		outbound_close(*conn);
		*conn = NULL;
	}
}

/* One message of a job: deliver its recipients for this destination over
 * *conn (opened on first use), record the results. */
static void deliver_message(const struct outbound_opts *o, const char *dest, const char *id,
			    struct outbound_conn **conn, char *conn_error, size_t errsize)
{
	char path[PATH_MAX], dkey[DNS_NAME_MAX];
	struct queue_env env;
	const char *error;
	size_t *idx = NULL, n = 0, *failed = NULL, nfailed = 0;
	char (*replies)[QUEUE_REPLY_MAX] = NULL;
	bool untried = false, relay = o->relayhost[0] != '\0';
	uint64_t t0;

	snprintf(path, sizeof(path), "%s/%s", q.dir, id);
	if (queue_file_read(path, &env, &error) < 0)
		return;	/* deleted meanwhile (yubinctl queue delete) */
	if (env.next_attempt > (int64_t)time(NULL)) {
		queue_env_free(&env);	/* settled by another job since the scan */
		return;
	}
	idx = calloc(env.nrcpts, sizeof(*idx));
	failed = calloc(env.nrcpts, sizeof(*failed));
	replies = calloc(env.nrcpts, sizeof(*replies));
	if (idx == NULL || failed == NULL || replies == NULL)
		goto out;
	for (size_t i = 0; i < env.nrcpts; i++) {
		if (env.rcpts[i].state != QUEUE_PENDING)
			continue;
		rcpt_dest(env.rcpts[i].addr, relay, dkey, sizeof(dkey));
		if (strcmp(dkey, dest) == 0)
			idx[n++] = i;
		else
			untried = true;
	}
	if (n == 0)
		goto out;
	t0 = stats_now();
	send_over(o, dest, &env, path, idx, n, replies, conn, conn_error, errsize);
	stats_time(STATS_OUTBOUND_TIME, t0);
	for (size_t i = 0; i < n; i++) {
		struct queue_rcpt *r = &env.rcpts[idx[i]];
		const char *status = "deferred";

		str_copy(r->reply, sizeof(r->reply), replies[i]);
		r->ts = (int64_t)time(NULL);
		if (replies[i][0] == '2') {
			r->state = QUEUE_DELIVERED;	/* recorded below */
			status = "sent";
		} else if (replies[i][0] == '5') {
			r->state = QUEUE_FAILED;	/* recorded once the DSN is out */
			failed[nfailed++] = idx[i];
			status = "bounced";
		} else {
			record(path, env.id, 'T', idx[i], replies[i], true);
		}
		log_info(NULL, "queue: id=%s to=<%s> status=%s (%s)", env.id, r->addr, status, replies[i]);
		stats_inc(STATS_OUTBOUND, replies[i][0] == '2' ? OUTBOUND_SENT
			  : replies[i][0] == '5' ? OUTBOUND_BOUNCED : OUTBOUND_DEFERRED);
	}
	/* The D lines, made durable in message_settle when the file stays.
	 * When every recipient is done, removing the file is the record. */
	if (nfailed > 0 || queue_env_pending(&env) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (replies[i][0] == '2')
				record(path, env.id, 'D', idx[i], replies[i], false);
		}
	}
	message_settle(&env, path, failed, nfailed, untried);
out:
	free(idx);
	free(failed);
	free(replies);
	queue_env_free(&env);
}

static void outbound_opts_get(struct outbound_opts *o)
{
	struct config cfg;

	server_config(&cfg);
	memset(o, 0, sizeof(*o));
	str_copy(o->hostname, sizeof(o->hostname), cfg.hostname);
	str_copy(o->resolver, sizeof(o->resolver), cfg.dns_resolver);
	str_copy(o->relayhost, sizeof(o->relayhost), cfg.smtp_relayhost);
	str_copy(o->user, sizeof(o->user), cfg.smtp_relayhost_user);
	str_copy(o->password, sizeof(o->password), cfg.smtp_relayhost_password);
	o->port = cfg.smtp_remote_port;
	o->sts = strcmp(cfg.mta_sts_outbound, "off") != 0;
	str_copy(o->sts_ca_file, sizeof(o->sts_ca_file), cfg.mta_sts_ca_file);
	explicit_bzero(&cfg, sizeof(cfg));
}

static void *delivery_main(void *arg)
{
	for (;;) {
		struct job *job;
		struct outbound_opts o;
		struct outbound_conn *conn = NULL;
		char conn_error[QUEUE_REPLY_MAX] = "", key[IDLE_KEY_MAX], id[QUEUE_ID_MAX];

		pthread_mutex_lock(&q.lock);
		while (q.head == NULL && !q.stopping)
			pthread_cond_wait(&q.job_cond, &q.lock);
		if (q.stopping) {
			q.running--;
			pthread_cond_broadcast(&q.sched_cond);
			pthread_mutex_unlock(&q.lock);
			return NULL;
		}
		job = q.head;
		q.head = job->next;
		if (q.head == NULL)
			q.tail = NULL;
		job->run_next = q.run_jobs;	/* open for hand-offs (queue_enqueued) */
		q.run_jobs = job;
		pthread_mutex_unlock(&q.lock);

		outbound_opts_get(&o);
		idle_key(&o, job->dest, key, sizeof(key));
		conn = idle_take(key);
		/* when the queue stops, the rest stays due for the next start */
		for (size_t i = 0; job_next_id(job, i, id); i++)
			deliver_message(&o, job->dest, id, &conn, conn_error, sizeof(conn_error));
		explicit_bzero(&o, sizeof(o));
		idle_put(key, conn);

		pthread_mutex_lock(&q.lock);
		busy_release(job);
		q.wake = true;	/* messages left for other destinations are due */
		pthread_cond_signal(&q.sched_cond);
		pthread_mutex_unlock(&q.lock);
		job_free(job);
	}
}

/* With a relay host every message has one destination: when all its
 * connections are busy, a scan would read every waiting file for nothing
 * (at every submission). */
static bool relay_is_full(const struct config *cfg)
{
	bool full;

	if (cfg->smtp_relayhost[0] == '\0')
		return false;
	pthread_mutex_lock(&q.lock);
	full = dest_busy_count("[relay]") >= cfg->queue_dest_concurrency;
	pthread_mutex_unlock(&q.lock);
	return full;
}

/* One pass over DATA/queue: due messages into jobs. Returns the earliest
 * future attempt time seen. */
static int64_t scan(void)
{
	DIR *d = opendir(q.dir);
	struct dirent *de;
	struct job *jobs = NULL;
	int64_t now = (int64_t)time(NULL), next = now + SCAN_INTERVAL;
	struct config cfg;

	if (d == NULL)
		return next;
	server_config(&cfg);
	if (relay_is_full(&cfg)) {
		/* nothing can be given out: the job that ends wakes us */
		closedir(d);
		return next;
	}
	stats_queue_scan_begin();
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX], dest[DNS_NAME_MAX];
		struct queue_env env;
		struct stat st;
		const char *error;
		struct job *job = NULL;
		bool busy;

		snprintf(path, sizeof(path), "%s/%s", q.dir, de->d_name);
		if (de->d_name[0] == '.') {
			/* a temporary file left by a crash during queue_submit */
			if (strstr(de->d_name, ".tmp") != NULL && stat(path, &st) == 0 &&
			    st.st_mtime < now - 86400)
				unlink(path);
			continue;
		}
		if (!queue_id_is_valid(de->d_name) || stat(path, &st) < 0)
			continue;
		stats_queue_scan_file(de->d_name, path);
		if ((int64_t)st.st_mtime > now) {
			if ((int64_t)st.st_mtime < next)
				next = (int64_t)st.st_mtime;
			continue;
		}
		pthread_mutex_lock(&q.lock);
		busy = id_is_busy(de->d_name);
		pthread_mutex_unlock(&q.lock);
		if (busy)
			continue;
		if (queue_file_read(path, &env, &error) < 0) {
			log_warn(NULL, "queue: %s: %s", de->d_name, error);
			set_next(path, de->d_name, now + cfg.queue_retry_max);
			continue;
		}
		if (queue_env_pending(&env) == 0) {
			file_remove(path, env.id, "nothing left to deliver", true);
			queue_env_free(&env);
			continue;
		}
		for (size_t i = 0; i < env.nrcpts && job == NULL; i++) {
			if (env.rcpts[i].state != QUEUE_PENDING)
				continue;
			unsigned inflight;

			rcpt_dest(env.rcpts[i].addr, cfg.smtp_relayhost[0] != '\0', dest, sizeof(dest));
			pthread_mutex_lock(&q.lock);
			inflight = dest_busy_count(dest);
			pthread_mutex_unlock(&q.lock);
			if (inflight < cfg.queue_dest_concurrency)
				job = scan_job_for(&jobs, dest, cfg.queue_dest_concurrency - inflight);
		}
		if (job != NULL)
			str_copy(job->ids[job->nids++], QUEUE_ID_MAX, env.id);
		queue_env_free(&env);
	}
	closedir(d);
	stats_queue_scan_end();

	pthread_mutex_lock(&q.lock);
	while (jobs != NULL) {
		struct job *j = jobs;
		jobs = j->next;
		j->next = NULL;
		/* an id that joined a running job since it was read is that
		 * job's (queue_enqueued): never two jobs for one message */
		for (size_t i = 0; i < j->nids;) {
			if (id_is_busy(j->ids[i]))
				memmove(j->ids[i], j->ids[--j->nids], QUEUE_ID_MAX);
			else
				i++;
		}
		if (j->nids == 0 || q.stopping) {
			job_free(j);
			continue;
		}
		{
			char (*nd)[DNS_NAME_MAX] = realloc(q.busy_dest, (q.nbusy_dest + 1) * DNS_NAME_MAX);
			if (nd == NULL) {
				job_free(j);
				continue;
			}
			q.busy_dest = nd;
			str_copy(q.busy_dest[q.nbusy_dest++], DNS_NAME_MAX, j->dest);
		}
		for (size_t i = 0; i < j->nids; i++) {
			if (busy_id_add(j->ids[i]) < 0)
				abort();
		}
		if (q.tail != NULL)
			q.tail->next = j;
		else
			q.head = j;
		q.tail = j;
		pthread_cond_signal(&q.job_cond);
	}
	pthread_mutex_unlock(&q.lock);
	return next;
}

/* Scans when woken (a submission, a finished job, SIGUSR1) or when the
 * next attempt is due; in between, closes idle connections in time. */
static void *sched_main(void *arg)
{
	int64_t next = 0;

	for (;;) {
		int64_t idle_next = idle_sweep(false);
		bool due;

		pthread_mutex_lock(&q.lock);
		if (!q.stopping && !q.wake && (int64_t)time(NULL) < next) {
			struct timespec ts = { (time_t)(idle_next < next ? idle_next : next), 0 };
			pthread_cond_timedwait(&q.sched_cond, &q.lock, &ts);
		}
		if (q.stopping) {
			pthread_mutex_unlock(&q.lock);
			return NULL;
		}
		due = q.wake || (int64_t)time(NULL) >= next;
		if (due)
			q.wake = false;
		pthread_mutex_unlock(&q.lock);
		if (due)
			next = scan();
	}
}

void queue_start(void)
{
	struct config cfg;

	server_config(&cfg);
	queue_dir(q.dir, sizeof(q.dir));
	if (queue_dkim == NULL) {
		queue_dkim = dkim_signer_new(server->data_dir);
		if (queue_dkim == NULL)
			log_fatal("queue: out of memory");
		queue_file_set_signer(queue_sign, queue_dkim);
	}
	if (fs_mkdir_p(q.dir, 0700) < 0)
		log_fatal("cannot create %s: %s", q.dir, strerror(errno));
	queue_spare_init(q.dir);
	outbound_start(cfg.mta_sts_ca_file);
	outbound_sts_start(server->data_dir);
	q.nthreads = cfg.queue_max_parallel;
	q.threads = calloc(q.nthreads, sizeof(*q.threads));
	if (q.threads == NULL)
		log_fatal("queue: out of memory");
	for (unsigned i = 0; i < q.nthreads; i++) {
		if (pthread_create(&q.threads[i], NULL, delivery_main, NULL) != 0)
			log_fatal("queue: cannot start a delivery thread");
		q.running++;
	}
	if (pthread_create(&q.sched, NULL, sched_main, NULL) != 0)
		log_fatal("queue: cannot start the scheduler");
	q.started = true;
	log_info(NULL, "queue: runner started, %u delivery threads%s%s", q.nthreads,
		 cfg.smtp_relayhost[0] != '\0' ? ", relay host " : "", cfg.smtp_relayhost);
}

void queue_stop(unsigned grace)
{
	struct timespec deadline;
	bool all;

	if (!q.started)
		return;
	pthread_mutex_lock(&q.lock);
	q.stopping = true;
	while (q.head != NULL) {
		struct job *j = q.head;
		q.head = j->next;
		busy_release(j);
		job_free(j);
	}
	q.tail = NULL;
	pthread_cond_broadcast(&q.job_cond);
	pthread_cond_broadcast(&q.sched_cond);
	pthread_mutex_unlock(&q.lock);
	pthread_join(q.sched, NULL);

	/* deliveries in flight finish their current message */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)grace;
	pthread_mutex_lock(&q.lock);
	while (q.running > 0) {
		if (pthread_cond_timedwait(&q.sched_cond, &q.lock, &deadline) == ETIMEDOUT)
			break;
	}
	all = q.running == 0;
	pthread_mutex_unlock(&q.lock);
	if (all) {
		for (unsigned i = 0; i < q.nthreads; i++)
			pthread_join(q.threads[i], NULL);
		idle_sweep(true);
		outbound_stop();
		outbound_sts_stop();
		queue_file_set_signer(NULL, NULL);
		dkim_signer_free(queue_dkim);
		queue_dkim = NULL;
	} else {
		log_warn(NULL, "queue: %u deliveries still in flight at shutdown; they are retried at the next start",
			 q.running);
	}
}
