/* The renewal thread and the SNI-miss events (see certs.h). The thread
 * never touches a loop: it runs ops_cert_renew (blocking HTTPS and DNS)
 * and, when something was installed, swaps the TLS table
 * (server_tls_reload), which new handshakes on every port pick up. */
#include "server/certs.h"
#include "server/server.h"
#include "ops/ops_cert.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CERTS_SNI_SLOTS 1024
#define CERTS_SNI_EVENTS_PER_HOUR 200
#define CERTS_CHECK_INTERVAL 3600
#define CERTS_FIRST_CHECK 5

static struct {
	pthread_mutex_t lock;
	struct {
		uint64_t hash;
		time_t at;
	} seen[CERTS_SNI_SLOTS];
	time_t window;		/* start of the current hour of the global cap */
	unsigned in_window;
} sni = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)(*name | 0x20)) * 1099511628211ULL;
	return h | 1;
}

/* Whether an event for name is due now (and counts it). */
static bool sni_due(const char *name)
{
	uint64_t h = name_hash(name);
	size_t slot = h % CERTS_SNI_SLOTS;
	time_t now = time(NULL);
	bool due = false;

	pthread_mutex_lock(&sni.lock);
	if (now - sni.window >= 3600) {
		sni.window = now;
		sni.in_window = 0;
	}
	if (!(sni.seen[slot].hash == h && now - sni.seen[slot].at < 3600) &&
	    sni.in_window < CERTS_SNI_EVENTS_PER_HOUR) {
		sni.seen[slot].hash = h;
		sni.seen[slot].at = now;
		sni.in_window++;
		due = true;
	}
	pthread_mutex_unlock(&sni.lock);
	return due;
}

void certs_sni_miss(void *arg, SSL *ssl, const char *name)
{
	const char *service, *ip;
	char addr[64] = "", detail[320];
	size_t len = strlen(name);

	if (len == 0 || len > 253 || !sni_due(name))
		return;
	tls_ssl_peer(ssl, &service, &ip);
	if (ip[0] == '\0') {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = SSL_get_fd(ssl);

		if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
			inet_ntop(ss.ss_family, ss.ss_family == AF_INET
				  ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
				  : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
		if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != NULL)
			memmove(addr, addr + 7, strlen(addr + 7) + 1);
		ip = addr;
	}
	snprintf(detail, sizeof(detail), "%s %s", name, service[0] != '\0' ? service : "tls");
	server_event("tls-sni-unknown", "", ip, detail);
}

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started, stop, woken;
	struct {
		char name[256];
		bool force;
	} queue[CERTS_QUEUE_MAX];
	size_t nqueue;
} renew = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static bool certs_reload(const struct ops *o)
{
	return server_tls_reload() == 0;
}

static void renew_logged(const struct ops_renew_result *r, void *ctx)
{
	if (r->outcome == OPS_RENEW_ISSUED || r->outcome == OPS_RENEW_FAILED ||
	    r->outcome == OPS_RENEW_DNS_ELSEWHERE)
		log_info(NULL, "certs: %s %s: %s", r->name, ops_renew_outcome_name(r->outcome), r->detail);
}

/* The names the API asked for (first), then every name that is due. */
static void renew_run(void)
{
	struct config cfg;
	struct ops o = { 0 };
	struct ops_actor actor;
	struct ops_error err;
	char name[256];
	bool force;

	server_config(&cfg);
	o.dir = server_directory();
	o.data = server->data_dir;
	o.conf_reload = certs_reload;
	if (o.dir == NULL)
		return;
	ops_actor_init(&actor, OPS_ACTOR_CLI, "yubind", "");
	for (;;) {
		pthread_mutex_lock(&renew.lock);
		if (renew.nqueue == 0 || renew.stop) {
			pthread_mutex_unlock(&renew.lock);
			break;
		}
		str_copy(name, sizeof(name), renew.queue[0].name);
		force = renew.queue[0].force;
		memmove(&renew.queue[0], &renew.queue[1], --renew.nqueue * sizeof(renew.queue[0]));
		pthread_mutex_unlock(&renew.lock);
		if (ops_cert_renew(&o, &actor, &cfg, name, force, &server->stopping, renew_logged, NULL, &err) < 0)
			log_warn(NULL, "certs: %s: %s", name, err.en);
	}
	if (strcmp(cfg.acme, "on") != 0)
		return;
	if (ops_cert_renew(&o, &actor, &cfg, NULL, false, &server->stopping, renew_logged, NULL, &err) < 0)
		log_warn(NULL, "certs: %s", err.en);
}

bool certs_renew_request(const char *name, bool force)
{
	bool ok = false;

	pthread_mutex_lock(&renew.lock);
	for (size_t i = 0; i < renew.nqueue; i++) {
		if (str_eq_ci(renew.queue[i].name, name)) {
			renew.queue[i].force |= force;
			ok = true;
		}
	}
	if (!ok && renew.nqueue < CERTS_QUEUE_MAX && strlen(name) < sizeof(renew.queue[0].name)) {
		str_copy(renew.queue[renew.nqueue].name, sizeof(renew.queue[0].name), name);
		renew.queue[renew.nqueue++].force = force;
		ok = true;
	}
	if (ok) {
		renew.woken = true;
		pthread_cond_signal(&renew.cond);
	}
	pthread_mutex_unlock(&renew.lock);
	return ok;
}

static void *renew_thread(void *arg)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CERTS_FIRST_CHECK;
	pthread_mutex_lock(&renew.lock);
	while (!renew.stop) {
		int r = 0;

		while (!renew.stop && !renew.woken && r == 0)
			r = pthread_cond_timedwait(&renew.cond, &renew.lock, &until);
		if (renew.stop)
			break;
		renew.woken = false;
		pthread_mutex_unlock(&renew.lock);
		renew_run();
		pthread_mutex_lock(&renew.lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += CERTS_CHECK_INTERVAL;
	}
	pthread_mutex_unlock(&renew.lock);
	return NULL;
}

void certs_start(void)
{
	if (pthread_create(&renew.thread, NULL, renew_thread, NULL) != 0) {
		log_error(NULL, "certs: cannot start the renewal thread");
		return;
	}
	renew.started = true;
}

void certs_wake(void)
{
	pthread_mutex_lock(&renew.lock);
	renew.woken = true;
	pthread_cond_signal(&renew.cond);
	pthread_mutex_unlock(&renew.lock);
}

void certs_stop(void)
{
	if (!renew.started)
		return;
	pthread_mutex_lock(&renew.lock);
	renew.stop = true;
	pthread_cond_signal(&renew.cond);
	pthread_mutex_unlock(&renew.lock);
	pthread_join(renew.thread, NULL);
	renew.started = false;
}
