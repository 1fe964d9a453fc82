/* Per-account sending state: limits, compromise signals, suspensions.
 * See sendguard.h. One table for every loop under one mutex; database
 * reads happen outside the lock, writes on workers. */
#include "server/sendguard.h"
#include "server/server.h"
#include "directory/directory.h"
#include "policy/abuse.h"
#include "policy/sendlimit.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SG_BUCKETS 1024
#define SG_KNOWN_DAYS 30
#define SG_KEEP_MINUTES (8 * 1440)
#define SG_IDLE_SECS 90000

struct sg_account {
	char address[320];
	struct sendlimit limits;
	struct sendwin abuse_hour;	/* recipients since the last lift */
	struct sendwin bounces;		/* bounces since the last lift, 24 hours */
	struct abuse_rcptset newset;	/* new recipients since the last lift */
	struct abuse_rcptset sent;	/* recipients accepted in the last hour: covers what
					 * the database does not have yet (flushes) */
	uint64_t usual_peak;
	int64_t usual_at;		/* when usual_peak was read */
	int64_t lifted_seen;		/* the last lift applied here */
	bool suspended, pending;	/* pending: the hold is not in the database yet */
	char reason[32];
	int64_t last_used;
	struct sg_account *next;
};

struct sg_pending_count {
	char address[320];
	int64_t minute;
	uint64_t count;
};

struct sg_pending_rcpt {
	char address[320], rcpt[320];
	int64_t ts;
};

static pthread_mutex_t sg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sg_account *sg_table[SG_BUCKETS];
static struct sg_pending_count *sg_counts;
static size_t sg_ncounts, sg_capcounts;
static struct sg_pending_rcpt *sg_rcpts;
static size_t sg_nrcpts, sg_caprcpts;
static int64_t sg_last_prune;

static unsigned sg_bucket(const char *address)
{
	return (unsigned)(abuse_rcpt_hash(address) % SG_BUCKETS);
}

static struct sg_account *sg_find_locked(const char *address)
{
	for (struct sg_account *a = sg_table[sg_bucket(address)]; a != NULL; a = a->next) {
		if (strcmp(a->address, address) == 0)
			return a;
	}
	return NULL;
}

struct sg_load {
	struct sg_account *a;
	int64_t lifted;
};

static void sg_load_cb(int64_t minute, uint64_t count, void *ctx)
{
	struct sg_load *l = ctx;
	uint32_t n = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;

	sendlimit_add(&l->a->limits, minute * 60, n);
	if (minute * 60 >= l->lifted)
		sendwin_add(&l->a->abuse_hour, minute * 60, n);
}

/* The account's entry, read from the database on first use. Returns it
 * with sg_lock held, or NULL (unlocked) on error. */
static struct sg_account *sg_get_locked(const char *address, int64_t now)
{
	struct sg_account *a, *fresh;
	struct directory *dir;
	struct dir_hold hold;
	struct sg_load load;
	int r;

	pthread_mutex_lock(&sg_lock);
	a = sg_find_locked(address);
	if (a != NULL) {
		a->last_used = now;
		return a;
	}
	pthread_mutex_unlock(&sg_lock);
	dir = server_directory();
	fresh = calloc(1, sizeof(*fresh));
	if (dir == NULL || fresh == NULL) {
		free(fresh);
		return NULL;
	}
	str_copy(fresh->address, sizeof(fresh->address), address);
	sendlimit_init(&fresh->limits);
	sendwin_init(&fresh->abuse_hour, SENDLIMIT_HOUR_BUCKET, SENDLIMIT_HOUR_BUCKETS);
	sendwin_init(&fresh->bounces, SENDLIMIT_DAY_BUCKET, SENDLIMIT_DAY_BUCKETS);
	r = directory_hold_get(dir, address, &hold);
	if (r > 0) {
		fresh->lifted_seen = hold.lifted;
		fresh->suspended = hold.lifted == 0;
		str_copy(fresh->reason, sizeof(fresh->reason), hold.reason);
	}
	load.a = fresh;
	load.lifted = r > 0 ? hold.lifted : 0;
	if (r < 0 || directory_send_counts_load(dir, address, now / 60 - 1440, sg_load_cb, &load) < 0) {
		free(fresh);
		return NULL;
	}
	fresh->last_used = now;
	pthread_mutex_lock(&sg_lock);
	a = sg_find_locked(address);
	if (a != NULL) {
		free(fresh);	/* another loop was quicker */
		return a;
	}
	fresh->next = sg_table[sg_bucket(address)];
	sg_table[sg_bucket(address)] = fresh;
	return fresh;
}

/* Queues n recipients of address at now for the next flush. */
static void sg_pend_count_locked(const char *address, int64_t now, uint64_t n)
{
	int64_t minute = now / 60;

	for (size_t i = sg_ncounts; i > 0 && i + 8 > sg_ncounts; i--) {
		struct sg_pending_count *p = &sg_counts[i - 1];
		if (p->minute == minute && strcmp(p->address, address) == 0) {
			p->count += n;
			return;
		}
	}
	if (sg_ncounts == sg_capcounts) {
		size_t cap = sg_capcounts == 0 ? 64 : sg_capcounts * 2;
		struct sg_pending_count *grown = realloc(sg_counts, cap * sizeof(*grown));
		if (grown == NULL)
			return;	/* the count stays in memory; only persistence misses it */
		sg_counts = grown;
		sg_capcounts = cap;
	}
	str_copy(sg_counts[sg_ncounts].address, sizeof(sg_counts[0].address), address);
	sg_counts[sg_ncounts].minute = minute;
	sg_counts[sg_ncounts].count = n;
	sg_ncounts++;
}

static void sg_pend_rcpt_locked(const char *address, const char *rcpt, int64_t now)
{
	if (sg_nrcpts == sg_caprcpts) {
		size_t cap = sg_caprcpts == 0 ? 64 : sg_caprcpts * 2;
		struct sg_pending_rcpt *grown = realloc(sg_rcpts, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		sg_rcpts = grown;
		sg_caprcpts = cap;
	}
	str_copy(sg_rcpts[sg_nrcpts].address, sizeof(sg_rcpts[0].address), address);
	str_copy(sg_rcpts[sg_nrcpts].rcpt, sizeof(sg_rcpts[0].rcpt), rcpt);
	sg_rcpts[sg_nrcpts].ts = now;
	sg_nrcpts++;
}

static void sg_thresholds(const struct config *cfg, struct abuse_thresholds *t)
{
	t->burst_min = cfg->abuse_burst_min;
	t->burst_factor = cfg->abuse_burst_factor;
	t->new_rcpt_max = cfg->abuse_new_rcpt_max;
	t->new_rcpt_window = cfg->abuse_new_rcpt_window;
	t->bounce_min = cfg->abuse_bounce_min;
	t->bounce_percent = cfg->abuse_bounce_percent;
	t->login_countries = cfg->abuse_login_countries;
	t->login_window = cfg->abuse_login_window;
}

void sendguard_suspended_text(const char *address, const char *reason, char *buf, size_t size)
{
	snprintf(buf, size, "Sending from <%s> is suspended because of suspicious activity (%s);"
		 " reading mail still works. A notice is in your mailbox: change the password to"
		 " lift it, or ask the administrator (yubinctl account unsuspend)", address, reason);
}

struct sg_suspend_job {
	char address[320], reason[32], why[400], ip[64];
	int64_t since;
};

static void sg_suspend_run(void *ctx)
{
	struct sg_suspend_job *job = ctx;
	struct directory *dir = server_directory();
	char detail[512];
	const char *error = "no database";
	struct sg_account *a;

	snprintf(detail, sizeof(detail), "%s: %s", job->reason, job->why);
	if (dir == NULL || directory_hold_set(dir, job->address, job->since, job->reason, job->why,
					      &error) < 0)
		log_error(NULL, "abuse: cannot record the suspension of %s: %s", job->address, error);
	else
		directory_event_add(dir, "send-suspended", job->address, job->ip, detail);
	pthread_mutex_lock(&sg_lock);
	a = sg_find_locked(job->address);
	if (a != NULL)
		a->pending = false;
	pthread_mutex_unlock(&sg_lock);
	if (notice_suspension_deliver(job->address, job->reason, job->why, job->ip, job->since) < 0)
		log_warn(NULL, "abuse: the suspension notice for %s could not be delivered", job->address);
	free(job);
}

/* Suspends a's sending now (the caller holds sg_lock). */
static void sg_suspend_locked(struct sg_account *a, enum abuse_reason reason, const char *why,
			      const char *ip, int64_t now)
{
	struct sg_suspend_job *job = calloc(1, sizeof(*job));

	a->suspended = true;
	a->pending = true;
	str_copy(a->reason, sizeof(a->reason), abuse_reason_name(reason));
	log_warn(NULL, "abuse: sending of %s suspended (%s): %s", a->address, a->reason, why);
	if (job == NULL)
		return;
	str_copy(job->address, sizeof(job->address), a->address);
	str_copy(job->reason, sizeof(job->reason), a->reason);
	snprintf(job->why, sizeof(job->why), "%s", why);
	snprintf(job->ip, sizeof(job->ip), "%s", ip != NULL ? ip : "");
	job->since = now;
	worker_pool_submit(server->workers, NULL, sg_suspend_run, NULL, job);
}

/* The compromise signals as every node sharing the directory counted
 * them together (PostgreSQL): recipients from send_counts, bounces and new
 * recipients from abuse_counts, each since the last lift. */
struct sg_shared {
	uint64_t hour_sent, sent_day, new_rcpts, bounces_day;
};

struct sg_sum {
	int64_t hour_from, day_from;
	struct sg_shared *sh;
};

static void sg_sum_cb(int64_t minute, uint64_t count, void *ctx)
{
	struct sg_sum *s = ctx;

	if (minute * 60 >= s->day_from)
		s->sh->sent_day += count;
	if (minute * 60 >= s->hour_from)
		s->sh->hour_sent += count;
}

static int64_t sg_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void sg_sum_init(struct sg_sum *sum, struct sg_shared *sh, int64_t lifted, int64_t now)
{
	memset(sh, 0, sizeof(*sh));
	sum->hour_from = sg_max(now - 3600, lifted);
	sum->day_from = now - 86400;
	sum->sh = sh;
}

/* The bounces and new recipients into sh. Database reads: never under
 * sg_lock. 0, or -1 (then the node's own counts decide). */
static int sg_shared_abuse(struct directory *dir, const char *address, int64_t lifted, int64_t now,
			   const struct config *cfg, struct sg_shared *sh)
{
	return directory_abuse_count_sum(dir, address, "bounce", sg_max(now - 86400, lifted) / 60,
					 &sh->bounces_day) < 0 ||
	       directory_abuse_count_sum(dir, address, "new-rcpt",
					 sg_max(now - (int64_t)cfg->abuse_new_rcpt_window, lifted) / 60,
					 &sh->new_rcpts) < 0 ? -1 : 0;
}

/* Every signal into sh, as sg_shared_abuse. */
static int sg_shared_signals(struct directory *dir, const char *address, int64_t lifted, int64_t now,
			     const struct config *cfg, struct sg_shared *sh)
{
	struct sg_sum sum;

	sg_sum_init(&sum, sh, lifted, now);
	if (directory_send_counts_load(dir, address, (now - 86400) / 60, sg_sum_cb, &sum) < 0)
		return -1;
	return sg_shared_abuse(dir, address, lifted, now, cfg, sh);
}

/* Runs the detection for a (sg_lock held), as if extra_sent more
 * recipients (extra_new of them new) were counted, on every node's counts
 * (sh) or this node's (sh NULL); true when it suspended. */
static bool sg_detect_locked(struct sg_account *a, const struct config *cfg, unsigned countries,
			     const char *ip, int64_t now, unsigned extra_sent, unsigned extra_new,
			     const struct sg_shared *sh)
{
	struct abuse_thresholds t;
	struct abuse_signals sig;
	enum abuse_reason r;
	char why[400];

	sg_thresholds(cfg, &t);
	memset(&sig, 0, sizeof(sig));
	sig.hour_sent = (sh != NULL ? sh->hour_sent : sendwin_count(&a->abuse_hour, now)) + extra_sent;
	sig.usual_peak_hour = a->usual_peak;
	sig.new_rcpts = (sh != NULL ? sh->new_rcpts : a->newset.n) + extra_new;
	sig.bounces_day = sh != NULL ? sh->bounces_day : sendwin_count(&a->bounces, now);
	sig.sent_day = (sh != NULL ? sh->sent_day : sendwin_count(&a->limits.day, now)) + extra_sent;
	sig.countries = countries;
	r = abuse_evaluate(&t, &sig, why, sizeof(why));
	if (r == ABUSE_NONE)
		return false;
	sg_suspend_locked(a, r, why, ip, now);
	return true;
}

/* Applies a lift made by yubinctl (unsuspend, password change): the
 * signals start again from it. */
static void sg_apply_lift_locked(struct sg_account *a, int64_t lifted)
{
	a->lifted_seen = lifted;
	a->suspended = false;
	a->pending = false;
	sendwin_clear(&a->abuse_hour);
	sendwin_clear(&a->bounces);
	abuse_rcptset_clear(&a->newset);
}

struct sg_countries {
	char cc[16][3];
	unsigned n;
};

static void sg_country_cb(const struct dir_event *e, void *ctx)
{
	struct sg_countries *c = ctx;
	char cc[3];

	if (!abuse_detail_country(e->detail, cc))
		return;
	for (unsigned i = 0; i < c->n; i++) {
		if (strcmp(c->cc[i], cc) == 0)
			return;
	}
	if (c->n < sizeof(c->cc) / sizeof(c->cc[0]))
		memcpy(c->cc[c->n++], cc, 3);
}

enum sendguard_status sendguard_sender_open(struct sendguard_sender *snd, const char *address,
					    const char *ip, char *reply, size_t size)
{
	struct directory *dir = server_directory();
	const char *at = strchr(address, '@');
	int64_t now = time(NULL);
	struct sg_countries countries;
	struct dir_hold hold;
	struct sg_account *a;
	struct sg_shared sh;
	struct config cfg;
	bool shared;
	int r;

	memset(snd, 0, sizeof(*snd));
	if (dir == NULL || at == NULL)
		return SENDGUARD_ERROR;
	server_config(&cfg);
	str_copy(snd->address, sizeof(snd->address), address);
	settings_send_limits(dir, &cfg, address, &snd->limit_hour, &snd->limit_day);
	snd->detect = settings_account_bool(dir, address, SETTING_ABUSE_DETECT);
	r = directory_hold_get(dir, address, &hold);
	if (r < 0)
		return SENDGUARD_ERROR;
	memset(&countries, 0, sizeof(countries));
	if (snd->detect && cfg.abuse_login_countries > 0) {
		int64_t since = now - (int64_t)cfg.abuse_login_window;
		if (r > 0 && hold.lifted > since)
			since = hold.lifted;
		directory_event_since(dir, address, "auth-ok", since, sg_country_cb, &countries);
	}
	snd->countries = countries.n;
	snd->lifted = r > 0 ? hold.lifted : 0;
	shared = snd->detect && directory_is_pg(dir) &&
		 sg_shared_signals(dir, address, snd->lifted, now, &cfg, &sh) == 0;
	a = sg_get_locked(address, now);
	if (a == NULL)
		return SENDGUARD_ERROR;
	/* The database says lifted: newer than what we applied, or newer than
	 * our own suspension once that is written (same-second lifts too). */
	if (r > 0 && hold.lifted > 0 &&
	    (hold.lifted > a->lifted_seen || (a->suspended && !a->pending)))
		sg_apply_lift_locked(a, hold.lifted);
	if (r == 0 && a->suspended && !a->pending)
		sg_apply_lift_locked(a, now);	/* the account was deleted and made again */
	if (r > 0 && hold.lifted == 0 && !a->suspended) {
		a->suspended = true;	/* suspended by another process */
		str_copy(a->reason, sizeof(a->reason), hold.reason);
	}
	if (!a->suspended && snd->detect && a->usual_at < now - 3600) {
		uint64_t peak = 0;

		/* A database read under the lock, at most hourly per account. */
		if (directory_send_peak_hour(dir, address, now / 60 - 7 * 1440, now / 60 - 60, &peak) == 0)
			a->usual_peak = peak;
		a->usual_at = now;
	}
	if (!a->suspended && snd->detect)
		sg_detect_locked(a, &cfg, snd->countries, ip, now, 0, 0, shared ? &sh : NULL);
	snd->suspended = a->suspended;
	str_copy(snd->reason, sizeof(snd->reason), a->reason);
	pthread_mutex_unlock(&sg_lock);
	snd->active = true;
	if (snd->suspended) {
		sendguard_suspended_text(address, snd->reason, reply, size);
		return SENDGUARD_SUSPENDED;
	}
	return SENDGUARD_OK;
}

struct sg_take_load {
	struct sendlimit *lim;
	struct sg_sum *sum;	/* NULL: no signals wanted */
};

static void sg_shared_cb(int64_t minute, uint64_t count, void *ctx)
{
	struct sg_take_load *l = ctx;

	sendlimit_add(l->lim, minute * 60, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
	if (l->sum != NULL)
		sg_sum_cb(minute, count, l->sum);
}

/* With the directory in PostgreSQL, several nodes count one account: the
 * limits are checked against the database's counts and n counted there
 * in one step under the account's lock, so a limit holds across all
 * nodes together. SENDGUARD_OK when counted (in the database already:
 * not pended for the flush). sum (may be NULL) gets the counts read, n
 * not among them, for the compromise signals. */
static enum sendguard_status sg_shared_take(struct directory *dir, const char *address, uint32_t n,
					    uint64_t limit_hour, uint64_t limit_day, int64_t now,
					    struct sg_sum *sum, char *reply, size_t size)
{
	/* Inside RCPT's read transaction the lock lasts until it ends. */
	bool nested = directory_in_transaction(dir);
	struct sendlimit lim;
	struct sg_take_load load = { &lim, sum };
	enum sendlimit_verdict v;
	int64_t reset;

	sendlimit_init(&lim);
	if (!nested && directory_begin(dir) < 0)
		return SENDGUARD_ERROR;
	if (directory_lock(dir, address) < 0 ||
	    directory_send_counts_load(dir, address, now / 60 - 1440, sg_shared_cb, &load) < 0)
		goto fail;
	v = sendlimit_check_n(&lim, now, n, limit_hour, limit_day, &reset);
	if (v == SENDLIMIT_OK && directory_send_count_add(dir, address, now / 60, n) < 0)
		goto fail;
	if (!nested && directory_commit(dir) < 0)
		goto fail;
	if (v == SENDLIMIT_OK)
		return SENDGUARD_OK;
	sendlimit_reply_text(v, address, v == SENDLIMIT_DAY ? limit_day : limit_hour, now, reset, reply, size);
	return SENDGUARD_LIMIT;
fail:
	if (!nested)
		directory_rollback(dir);
	return SENDGUARD_ERROR;
}

/* A shared count taken for a recipient that was refused after all. */
static void sg_shared_give_back(const char *address, int64_t now, uint32_t n)
{
	struct directory *dir = server_directory();

	if (dir == NULL || directory_send_count_add(dir, address, now / 60, -(int64_t)n) < 0)
		log_warn(NULL, "abuse: could not give back %u counted recipients of %s", n, address);
}

/* The shared directory (PostgreSQL), or NULL for the local one. */
static struct directory *sg_shared_dir(void)
{
	struct directory *dir = server_directory();

	return dir != NULL && directory_is_pg(dir) ? dir : NULL;
}

enum sendguard_status sendguard_rcpt(struct sendguard_sender *snd, const char *rcpt, const char *ip,
				     char *reply, size_t size)
{
	struct directory *shared;
	enum sendguard_status st;
	int64_t now = time(NULL), reset;
	enum sendlimit_verdict v;
	struct sg_account *a;
	struct sg_shared sh;
	struct config cfg;
	uint64_t h = abuse_rcpt_hash(rcpt);
	bool seen = false, is_new = false, use_sh = false;

	if (!snd->active)
		return SENDGUARD_OK;
	server_config(&cfg);
	if (snd->detect && cfg.abuse_new_rcpt_max > 0) {
		struct directory *dir = server_directory();

		pthread_mutex_lock(&sg_lock);
		a = sg_find_locked(snd->address);
		seen = a != NULL && (abuse_rcptset_has(&a->sent, h) || abuse_rcptset_has(&a->newset, h));
		pthread_mutex_unlock(&sg_lock);
		/* Not written to since the daemon knows the account: ask the
		 * database about the previous 30 days. */
		if (!seen && dir != NULL)
			is_new = directory_send_rcpt_known(dir, snd->address, rcpt,
							   now - SG_KNOWN_DAYS * 86400) == 0;
	}
	shared = sg_shared_dir();
	if (shared != NULL && !snd->suspended) {
		struct sg_sum sum;

		/* every node's counts, as the limit check read them */
		sg_sum_init(&sum, &sh, snd->lifted, now);
		st = sg_shared_take(shared, snd->address, 1, snd->limit_hour, snd->limit_day, now,
				    snd->detect ? &sum : NULL, reply, size);
		if (st != SENDGUARD_OK)
			return st;
		use_sh = snd->detect && sg_shared_abuse(shared, snd->address, snd->lifted, now, &cfg, &sh) == 0;
	}
	a = sg_get_locked(snd->address, now);
	if (a == NULL) {
		if (shared != NULL)
			sg_shared_give_back(snd->address, now, 1);
		return SENDGUARD_ERROR;
	}
	if (is_new && abuse_rcptset_has(&a->newset, h))
		is_new = false;		/* another loop counted it meanwhile */
	if (a->suspended) {
		snd->suspended = true;
		str_copy(snd->reason, sizeof(snd->reason), a->reason);
		pthread_mutex_unlock(&sg_lock);
		if (shared != NULL)
			sg_shared_give_back(snd->address, now, 1);
		sendguard_suspended_text(snd->address, snd->reason, reply, size);
		return SENDGUARD_SUSPENDED;
	}
	/* Shared: checked against every node's counts already. */
	v = shared != NULL ? SENDLIMIT_OK : sendlimit_check(&a->limits, now, snd->limit_hour, snd->limit_day, &reset);
	if (v != SENDLIMIT_OK) {
		pthread_mutex_unlock(&sg_lock);
		sendlimit_reply_text(v, snd->address, v == SENDLIMIT_DAY ? snd->limit_day : snd->limit_hour,
				     now, reset, reply, size);
		return SENDGUARD_LIMIT;
	}
	if (snd->detect && sg_detect_locked(a, &cfg, snd->countries, ip, now, 1, is_new ? 1 : 0,
					    use_sh ? &sh : NULL)) {
		/* This recipient would cross the threshold: it is refused, and
		 * not counted, like every one after it. */
		snd->suspended = true;
		str_copy(snd->reason, sizeof(snd->reason), a->reason);
		pthread_mutex_unlock(&sg_lock);
		if (shared != NULL)
			sg_shared_give_back(snd->address, now, 1);
		sendguard_suspended_text(snd->address, snd->reason, reply, size);
		return SENDGUARD_SUSPENDED;
	}
	sendlimit_add(&a->limits, now, 1);
	sendwin_add(&a->abuse_hour, now, 1);
	if (is_new)
		abuse_rcptset_add(&a->newset, h, now, cfg.abuse_new_rcpt_window);
	if (!abuse_rcptset_has(&a->sent, h))
		abuse_rcptset_add(&a->sent, h, now, 3600);
	if (shared == NULL)
		sg_pend_count_locked(a->address, now, 1);
	sg_pend_rcpt_locked(a->address, rcpt, now);
	pthread_mutex_unlock(&sg_lock);
	if (shared != NULL && is_new &&
	    directory_abuse_count_add(shared, snd->address, "new-rcpt", now / 60, 1) < 0)
		log_warn(NULL, "abuse: cannot count a new recipient of %s for the other nodes", snd->address);
	return SENDGUARD_OK;
}

enum sendguard_status sendguard_count_forward(const char *address, unsigned n, char *reply, size_t size)
{
	struct sendguard_sender snd;
	char ignored[512];
	enum sendguard_status st = sendguard_sender_open(&snd, address, "", ignored, sizeof(ignored));
	int64_t now = time(NULL), reset;
	struct sg_account *a;
	enum sendlimit_verdict v;

	struct directory *shared = sg_shared_dir();

	if (st != SENDGUARD_OK) {
		snprintf(reply, size, "%s", ignored);
		return st;
	}
	if (shared != NULL) {
		st = sg_shared_take(shared, address, n, snd.limit_hour, snd.limit_day, now, NULL, reply, size);
		if (st != SENDGUARD_OK)
			return st;
	}
	a = sg_get_locked(address, now);
	if (a == NULL) {
		if (shared != NULL)
			sg_shared_give_back(address, now, n);
		return SENDGUARD_ERROR;
	}
	v = shared != NULL ? SENDLIMIT_OK
			   : sendlimit_check_n(&a->limits, now, n, snd.limit_hour, snd.limit_day, &reset);
	if (v == SENDLIMIT_OK) {
		sendlimit_add(&a->limits, now, n);
		sendwin_add(&a->abuse_hour, now, n);
		if (shared == NULL)
			sg_pend_count_locked(a->address, now, n);
	}
	pthread_mutex_unlock(&sg_lock);
	if (v == SENDLIMIT_OK)
		return SENDGUARD_OK;
	sendlimit_reply_text(v, address, v == SENDLIMIT_DAY ? snd.limit_day : snd.limit_hour, now, reset,
			     reply, size);
	return SENDGUARD_LIMIT;
}

void sendguard_bounce(const char *address, const char *ip)
{
	struct directory *dir = server_directory();
	int64_t now = time(NULL);
	const char *at = strchr(address, '@');
	struct sg_account *a;
	struct sg_shared sh;
	struct config cfg;
	bool shared = false;

	if (dir == NULL || at == NULL || !settings_account_bool(dir, address, SETTING_ABUSE_DETECT))
		return;
	server_config(&cfg);
	/* Shared (PostgreSQL): counted where every node sees it, and decided
	 * on every node's bounces and recipients. */
	if (directory_is_pg(dir) && directory_abuse_count_add(dir, address, "bounce", now / 60, 1) == 0) {
		struct dir_hold hold;
		int r = directory_hold_get(dir, address, &hold);

		shared = r >= 0 && sg_shared_signals(dir, address, r > 0 ? hold.lifted : 0, now, &cfg, &sh) == 0;
	}
	a = sg_get_locked(address, now);
	if (a == NULL)
		return;
	sendwin_add(&a->bounces, now, 1);
	if (!a->suspended)
		sg_detect_locked(a, &cfg, 0, ip, now, 0, 0, shared ? &sh : NULL);
	pthread_mutex_unlock(&sg_lock);
}

/* ---- persistence ---- */

struct sg_flush_job {
	struct sg_pending_count *counts;
	size_t ncounts;
	struct sg_pending_rcpt *rcpts;
	size_t nrcpts;
	int64_t prune_minute;
};

static int sg_flush_write(struct directory *dir, struct sg_flush_job *job)
{
	struct dir_send_count *c = calloc(job->ncounts + 1, sizeof(*c));
	struct dir_send_rcpt *r = calloc(job->nrcpts + 1, sizeof(*r));
	int ret = -1;

	if (c != NULL && r != NULL) {
		for (size_t i = 0; i < job->ncounts; i++) {
			c[i].address = job->counts[i].address;
			c[i].minute = job->counts[i].minute;
			c[i].count = job->counts[i].count;
		}
		for (size_t i = 0; i < job->nrcpts; i++) {
			r[i].address = job->rcpts[i].address;
			r[i].rcpt = job->rcpts[i].rcpt;
			r[i].ts = job->rcpts[i].ts;
		}
		ret = directory_send_flush(dir, c, job->ncounts, r, job->nrcpts, job->prune_minute);
	}
	free(c);
	free(r);
	return ret;
}

static void sg_flush_run(void *ctx)
{
	struct sg_flush_job *job = ctx;
	struct directory *dir = server_directory();

	if (dir == NULL || sg_flush_write(dir, job) < 0)
		log_warn(NULL, "abuse: could not save %zu sending counts", job->ncounts);
	free(job->counts);
	free(job->rcpts);
	free(job);
}

/* Takes what is pending (and forgets idle accounts); NULL when nothing. */
static struct sg_flush_job *sg_flush_take(int64_t now)
{
	struct sg_flush_job *job;

	pthread_mutex_lock(&sg_lock);
	for (unsigned b = 0; b < SG_BUCKETS; b++) {
		struct sg_account **pp = &sg_table[b];
		while (*pp != NULL) {
			struct sg_account *a = *pp;
			if (a->last_used < now - SG_IDLE_SECS && !a->pending) {
				*pp = a->next;
				abuse_rcptset_clear(&a->newset);
				abuse_rcptset_clear(&a->sent);
				free(a);
				continue;
			}
			pp = &a->next;
		}
	}
	if (sg_ncounts == 0 && sg_nrcpts == 0 && sg_last_prune > now - 3600) {
		pthread_mutex_unlock(&sg_lock);
		return NULL;
	}
	job = calloc(1, sizeof(*job));
	if (job != NULL) {
		job->counts = sg_counts;
		job->ncounts = sg_ncounts;
		job->rcpts = sg_rcpts;
		job->nrcpts = sg_nrcpts;
		sg_counts = NULL;
		sg_rcpts = NULL;
		sg_ncounts = sg_capcounts = sg_nrcpts = sg_caprcpts = 0;
		if (sg_last_prune <= now - 3600) {
			job->prune_minute = now / 60 - SG_KEEP_MINUTES;
			sg_last_prune = now;
		}
	}
	pthread_mutex_unlock(&sg_lock);
	return job;
}

static void sg_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sg_flush_job *job = sg_flush_take(time(NULL));

	if (job != NULL)
		worker_pool_submit(server->workers, NULL, sg_flush_run, NULL, job);
}

/* At stop: what the last timer did not take, written with a handle of
 * our own (the worker pool is gone by then). */
static void sg_flush_at_stop(void)
{
	struct sg_flush_job *job;
	struct directory *dir;
	char path[4200], err[256];

	if (server == NULL)
		return;
	job = sg_flush_take(time(NULL));
	if (job == NULL)
		return;
	job->prune_minute = 0;
	server_directory_where(path, sizeof(path));
	dir = directory_open(path, err, sizeof(err));
	if (dir == NULL || sg_flush_write(dir, job) < 0)
		log_warn(NULL, "abuse: could not save %zu sending counts at exit", job->ncounts);
	directory_close(dir);
	free(job->counts);
	free(job->rcpts);
	free(job);
}

static void sg_free_all(void)
{
	pthread_mutex_lock(&sg_lock);
	for (unsigned b = 0; b < SG_BUCKETS; b++) {
		while (sg_table[b] != NULL) {
			struct sg_account *a = sg_table[b];
			sg_table[b] = a->next;
			abuse_rcptset_clear(&a->newset);
			abuse_rcptset_clear(&a->sent);
			free(a);
		}
	}
	pthread_mutex_unlock(&sg_lock);
}

static struct event *sg_timer;

void sendguard_start(struct event_base *base)
{
	static const struct timeval every = { SENDGUARD_FLUSH_SECS, 0 };

	sg_timer = event_new(base, -1, EV_PERSIST, sg_flush_cb, NULL);
	if (sg_timer == NULL)
		log_fatal("abuse: cannot make the flush timer");
	event_add(sg_timer, &every);
}

void sendguard_stop(void)
{
	if (sg_timer != NULL)
		event_free(sg_timer);
	sg_timer = NULL;
	sg_flush_at_stop();
	sg_free_all();
}
