/* The daemon's shared state (struct server): the data directory, the
 * current settings and TLS context (swapped by a reload), the per-thread
 * directory handle and the event log. Sessions and services call in here;
 * nothing here calls out to a session. */
#include "server/server.h"
#include "server/certs.h"
#include "store/index.h"
#include "store/maildir.h"
#include "directory/directory.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct server *server;

static __thread struct directory *thread_dir;
static pthread_key_t thread_dir_key;

static void thread_dir_close(void *dir)
{
	directory_close(dir);
}

void server_directory_where(char *buf, size_t size)
{
	struct config cfg;

	server_config(&cfg);
	if (cfg.directory_url[0] != '\0')
		snprintf(buf, size, "%s", cfg.directory_url);
	else
		snprintf(buf, size, "%s/yubin.db", server->data_dir);
}

/* The directory's availability (PostgreSQL down at start or later):
 * while no handle could be opened, at most one attempt a second across
 * every thread, so a lookup meanwhile costs a NULL (a temporary error),
 * not a connect timeout; the change logged once each way. */
static _Atomic int64_t dir_retry_ms;
static atomic_bool dir_down;
static _Atomic int64_t dir_down_since;

static int64_t server_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool server_directory_is_down(void)
{
	return atomic_load(&dir_down);
}

static void server_directory_back(struct directory *dir)
{
	int64_t since = atomic_load(&dir_down_since), now = time(NULL);
	char detail[160];

	log_info(NULL, "directory: available again after %lld s; logins and recipients work normally",
		 (long long)(now - since));
	snprintf(detail, sizeof(detail), "the directory did not answer for %lld s", (long long)(now - since));
	directory_event_add(dir, "directory-unavailable", "", "", detail);
}

static struct directory *server_directory_open(void)
{
	char path[4200], err[256];
	int64_t next = atomic_load(&dir_retry_ms), now = server_mono_ms();
	struct directory *dir;

	/* While it is down, one thread tries at a time, once a second. */
	if (atomic_load(&dir_down) &&
	    (next > now || !atomic_compare_exchange_strong(&dir_retry_ms, &next, now + 10000)))
		return NULL;
	server_directory_where(path, sizeof(path));
	dir = directory_open(path, err, sizeof(err));
	if (dir == NULL) {
		atomic_store(&dir_retry_ms, server_mono_ms() + 1000);
		if (!atomic_exchange(&dir_down, true)) {
			atomic_store(&dir_down_since, (int64_t)time(NULL));
			log_error(NULL, "directory: %s; logins and recipients get temporary errors until it"
				  " answers (tried again every second)", err);
		}
		return NULL;
	}
	atomic_store(&dir_retry_ms, 0);
	if (atomic_exchange(&dir_down, false))
		server_directory_back(dir);
	return dir;
}

struct directory *server_directory(void)
{
	if (thread_dir == NULL) {
		thread_dir = server_directory_open();
		if (thread_dir != NULL)
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

void server_index_rebuilt(const char *root, const struct index_rebuild_report *rep)
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

	ssl = tls_server_ssl_new(server->tls);
	if (ssl != NULL)
		tls_ssl_set_peer(ssl, "https", NULL);
	return ssl;
}

SSL *server_ssl_new_for(const char *service, const char *ip)
{
	SSL *ssl = tls_server_ssl_new(server->tls);

	if (ssl != NULL)
		tls_ssl_set_peer(ssl, service, ip);
	return ssl;
}

int server_tls_reload(void)
{
	char err[512];
	struct config cfg;

	server_config(&cfg);
	if (tls_server_reload(server->tls, cfg.hostname, err, sizeof(err)) < 0) {
		log_error(NULL, "tls: %s (keeping the old certificates)", err);
		return -1;
	}
	return 0;
}

int server_maildir(char *buf, size_t size, const char *domain, const char *local)
{
	return maildir_path(buf, size, server->data_dir, domain, local);
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

/* SIGHUP (main thread) and the JSON API (a worker) may reload at once. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

static void server_reload_locked(void);

void server_reload(void)
{
	pthread_mutex_lock(&reload_lock);
	server_reload_locked();
	pthread_mutex_unlock(&reload_lock);
}

static void server_reload_locked(void)
{
	struct config cfg;
	char path[4200], err[512];
	bool tls_ok;

	snprintf(path, sizeof(path), "%s/yubin.conf", server->data_dir);
	if (settings_conf_load(&cfg, path, err, sizeof(err)) < 0) {
		log_error(NULL, "reload: %s (keeping the old settings)", err);
		return;
	}
	pthread_rwlock_wrlock(&server->lock);
	server->cfg = cfg;
	pthread_rwlock_unlock(&server->lock);
	tls_ok = server_tls_reload() == 0;
	apply_log_level(&cfg);
	log_info(NULL, "reload: settings%s reloaded", tls_ok ? " and certificates" : "");
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

void server_start(const char *data)
{
	char path[4200], err[512];

	server = calloc(1, sizeof(*server));
	if (server == NULL)
		log_fatal("out of memory");
	if (realpath(data, server->data_dir) == NULL)
		log_fatal("yubind: data directory %s: %s (create it with yubinctl init)", data, strerror(errno));
	lock_data_dir();
	pthread_rwlock_init(&server->lock, NULL);
	pthread_key_create(&thread_dir_key, thread_dir_close);
	snprintf(path, sizeof(path), "%s/yubin.conf", server->data_dir);
	if (settings_conf_load(&server->cfg, path, err, sizeof(err)) < 0)
		log_fatal("config: %s", err);
	apply_log_level(&server->cfg);
	/* directory.url takes a restart: the cache listens where it pointed. */
	if (directory_cache_start(server->cfg.directory_url) < 0)
		log_fatal("directory: cannot start the lookup cache");
	snprintf(path, sizeof(path), "%s/tmp", server->data_dir);
	if (fs_mkdir_p(path, 0700) < 0)
		log_fatal("cannot create %s: %s", path, strerror(errno));
}

void server_tls_start(void)
{
	char dir[4200];

	server->tls = load_tls(&server->cfg);
	if (server->tls == NULL)
		log_fatal("tls: no usable certificate in %s/tls", server->data_dir);
	snprintf(dir, sizeof(dir), "%s/acme/tls-alpn", server->data_dir);
	tls_server_set_alpn_dir(server->tls, dir);
	tls_server_set_sni_miss(server->tls, certs_sni_miss, NULL);
}

void server_tls_stop(void)
{
	tls_server_free(server->tls);
	server->tls = NULL;
}

/* A start that fails after the pid file was written (a port taken) takes
 * it away again, so nobody signals a pid that is gone. */
static void server_pidfile_atexit(void)
{
	char path[4200], *text;

	if (server == NULL)
		return;
	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	text = fs_read_file(path, 31, NULL);
	if (text != NULL && (pid_t)strtol(text, NULL, 10) == getpid())
		unlink(path);
	free(text);
}

void server_write_pidfile(void)
{
	char path[4200], buf[32];
	int n;

	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (fs_write_file_atomic(path, buf, (size_t)n, 0644) < 0)
		log_warn(NULL, "pidfile: cannot write %s", path);
	atexit(server_pidfile_atexit);
}

void server_stop(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/yubind.pid", server->data_dir);
	unlink(path);
	directory_cache_stop();
	directory_close(thread_dir);	/* the main thread's */
	thread_dir = NULL;
	pthread_setspecific(thread_dir_key, NULL);
	pthread_key_delete(thread_dir_key);
	free(server->loops);
	pthread_rwlock_destroy(&server->lock);
	free(server);
	server = NULL;
}
