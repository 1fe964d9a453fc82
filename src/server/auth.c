#include "server/auth.h"
#include "server/stats.h"
#include "server/proxy.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "lib/keycache.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "policy/bruteforce.h"
#include "policy/foreign.h"
#include "policy/geoip.h"
#include "settings/settings.h"

#include <event2/event.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A verified-login cache: argon2id costs ~50 ms and 64 MB by design, so a
 * client that logs in every minute must not pay it every time. An entry
 * binds (address, stored hash, password) through a keyed BLAKE2b digest; a
 * password change alters the stored hash and so invalidates it at once.
 * auth.cache_entries entries (lib/keycache.h: 48 bytes each, allocated at
 * start; least recently used go first), each good for an hour. */
#define AUTH_CACHE_TTL 3600

static pthread_mutex_t auth_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache *auth_cache;
static unsigned char auth_cache_key[32];

static char auth_dummy_hash[128];
/* argon2id wants 64 MB and a core per check: no more checks at once than
 * cores, so a burst of logins cannot starve fsync work or memory. */
static sem_t auth_hash_slots;

static void auth_cache_init(void)
{
	char pw[17];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct config cfg;

	server_config(&cfg);
	auth_cache = keycache_new(cfg.auth_cache_entries);
	if (auth_cache == NULL)
		log_fatal("auth: no memory for a login cache of %u entries (%s)", cfg.auth_cache_entries,
			  settings_key(SETTING_CONF_AUTH_CACHE_ENTRIES));
	log_info(NULL, "auth: login cache of %zu entries (%zu KB)", keycache_capacity(auth_cache),
		 keycache_capacity(auth_cache) * KEYCACHE_ENTRY_SIZE / 1024);
	sem_init(&auth_hash_slots, 0, cores > 0 ? (unsigned)cores : 1);
	randombytes_buf(auth_cache_key, sizeof(auth_cache_key));
	str_random_id(pw, sizeof(pw));
	if (password_hash(pw, auth_dummy_hash, sizeof(auth_dummy_hash)) < 0)
		auth_dummy_hash[0] = '\0';
}

static void auth_cache_digest(const char *address, const char *hash, const char *password,
			      unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, auth_cache_key, sizeof(auth_cache_key), 32);
	crypto_generichash_update(&st, (const unsigned char *)address, strlen(address) + 1);
	crypto_generichash_update(&st, (const unsigned char *)hash, strlen(hash) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, strlen(password));
	crypto_generichash_final(&st, out, 32);
}

static bool auth_cache_check(const unsigned char digest[32])
{
	bool hit;

	pthread_mutex_lock(&auth_cache_lock);
	hit = keycache_check(auth_cache, digest, time(NULL));
	pthread_mutex_unlock(&auth_cache_lock);
	return hit;
}

static void auth_cache_store(const unsigned char digest[32])
{
	int64_t now = time(NULL);

	pthread_mutex_lock(&auth_cache_lock);
	keycache_store(auth_cache, digest, now + AUTH_CACHE_TTL, now);
	pthread_mutex_unlock(&auth_cache_lock);
}

struct auth_work {
	const struct auth_request *req;
	struct auth_result *res;
	void (*done)(void *ctx);
	void *ctx;
	struct event_base *base;
	unsigned delay_ms;	/* the reply waits this long (brute-force defence) */
	struct config cfg;
	struct net_addr addr;
	bool addr_ok;
	char key[64];		/* brute-force key of the client: IPv4, or IPv6 /64 */
	int64_t now;
};

static struct geoip *auth_geoip;
static struct bf_table *auth_bf;

static void auth_policy_init(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/geoip/country.mmdb", server->data_dir);
	auth_geoip = geoip_new(path);
	auth_bf = bf_table_new(65536);
	if (auth_bf == NULL)
		log_fatal("auth: out of memory");
}

void auth_start(void)
{
	char err[300], detail[400];
	struct config cfg;

	auth_cache_init();
	auth_policy_init();
	if (geoip_is_loaded(auth_geoip)) {
		log_info(NULL, "geoip: country database loaded");
		return;
	}
	server_config(&cfg);
	geoip_error(auth_geoip, err, sizeof(err));
	log_error(NULL, "geoip: *** COUNTRY DATABASE MISSING OR UNREADABLE *** %s", err);
	log_error(NULL, "geoip: the foreign-access restriction will %s logins from addresses it cannot place"
		  " (%s = %s); install it with: yubinctl geoip update",
		  strcmp(cfg.geoip_missing, "deny") == 0 ? "REFUSE" : "ALLOW",
		  settings_key(SETTING_CONF_GEOIP_MISSING), cfg.geoip_missing);
	snprintf(detail, sizeof(detail), "%s; %s = %s", err, settings_key(SETTING_CONF_GEOIP_MISSING),
		 cfg.geoip_missing);
	if (server_directory() != NULL)
		directory_event_add(server_directory(), "geoip-missing", "", "", detail);
}

void auth_stop(void)
{
	geoip_free(auth_geoip);
	auth_geoip = NULL;
	bf_table_free(auth_bf);
	auth_bf = NULL;
	sem_destroy(&auth_hash_slots);
	keycache_free(auth_cache);
	auth_cache = NULL;
}

static void auth_limits(const struct config *cfg, struct bf_limits *lim)
{
	lim->window = cfg->bf_window;
	lim->ip_delay_after = cfg->bf_ip_delay_after;
	lim->ip_block_after = cfg->bf_ip_block_after;
	lim->block_time = cfg->bf_block_time;
	lim->block_max = cfg->bf_block_max;
	lim->account_delay_after = cfg->bf_account_delay_after;
	lim->delay_max = cfg->bf_delay_max;
}

static void auth_time_text(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* With the directory in PostgreSQL the brute-force counters are shared by
 * every node: key's counters as the database has them, into the table
 * (whose logic then runs on them), and back. */
static void auth_bf_load(struct directory *dir, const char *key)
{
	struct dir_auth_counter c;
	struct bf_state st;
	int r = directory_auth_counter_get(dir, key, &c);

	if (r < 0)
		return;		/* this node's own counts stand in */
	st.bucket = c.bucket;
	st.last = c.last;
	st.last_block = c.last_block;
	st.cur = c.cur;
	st.prev = c.prev;
	st.blocks = c.blocks;
	st.throttled = c.throttled;
	bf_state_set(auth_bf, key, r > 0 ? &st : NULL);
}

static void auth_bf_store(struct directory *dir, const char *key)
{
	struct dir_auth_counter c;
	struct bf_state st;

	memset(&c, 0, sizeof(c));
	if (bf_state_get(auth_bf, key, &st) > 0) {
		c.bucket = st.bucket;
		c.last = st.last;
		c.last_block = st.last_block;
		c.cur = st.cur;
		c.prev = st.prev;
		c.blocks = st.blocks;
		c.throttled = st.throttled;
	}
	if (directory_auth_counter_set(dir, key, &c) < 0)
		log_warn(NULL, "auth: cannot store the login counters of %s", key);
}

/* bf_failure on the counters every node shares (PostgreSQL), under the
 * keys' locks so that two nodes' failures both count; on this node's
 * alone when the directory is local or does not answer. */
static void auth_bf_failure(struct auth_work *w, struct directory *dir, const struct bf_limits *lim,
			    const char *account, struct bf_failure *f)
{
	bool shared = dir != NULL && directory_is_pg(dir) && directory_begin(dir) == 0;

	if (shared && (directory_lock(dir, w->key) < 0 || (account[0] != '\0' && directory_lock(dir, account) < 0))) {
		directory_rollback(dir);
		shared = false;
	}
	if (shared) {
		auth_bf_load(dir, w->key);
		if (account[0] != '\0')
			auth_bf_load(dir, account);
	}
	bf_failure(auth_bf, lim, w->key, account, w->now, f);
	if (!shared)
		return;
	auth_bf_store(dir, w->key);
	if (account[0] != '\0')
		auth_bf_store(dir, account);
	if (directory_commit(dir) < 0)
		directory_rollback(dir);
}

/* The reply waits ms (brute-force defence); counted in the metrics. */
static void auth_delay(struct auth_work *w, unsigned ms)
{
	w->delay_ms = ms;
	if (ms > 0)
		stats_add(STATS_AUTH_BLOCKS, BLOCK_DELAYED, 1);
}

/* Counts a failed login: growing delays, and a block of the address or
 * the slowing of the account, each recorded once with an event. */
static void auth_count_failure(struct auth_work *w, const char *address)
{
	struct directory *dir = server_directory();
	struct bf_limits lim;
	struct bf_failure f;

	if (!w->addr_ok)
		return;
	auth_limits(&w->cfg, &lim);
	auth_bf_failure(w, dir, &lim, strchr(address, '@') != NULL ? address : "", &f);
	auth_delay(w, f.delay_ms);
	if (dir == NULL)
		return;
	if (f.block) {
		struct dir_auth_block b;
		char until[40];
		const char *error;

		stats_inc(STATS_AUTH_BLOCKS, BLOCK_IP);
		memset(&b, 0, sizeof(b));
		str_copy(b.key, sizeof(b.key), w->key);
		str_copy(b.kind, sizeof(b.kind), "ip");
		b.since = w->now;
		b.until = w->now + f.block_seconds;
		b.failures = f.ip_failures;
		auth_time_text(b.until, until, sizeof(until));
		snprintf(b.detail, sizeof(b.detail), "%u failed logins within %u s (last for %s, %s);"
			 " blocked for %u s until %s", f.ip_failures, lim.window, address, w->req->service,
			 f.block_seconds, until);
		if (directory_auth_block_set(dir, &b, &error) < 0)
			log_warn(NULL, "auth: cannot record the block of %s: %s", w->key, error);
		directory_event_add(dir, "auth-block", address, w->req->ip, b.detail);
		log_warn(NULL, "auth: blocked logins from %s: %s", w->key, b.detail);
	}
	if (f.throttle_start) {
		struct dir_auth_block b;
		const char *error;

		stats_inc(STATS_AUTH_BLOCKS, BLOCK_ACCOUNT);
		memset(&b, 0, sizeof(b));
		str_copy(b.key, sizeof(b.key), address);
		str_copy(b.kind, sizeof(b.kind), "account");
		b.since = w->now;
		b.until = w->now + lim.window;
		b.failures = f.account_failures;
		snprintf(b.detail, sizeof(b.detail), "%u failed logins within %u s (last from %s); logins"
			 " from addresses never used by this account are slowed, never blocked",
			 f.account_failures, lim.window, w->req->ip);
		if (directory_auth_block_set(dir, &b, &error) < 0)
			log_warn(NULL, "auth: cannot record the slowing of %s: %s", address, error);
		directory_event_add(dir, "auth-throttle", address, w->req->ip, b.detail);
		log_warn(NULL, "auth: slowing logins to %s: %s", address, b.detail);
	}
}

static void auth_fail(struct auth_work *w, const char *reason, const char *address)
{
	char detail[160];

	w->res->ok = false;
	w->res->code = AUTH_FAILED;
	str_copy(w->res->reason, sizeof(w->res->reason), reason);
	snprintf(detail, sizeof(detail), "%s login refused: %s", w->req->service, reason);
	if (server_directory() != NULL)
		directory_event_add(server_directory(), "auth-failed", address, w->req->ip, detail);
	auth_count_failure(w, address);
}

/* true (and the refusal filled in) when the client's address is blocked.
 * A block the operator lifted (row gone) also clears the counters. */
static bool auth_is_blocked(struct auth_work *w, struct directory *dir)
{
	struct dir_auth_block b;
	char until[40], detail[300];
	int r;

	if (!w->addr_ok)
		return false;
	r = directory_auth_block_get(dir, w->key, &b);
	if (r <= 0 || b.until <= w->now || strcmp(b.kind, "ip") != 0)
		return false;
	auth_time_text(b.until, until, sizeof(until));
	w->res->ok = false;
	w->res->code = AUTH_BLOCKED;
	str_copy(w->res->reason, sizeof(w->res->reason), "address blocked");
	snprintf(w->res->text, sizeof(w->res->text), "Too many failed logins from %s: logins from this"
		 " address are blocked until %s", w->req->ip, until);
	snprintf(detail, sizeof(detail), "%s login refused: %s is blocked until %s (brute-force defence)",
		 w->req->service, w->key, until);
	directory_event_add(dir, "auth-refused", w->req->user, w->req->ip, detail);
	return true;
}

/* ---- the foreign-access restriction ---- */

struct override_match {
	const struct net_addr *addr;
	unsigned prefix;
	char cc[3];
};

static void auth_override_cb(const char *cidr, const char *country, int64_t created, void *ctx)
{
	struct override_match *m = ctx;
	struct net_cidr c;
	const char *error;

	if (net_cidr_parse(cidr, &c, &error) == 0 && net_cidr_contains(&c, m->addr) &&
	    (m->cc[0] == '\0' || c.prefix > m->prefix)) {
		m->prefix = c.prefix;
		str_copy(m->cc, sizeof(m->cc), country);
	}
}

/* Verified reverse-DNS names, cached for 10 minutes (5 when none), so an
 * attacker's retries do not tie up the workers with lookups. */
#define RDNS_CACHE 256
struct rdns_slot {
	char ip[64];
	char names[512];
	int found;
	time_t expires;
};
static pthread_mutex_t rdns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rdns_slot rdns_cache[RDNS_CACHE];

static int auth_rdns(void *ctx, char *buf, size_t size)
{
	struct auth_work *w = ctx;
	unsigned h = 5381;
	struct rdns_slot *slot;
	time_t now = time(NULL);
	int found;

	for (const char *p = w->req->ip; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	slot = &rdns_cache[h % RDNS_CACHE];
	pthread_mutex_lock(&rdns_lock);
	if (slot->expires > now && strcmp(slot->ip, w->req->ip) == 0) {
		found = slot->found;
		str_copy(buf, size, slot->names);
		pthread_mutex_unlock(&rdns_lock);
		return found;
	}
	pthread_mutex_unlock(&rdns_lock);
	found = foreign_rdns_lookup(w->cfg.dns_resolver, w->req->ip, w->cfg.foreign_auth_rdns_timeout,
				    buf, size);
	pthread_mutex_lock(&rdns_lock);
	str_copy(slot->ip, sizeof(slot->ip), w->req->ip);
	str_copy(slot->names, sizeof(slot->names), found > 0 ? buf : "");
	slot->found = found;
	slot->expires = now + (found > 0 ? 600 : 300);
	pthread_mutex_unlock(&rdns_lock);
	return found;
}

/* The client's country (override table first, then the database) into
 * w->res->country; with a local domain, decides the restriction. false
 * (and the refusal filled in) when the login may not go on. */
static bool auth_foreign_check(struct auth_work *w, struct directory *dir)
{
	struct foreign_input in;
	struct foreign_decision d;
	struct override_match m;
	struct settings_foreign fs;
	char domain[DIR_DOMAIN_MAX + 1] = "", dbcc[3] = "";
	const char *at = strchr(w->req->user, '@');
	enum geoip_status gs;

	if (!w->addr_ok)
		return true;
	memset(&m, 0, sizeof(m));
	m.addr = &w->addr;
	directory_geoip_override_list(dir, auth_override_cb, &m);
	gs = geoip_lookup(auth_geoip, w->req->ip, dbcc);
	memset(&in, 0, sizeof(in));
	in.addr = w->addr;
	in.override_cc = m.cc;
	in.db_cc = dbcc;
	in.db_missing = gs == GEOIP_NO_DATABASE;
	in.missing_allow = strcmp(w->cfg.geoip_missing, "deny") != 0;
	settings_foreign_get(NULL, NULL, &fs);	/* the defaults */
	if (at != NULL && str_copy(domain, sizeof(domain), at + 1) == 0) {
		str_lower(domain);
		if (directory_domain_exists(dir, domain) > 0) {
			settings_foreign_get(dir, domain, &fs);
			in.enabled = settings_foreign_applies(&fs, w->req->service);
		}
	}
	in.home = fs.home;
	in.domain_allow = in.enabled ? fs.allow : "";
	in.server_allow = w->cfg.foreign_auth_allow;
	in.rdns_suffixes = w->cfg.foreign_auth_rdns;
	in.rdns = auth_rdns;
	in.rdns_ctx = w;
	foreign_decide(&in, &d);
	str_copy(w->res->country, sizeof(w->res->country), d.country);
	if (d.allowed) {
		if (in.enabled && d.rule != FOREIGN_RULE_PRIVATE && d.rule != FOREIGN_RULE_HOME)
			log_info(NULL, "auth: %s login for %s from %s (%s) allowed by rule %s%s%s", w->req->service,
				 w->req->user, w->req->ip, d.country[0] ? d.country : "--",
				 foreign_rule_name(d.rule), d.rdns[0] ? " " : "", d.rdns);
		return true;
	}
	{
		char detail[400];
		const char *cc = d.country[0] != '\0' ? d.country : "unknown country";

		w->res->ok = false;
		w->res->code = AUTH_FOREIGN;
		str_copy(w->res->reason, sizeof(w->res->reason), "foreign address");
		snprintf(w->res->text, sizeof(w->res->text), "Login from %s (%s) refused by the foreign-access"
			 " restriction of %s (logins only from %s); ask the domain's administrator to turn it off while abroad",
			 w->req->ip, cc, domain, fs.home);
		snprintf(detail, sizeof(detail), "%s login refused: foreign-access restriction, country=%s"
			 " rule=%s domain=%s home=%s", w->req->service, d.country[0] ? d.country : "--",
			 foreign_rule_name(d.rule), domain, fs.home);
		directory_event_add(dir, "auth-foreign", w->req->user, w->req->ip, detail);
	}
	return false;
}

/* A successful login: slowed only if the account is under attack and the
 * address is new to it; remembered as known; an `auth-ok` event (with the
 * country, for the compromised-account detection) at most every 10
 * minutes per account and address. */
static void auth_succeeded(struct auth_work *w, struct directory *dir, const char *address)
{
	struct bf_limits lim;
	int64_t last = 0;
	int known;

	if (!w->addr_ok)
		return;
	auth_limits(&w->cfg, &lim);
	known = directory_auth_known_get(dir, address, w->key, &last);
	if (known == 0 && directory_is_pg(dir))
		auth_bf_load(dir, address);
	if (known == 0)
		auth_delay(w, bf_account_delay_ms(auth_bf, &lim, address, w->now));
	directory_auth_known_touch(dir, address, w->key, w->now);
	if (known <= 0 || last < w->now - 600) {
		char detail[160];

		snprintf(detail, sizeof(detail), "%s login from %s%s%s", w->req->service, w->req->ip,
			 w->res->country[0] ? " country=" : "", w->res->country);
		directory_event_add(dir, "auth-ok", address, w->req->ip, detail);
	}
}

/* An account whose slowing the operator lifted (row gone) starts afresh. */
static void auth_sync_throttle(struct auth_work *w, struct directory *dir, const char *address)
{
	struct dir_auth_block b;
	struct bf_limits lim;

	auth_limits(&w->cfg, &lim);
	if (directory_is_pg(dir))
		auth_bf_load(dir, address);
	if (bf_account_delay_ms(auth_bf, &lim, address, w->now) == 0)
		return;
	if (directory_auth_block_get(dir, address, &b) == 0) {
		bf_reset(auth_bf, address);
		if (directory_is_pg(dir))
			auth_bf_store(dir, address);
	}
}

/* On a mail node, a client's own login (not a proxy's: proxy_auth.c) for
 * an account that lives on another node is refused with a temporary
 * error: the mailbox here would be an empty one, and what the client put
 * there would be out of the owner's sight. SMTP submission only queues
 * mail, so it may go on; a proxy decides nothing by place. */
static bool auth_home_here(struct auth_work *w, struct directory *dir, const char *address)
{
	char home[DIR_NODE_NAME_MAX + 1];
	int r;

	if (strcmp(w->cfg.role, "proxy") == 0 || strcmp(w->req->service, "smtp") == 0)
		return true;
	r = proxy_account_is_here(dir, address, home, sizeof(home));
	if (r > 0)
		return true;
	w->res->code = AUTH_TEMPFAIL;
	str_copy(w->res->text, sizeof(w->res->text), r < 0
		 ? "Temporary authentication failure (directory unavailable)"
		 : "This mailbox is served by another server: connect to the service's own host name");
	str_copy(w->res->reason, sizeof(w->res->reason), r < 0 ? "directory error" : "account on another node");
	if (r == 0)
		log_warn(NULL, "auth: %s logged in directly on this node from %s, but lives on node '%s'",
			 address, w->req->ip, home[0] != '\0' ? home : "(none)");
	return false;
}

/* The login check of auth_work_run; hash (DIR_HASH_MAX) holds the stored
 * password hash while it runs, and the caller wipes it. */
static void auth_work_check(struct auth_work *w, char *hash, size_t hash_size)
{
	struct directory *dir = server_directory();
	struct dir_account acct;
	unsigned char digest[32];
	int r;

	server_config(&w->cfg);
	w->now = time(NULL);
	w->addr_ok = net_addr_parse(w->req->ip, &w->addr) == 0;
	if (w->addr_ok)
		net_addr_block_key(&w->addr, w->key, sizeof(w->key));
	if (dir == NULL) {
		w->res->code = AUTH_TEMPFAIL;
		str_copy(w->res->text, sizeof(w->res->text), "Temporary authentication failure (directory unavailable)");
		str_copy(w->res->reason, sizeof(w->res->reason), "directory unavailable");
		return;
	}
	if (auth_is_blocked(w, dir) || !auth_foreign_check(w, dir))
		return;
	r = strchr(w->req->user, '@') != NULL
		? directory_account_get_auth(dir, w->req->user, &acct, hash, hash_size) : 0;
	if (r < 0) {
		/* The directory does not answer (PostgreSQL down): a temporary
		 * failure the client retries, never counted as a wrong password. */
		w->res->code = AUTH_TEMPFAIL;
		str_copy(w->res->text, sizeof(w->res->text), "Temporary authentication failure (directory unavailable)");
		str_copy(w->res->reason, sizeof(w->res->reason), "directory unavailable");
		return;
	}
	if (r > 0)
		auth_sync_throttle(w, dir, acct.address);
	if (r <= 0) {
		/* Spend the same time as a real check, so timing tells nothing. */
		sem_wait(&auth_hash_slots);
		password_verify(auth_dummy_hash, w->req->password);
		sem_post(&auth_hash_slots);
		/* A bare login name is the commonest client mistake: say so,
		 * so doctor can tell the user to type the full address. */
		auth_fail(w, r < 0 ? "directory error" : strchr(w->req->user, '@') == NULL
			  ? "login name is not a full address" : "unknown user", w->req->user);
		return;
	}
	auth_cache_digest(acct.address, hash, w->req->password, digest);
	if (!auth_cache_check(digest)) {
		bool ok;

		sem_wait(&auth_hash_slots);
		ok = password_verify(hash, w->req->password);
		sem_post(&auth_hash_slots);
		if (!ok) {
			auth_fail(w, "wrong password", acct.address);
			explicit_bzero(&acct, sizeof(acct));
			return;
		}
		auth_cache_store(digest);
	}
	if (!acct.enabled) {
		auth_fail(w, "account disabled", acct.address);
		return;
	}
	if (!auth_home_here(w, dir, acct.address))
		return;
	w->res->ok = true;
	w->res->code = AUTH_OK;
	str_copy(w->res->address, sizeof(w->res->address), acct.address);
	auth_succeeded(w, dir, acct.address);
	explicit_bzero(&acct, sizeof(acct));
}

/* The check without the metrics: the web's refusals are counted by the
 * API, which sees those made before any check too. */
static void auth_work_check_only(struct auth_work *w)
{
	char hash[DIR_HASH_MAX] = "";

	auth_work_check(w, hash, sizeof(hash));
	explicit_bzero(hash, sizeof(hash));
}

static void auth_work_run(void *ctx)
{
	struct auth_work *w = ctx;

	auth_work_check_only(w);
	if (!w->res->ok && w->res->code != AUTH_TEMPFAIL)
		stats_auth_failed(w->req->service);
}

static void auth_reply_now(evutil_socket_t fd, short what, void *ctx)
{
	struct auth_work *w = ctx;

	w->done(w->ctx);
	free(w);
}

/* Back on the session's loop: answer now, or after the brute-force delay
 * (a timer, so no thread waits meanwhile). */
static void auth_work_done(void *ctx)
{
	struct auth_work *w = ctx;

	if (w->delay_ms > 0) {
		struct timeval tv = { (time_t)(w->delay_ms / 1000), (suseconds_t)(w->delay_ms % 1000) * 1000 };

		if (event_base_once(w->base, -1, EV_TIMEOUT, auth_reply_now, w, &tv) == 0)
			return;
	}
	auth_reply_now(-1, 0, w);
}

void auth_submit(struct loop *loop, const struct auth_request *req, struct auth_result *res,
		 void (*done)(void *ctx), void *ctx)
{
	struct auth_work *w = calloc(1, sizeof(*w));

	if (w == NULL)
		log_fatal("auth: out of memory");
	w->req = req;
	w->res = res;
	w->done = done;
	w->ctx = ctx;
	w->base = loop->base;
	worker_pool_submit(server->workers, loop->base, auth_work_run, auth_work_done, w);
}

void auth_check_now(const struct auth_request *req, struct auth_result *res, unsigned *delay_ms_r)
{
	struct auth_work w;

	memset(&w, 0, sizeof(w));
	w.req = req;
	w.res = res;
	auth_work_check_only(&w);
	*delay_ms_r = w.delay_ms;
}

/* The brute-force state of an administrator's panel login from ip. */
static void auth_admin_work(struct auth_work *w, struct auth_request *req, struct auth_result *res,
			    const char *ip, const char *name)
{
	memset(w, 0, sizeof(*w));
	memset(req, 0, sizeof(*req));
	memset(res, 0, sizeof(*res));
	str_copy(req->user, sizeof(req->user), name);
	str_copy(req->ip, sizeof(req->ip), ip);
	str_copy(req->service, sizeof(req->service), "web");
	w->req = req;
	w->res = res;
	server_config(&w->cfg);
	w->now = time(NULL);
	w->addr_ok = net_addr_parse(ip, &w->addr) == 0;
	if (w->addr_ok)
		net_addr_block_key(&w->addr, w->key, sizeof(w->key));
}

bool auth_admin_blocked(const char *ip, const char *name)
{
	struct auth_work w;
	struct auth_request req;
	struct auth_result res;
	struct directory *dir = server_directory();

	auth_admin_work(&w, &req, &res, ip, name);
	return dir != NULL && auth_is_blocked(&w, dir);
}

unsigned auth_admin_failed(const char *ip, const char *name)
{
	struct auth_work w;
	struct auth_request req;
	struct auth_result res;

	auth_admin_work(&w, &req, &res, ip, name);
	auth_fail(&w, "administrator: wrong name or password", name);
	return w.delay_ms;
}

void auth_request_wipe(struct auth_request *req)
{
	explicit_bzero(req->password, sizeof(req->password));
}
