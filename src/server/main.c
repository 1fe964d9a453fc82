/* yubind: the Yubin daemon. Loads DATA/yubin.conf, opens one event loop per
 * core with its own listeners, and serves until SIGTERM. SIGHUP reloads the
 * settings and certificates. */
#include "server/auth.h"
#include "server/server.h"
#include "server/conn.h"
#include "server/sessions.h"
#include "server/expire.h"
#include "server/queue.h"
#include "store/index.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "http/http.h"
#include "store/maildir.h"
#include "store/maildir_commit.h"
#include "lib/dns_async.h"
#include "lib/dns_cache.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"
#include "lib/fanout.h"
#include "lib/groupcommit.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct server *server;

/* Copies (files) one group commit takes at most, and the threads that
 * sync them concurrently (the disk does several times more fsyncs per
 * second from many threads than from one). */
#define COMMIT_BATCH_MAX 512
#define COMMIT_SYNC_THREADS 15

static __thread struct directory *thread_dir;
static pthread_key_t thread_dir_key;
static pthread_once_t thread_dir_once = PTHREAD_ONCE_INIT;

static void thread_dir_close(void *dir)
{
	directory_close(dir);
}

static void thread_dir_key_init(void)
{
	pthread_key_create(&thread_dir_key, thread_dir_close);
}

struct directory *server_directory(void)
{
	char path[4200], err[256];

	if (thread_dir == NULL) {
		pthread_once(&thread_dir_once, thread_dir_key_init);
		snprintf(path, sizeof(path), "%s/yubin.db", server->data_dir);
		thread_dir = directory_open(path, err, sizeof(err));
		if (thread_dir == NULL)
			log_error(NULL, "directory: %s", err);
		else
			pthread_setspecific(thread_dir_key, thread_dir);	/* closed at thread exit */
	}
	return thread_dir;
}

struct event_job {
	char kind[32], address[320], ip[64], detail[512];
};

static void event_job_run(void *ctx)
{
	struct event_job *job = ctx;
	struct directory *dir = server_directory();

	if (dir == NULL || directory_event_add(dir, job->kind, job->address, job->ip, job->detail) < 0)
		log_warn(NULL, "events: cannot record %s for %s", job->kind, job->address);
	free(job);
}

void server_event(const char *kind, const char *address, const char *ip, const char *detail)
{
	struct event_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return;
	/* snprintf truncates what does not fit. */
	snprintf(job->kind, sizeof(job->kind), "%s", kind);
	snprintf(job->address, sizeof(job->address), "%s", address != NULL ? address : "");
	snprintf(job->ip, sizeof(job->ip), "%s", ip != NULL ? ip : "");
	snprintf(job->detail, sizeof(job->detail), "%s", detail != NULL ? detail : "");
	worker_pool_submit(server->workers, NULL, event_job_run, NULL, job);
}

/* A damaged mail index was rebuilt by the store (on a worker): the event
 * goes to DATA/mail/DOMAIN/LOCAL's address. */
static void index_rebuilt(const char *root, const struct index_rebuild_report *rep)
{
	const char *local = strrchr(root, '/'), *domain;
	char address[320], detail[512];

	if (local == NULL || local == root)
		return;
	for (domain = local - 1; domain > root && *domain != '/'; domain--)
		;
	snprintf(address, sizeof(address), "%s@%.*s", local + 1, (int)(local - domain - 1), domain + 1);
	snprintf(detail, sizeof(detail), "damaged index set aside; %s", rep->detail);
	server_event("index-rebuilt", address, "", detail);
}

void server_config(struct config *cfg_r)
{
	pthread_rwlock_rdlock(&server->lock);
	*cfg_r = server->cfg;
	pthread_rwlock_unlock(&server->lock);
}

SSL *server_ssl_new(void)
{
	SSL *ssl;

	pthread_rwlock_rdlock(&server->lock);
	ssl = SSL_new(tls_server_ctx(server->tls));
	pthread_rwlock_unlock(&server->lock);
	return ssl;
}

int server_maildir(char *buf, size_t size, const char *domain, const char *local)
{
	return maildir_path(buf, size, server->data_dir, domain, local);
}

struct listener_ctx {
	struct loop *loop;
	enum service service;
};

static void listener_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int socklen, void *arg)
{
	struct listener_ctx *ctx = arg;

	if (atomic_load(&server->stopping)) {
		evutil_closesocket(fd);
		return;
	}
	switch (ctx->service) {
	case SERVICE_SMTP:
	case SERVICE_SUBMISSION:
	case SERVICE_SMTPS:
		smtp_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	case SERVICE_POP3:
	case SERVICE_POP3S:
		pop3_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	case SERVICE_IMAP:
	case SERVICE_IMAPS:
		imap_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	default:
		evutil_closesocket(fd);
	}
}

static unsigned service_port(const struct config *cfg, enum service s)
{
	switch (s) {
	case SERVICE_SMTP: return cfg->port_smtp;
	case SERVICE_SUBMISSION: return cfg->port_submission;
	case SERVICE_SMTPS: return cfg->port_smtps;
	case SERVICE_POP3: return cfg->port_pop3;
	case SERVICE_POP3S: return cfg->port_pop3s;
	case SERVICE_IMAP: return cfg->port_imap;
	case SERVICE_IMAPS: return cfg->port_imaps;
	default: return 0;
	}
}

static const char *const service_names[SERVICE_COUNT] = {
	"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps",
};

/* Binds every (address, service) pair for one loop. */
static void loop_listen(struct loop *loop, const struct config *cfg)
{
	char addrs[256];
	char *save = NULL;

	str_copy(addrs, sizeof(addrs), cfg->listen_address);
	for (char *a = strtok_r(addrs, ", ", &save); a != NULL; a = strtok_r(NULL, ", ", &save)) {
		for (int s = 0; s < SERVICE_COUNT; s++) {
			struct sockaddr_storage ss;
			int sslen = sizeof(ss);
			char spec[300];
			unsigned port = service_port(cfg, (enum service)s);
			struct listener_ctx *ctx;
			struct evconnlistener *l;

			if (port == 0)
				continue;
			if (strchr(a, ':') != NULL)
				snprintf(spec, sizeof(spec), "[%s]:%u", a, port);
			else
				snprintf(spec, sizeof(spec), "%s:%u", a, port);
			if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) < 0)
				log_fatal("listen: bad address %s", spec);
			ctx = calloc(1, sizeof(*ctx));
			ctx->loop = loop;
			ctx->service = (enum service)s;
			l = evconnlistener_new_bind(loop->base, listener_accept, ctx,
						    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						    LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
						    1024, (struct sockaddr *)&ss, sslen);
			if (l == NULL)
				log_fatal("listen: cannot bind %s (%s): %s", spec, service_names[s],
					  strerror(errno));
			if (loop->nlisteners < sizeof(loop->listeners) / sizeof(loop->listeners[0]))
				loop->listeners[loop->nlisteners++] = l;
			if (loop->index == 0)
				log_info(NULL, "listen: %s on %s", service_names[s], spec);
		}
	}
}

/* The web server of a loop (http/): its ports, limits and static files
 * (DATA/web). */
static void loop_http_start(struct loop *loop)
{
	const struct config *cfg = &server->cfg;
	char web[4200], err[512];
	struct http_params p = {
		.listen_address = cfg->listen_address, .port_http = cfg->port_http,
		.port_https = cfg->port_https, .max_header_size = cfg->http_max_header_size,
		.max_body_size = cfg->http_max_body_size, .timeout = cfg->http_timeout,
		.request_timeout = cfg->http_request_timeout,
		.max_connections = cfg->http_max_connections,
		.max_connections_per_ip = cfg->http_max_connections_per_ip,
		.static_dir = web, .ssl_new = server_ssl_new, .log_listen = loop->index == 0,
	};

	snprintf(web, sizeof(web), "%s/web", server->data_dir);
	loop->http = http_loop_start(loop->base, &p, err, sizeof(err));
	if (loop->http == NULL)
		log_fatal("listen: %s", err);
}

static void *loop_main(void *arg)
{
	struct loop *loop = arg;

	event_base_dispatch(loop->base);
	return NULL;
}

/* Runs on each loop when SIGTERM arrives: stop accepting, let idle sessions
 * go, and leave the loop once its connections are gone. */
static void loop_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;

	for (unsigned i = 0; i < loop->nlisteners; i++)
		evconnlistener_disable(loop->listeners[i]);
	http_loop_stop_accepting(loop->http);
	conn_shutdown_all(loop);
	if (loop->sig_event != NULL)
		event_del(loop->sig_event);
	if (loop->idle_tick != NULL)
		event_del(loop->idle_tick);
}

static void loop_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;

	if (conn_count(loop) == 0)
		event_base_loopexit(loop->base, NULL);
}

static void load_config_or_die(struct config *cfg)
{
	char path[4200], err[512];

	snprintf(path, sizeof(path), "%s/yubin.conf", server->data_dir);
	if (settings_conf_load(cfg, path, err, sizeof(err)) < 0)
		log_fatal("config: %s", err);
}

static struct tls_server *load_tls(const struct config *cfg)
{
	char dir[4200], err[512];
	struct tls_server *tls;

	snprintf(dir, sizeof(dir), "%s/tls", server->data_dir);
	tls = tls_server_new(dir, cfg->hostname, err, sizeof(err));
	if (tls == NULL)
		log_error(NULL, "tls: %s", err);
	return tls;
}

static void apply_log_level(const struct config *cfg)
{
	enum log_level level;

	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(level);
}

/* SIGHUP: settings and certificates again. Listener addresses and ports
 * need a restart. Old TLS contexts stay allocated until shutdown:
 * handshakes in progress may still use them (a reload is rare, a context
 * a few kilobytes). */
static void server_reload(void)
{
	struct config cfg;
	char path[4200], err[512];
	struct tls_server *tls;

	snprintf(path, sizeof(path), "%s/yubin.conf", server->data_dir);
	if (settings_conf_load(&cfg, path, err, sizeof(err)) < 0) {
		log_error(NULL, "reload: %s (keeping the old settings)", err);
		return;
	}
	tls = load_tls(&cfg);
	if (tls != NULL) {
		struct tls_server **grown = realloc(server->tls_retired,
						    (server->ntls_retired + 1) * sizeof(*grown));
		if (grown == NULL) {
			tls_server_free(tls);
			tls = NULL;
		} else {
			server->tls_retired = grown;
		}
	}
	pthread_rwlock_wrlock(&server->lock);
	server->cfg = cfg;
	if (tls != NULL) {
		server->tls_retired[server->ntls_retired++] = server->tls;
		server->tls = tls;
	}
	pthread_rwlock_unlock(&server->lock);
	apply_log_level(&cfg);
	log_info(NULL, "reload: settings%s reloaded", tls != NULL ? " and certificates" : "");
}

/* One daemon per data directory: an exclusive lock on DATA/yubind.lock,
 * taken before anything is bound and held (the descriptor stays open)
 * until the process ends, so the kernel releases it even after a crash.
 * SO_REUSEPORT would let a second daemon bind the same ports. */
static void lock_data_dir(void)
{
	char path[4200], pid[32] = "", *text;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/yubind.lock", server->data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		log_fatal("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return;	/* fd is kept open on purpose */
	if (errno != EWOULDBLOCK)
		log_fatal("cannot lock %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	text = fs_read_file(path, 31, &len);
	if (text != NULL)
		str_copyn(pid, sizeof(pid), text, strcspn(text, "\n"));
	free(text);
	log_fatal("yubind: another yubind%s%s%s is already running on %s; stop it first",
		  pid[0] != '\0' ? " (pid " : "", pid, pid[0] != '\0' ? ")" : "", server->data_dir);
}

static void write_pidfile(void)
{
	char path[4200], buf[32];
	int n;

	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (fs_write_file_atomic(path, buf, (size_t)n, 0644) < 0)
		log_warn(NULL, "pidfile: cannot write %s", path);
}

/* Started as root: keep root only for binding and reading keys, then
 * become server.user. */
static void drop_privileges(const struct config *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0 || cfg->server_user[0] == '\0')
		return;
	pw = getpwnam(cfg->server_user);
	if (pw == NULL)
		log_fatal("%s %s does not exist", settings_key(SETTING_CONF_SERVER_USER), cfg->server_user);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		log_fatal("cannot switch to user %s: %s", cfg->server_user, strerror(errno));
	if (setuid(0) == 0)
		log_fatal("privileges were not dropped");
	log_info(NULL, "running as %s", cfg->server_user);
}

static void usage(void)
{
	fprintf(stderr, "usage: yubind [-d DATA]\n"
			"  DATA defaults to $YUBIN_DATA, else ./yubin-data\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *data = getenv("YUBIN_DATA");
	sigset_t sigs;
	struct fanout *commit_syncs;
	unsigned nloops;
	int opt, sig;
	char path[4200];

	while ((opt = getopt(argc, argv, "d:h")) != -1) {
		if (opt == 'd')
			data = optarg;
		else
			usage();
	}
	if (optind != argc)
		usage();
	if (data == NULL)
		data = "./yubin-data";

	mail_index_pool_init(index_rebuilt);	/* before SQLite's first use */
	server = calloc(1, sizeof(*server));
	if (realpath(data, server->data_dir) == NULL)
		log_fatal("yubind: data directory %s: %s (create it with yubinctl init)", data, strerror(errno));
	lock_data_dir();
	pthread_rwlock_init(&server->lock, NULL);
	load_config_or_die(&server->cfg);
	apply_log_level(&server->cfg);
	if (password_init() < 0)
		log_fatal("libsodium failed to initialise");
	server->tls = load_tls(&server->cfg);
	if (server->tls == NULL)
		log_fatal("tls: no usable certificate in %s/tls", server->data_dir);
	if (server_directory() == NULL)
		log_fatal("directory: cannot open %s/yubin.db", server->data_dir);
	auth_init();	/* GeoIP database (says loudly when it is missing), brute-force table */
	snprintf(path, sizeof(path), "%s/tmp", server->data_dir);
	if (fs_mkdir_p(path, 0700) < 0)
		log_fatal("cannot create %s: %s", path, strerror(errno));

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);	/* yubinctl queue: look at the queue now */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* inherited by every thread */

	evthread_use_pthreads();
	server->workers = worker_pool_new(server->cfg.server_workers);
	commit_syncs = fanout_new(COMMIT_SYNC_THREADS);
	server->committer = group_commit_new(maildir_commit_batch, commit_syncs, COMMIT_BATCH_MAX);
	server->dns_cache = dns_cache_new(DNS_CACHE_ENTRIES, DNS_CACHE_BYTES, NULL, NULL);
	if (server->dns_cache == NULL)
		log_fatal("cannot make the DNS cache");
	nloops = server->cfg.server_loops;
	if (nloops == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nloops = n > 0 ? (unsigned)n : 1;
	}
	server->nloops = nloops;
	server->loops = calloc(nloops, sizeof(struct loop));
	for (unsigned i = 0; i < nloops; i++) {
		struct loop *loop = &server->loops[i];
		loop->index = i;
		loop->base = event_base_new();
		if (loop->base == NULL)
			log_fatal("event_base_new failed");
		loop->dns = dns_async_new(loop->base, server->dns_cache);
		if (loop->dns == NULL)
			log_fatal("cannot make the DNS resolver of a loop");
		loop_listen(loop, &server->cfg);
		loop_http_start(loop);
	}
	drop_privileges(&server->cfg);
	expire_start(server->loops[0].base);
	queue_start();
	for (unsigned i = 0; i < nloops; i++) {
		if (pthread_create(&server->loops[i].thread, NULL, loop_main, &server->loops[i]) != 0)
			log_fatal("cannot start loop thread");
	}
	write_pidfile();
	log_info(NULL, "yubind ready: host %s, %u loops, %u workers, data %s", server->cfg.hostname,
		 nloops, server->cfg.server_workers, server->data_dir);

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			server_reload();
			queue_wake();	/* settings such as the relay host may have changed */
			continue;
		}
		if (sig == SIGUSR1) {
			queue_wake();
			continue;
		}
		break;
	}

	log_info(NULL, "shutdown: finishing open transactions (up to %u s)", server->cfg.shutdown_grace);
	atomic_store(&server->stopping, true);
	for (unsigned i = 0; i < nloops; i++) {
		static const struct timeval now = { 0, 0 }, tick = { 0, 100000 };
		struct loop *loop = &server->loops[i];
		struct timeval grace = { (time_t)server->cfg.shutdown_grace, 0 };
		struct event *check = event_new(loop->base, -1, EV_PERSIST, loop_check_cb, loop);

		event_base_once(loop->base, -1, EV_TIMEOUT, loop_stop_cb, loop, &now);
		event_add(check, &tick);
		event_base_loopexit(loop->base, &grace);
	}
	for (unsigned i = 0; i < nloops; i++) {
		pthread_join(server->loops[i].thread, NULL);
		dns_async_free(server->loops[i].dns);
		http_loop_free(server->loops[i].http);
	}
	group_commit_free(server->committer);	/* its last batch hands jobs to the workers */
	fanout_free(commit_syncs);
	queue_stop(server->cfg.shutdown_grace);
	worker_pool_free(server->workers);
	dns_cache_free(server->dns_cache);
	mail_index_pool_cleanup();
	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	unlink(path);
	directory_close(thread_dir);
	for (size_t i = 0; i < server->ntls_retired; i++)
		tls_server_free(server->tls_retired[i]);
	free(server->tls_retired);
	log_info(NULL, "shutdown: done");
	return 0;
}
