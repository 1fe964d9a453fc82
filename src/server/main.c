/* yubind: the Yubin daemon. Parses its arguments, starts every subsystem
 * in order, waits for signals (SIGHUP reloads the settings and
 * certificates, SIGUSR1 wakes the queue, SIGTERM/SIGINT stop), then stops
 * the subsystems in reverse order. The shared state lives in server.c, the
 * event loops in loop.c. */
#include "server/auth.h"
#include "server/certs.h"
#include "server/tlsrpt.h"
#include "server/conn.h"
#include "server/sendguard.h"
#include "server/server.h"
#include "server/proxy.h"
#include "server/loop.h"
#include "server/expire.h"
#include "server/dkim_sync.h"
#include "server/dir_maint.h"
#include "server/queue.h"
#include "server/stats.h"
#include "store/index.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "store/journal.h"
#include "store/maildir_commit.h"
#include "lib/dns_cache.h"
#include "lib/log.h"
#include "lib/fanout.h"
#include "lib/groupcommit.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <errno.h>
#include <event2/thread.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies (files) one group commit takes at most, and the threads that
 * sync them concurrently (the disk does several times more fsyncs per
 * second from many threads than from one). */
#define COMMIT_BATCH_MAX 512
#define COMMIT_SYNC_THREADS 15

/* The delivery journal (store/journal.h): whatever a crash left in it is
 * written back into the mailboxes, then a new one is opened, unless
 * server.journal_ms is 0. After the privileges drop (the files written
 * back belong to the daemon's user) and before any session runs. */
static struct journal *journal_start(void)
{
	char dir[PATH_MAX], mail[PATH_MAX];
	struct journal_recovery rec;
	const char *error;
	struct journal *j;

	snprintf(dir, sizeof(dir), "%s/journal", server->data_dir);
	snprintf(mail, sizeof(mail), "%s/mail", server->data_dir);
	if (journal_recover(dir, mail, &rec, &error) < 0)
		log_fatal("journal %s: %s; its segments are kept for the next start", dir, error);
	if (rec.records > 0 || rec.torn > 0)
		log_warn(NULL, "journal: replayed %u record(s) left by a crash: %u intact, %u written again, "
			 "%u put back, %u skipped (folder or account gone); %u segment(s) ended in a batch never "
			 "acknowledged", rec.records, rec.intact, rec.rewritten, rec.restored, rec.skipped, rec.torn);
	if (server->cfg.server_journal_ms == 0)
		return NULL;
	j = journal_open(dir, server->cfg.server_journal_ms, &error);
	if (j == NULL)
		log_fatal("journal %s: %s", dir, error);
	maildir_stage_set_writeback(false);
	journal_set_global(j);
	return j;
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

/* The directory at start. An SQLite file is part of the installation: a
 * missing or unreadable DATA/yubin.db is a mistake to fix (yubinctl init,
 * a restore), never started on as an empty directory that would refuse
 * every recipient for good. PostgreSQL is a service that may be down for
 * a while: the daemon starts anyway and answers temporary errors until it
 * answers (dir_maint.c tries every second). The settings come from
 * yubin.conf either way; domain and account settings are read from the
 * directory per lookup, so nothing waits to be reloaded when it is back. */
static void directory_start(void)
{
	char where[4200];
	bool pg;

	server_directory_where(where, sizeof(where));
	pg = directory_where_is_pg(where);
	if (!pg && access(where, F_OK) < 0)
		log_fatal("directory: %s: %s; yubind does not start on an empty directory (make it with"
			  " yubinctl init, or restore it)", where, strerror(errno));
	if (server_directory() != NULL)
		return;
	if (!pg)
		log_fatal("directory: cannot open %s (the reason is above); yubind starts only with its"
			  " directory", where);
	log_warn(NULL, "directory: PostgreSQL does not answer at start; starting anyway: new logins,"
		 " recipients and panel requests get temporary errors until it does");
}

static void usage(void)
{
	fprintf(stderr, "usage: yubind [-d DATA]\n"
			"  DATA defaults to $YUBIN_DATA, else ./yubin-data\n");
	exit(2);
}

static const char *parse_args(int argc, char **argv)
{
	const char *data = getenv("YUBIN_DATA");
	int opt;

	while ((opt = getopt(argc, argv, "d:h")) != -1) {
		if (opt == 'd')
			data = optarg;
		else
			usage();
	}
	if (optind != argc)
		usage();
	return data != NULL ? data : "./yubin-data";
}

/* Blocked in every thread (inherited), taken by sigwait in main. */
static void block_signals(sigset_t *sigs)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGUSR1);	/* yubinctl queue: look at the queue now */
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

static void wait_for_stop(const sigset_t *sigs)
{
	int sig;

	for (;;) {
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			server_reload();
			queue_wake();	/* settings such as the relay host may have changed */
			certs_wake();	/* acme.* or the domains may have changed */
			tlsrpt_wake();	/* tlsrpt.enabled, or yubinctl tlsrpt send */
			continue;
		}
		if (sig == SIGUSR1) {
			queue_wake();
			continue;
		}
		return;
	}
}

int main(int argc, char **argv)
{
	const char *data = parse_args(argc, argv);
	sigset_t sigs;
	struct maildir_committer committer = { NULL, NULL };

	mail_index_pool_init(server_index_rebuilt);	/* before SQLite's first use */
	server_start(data);
	stats_start();	/* the metrics registry, before any thread counts */
	if (password_init() < 0)
		log_fatal("libsodium failed to initialise");
	server_tls_start();
	proxy_tls_start();	/* the client context for the hops to the nodes */
	directory_start();
	auth_start();	/* GeoIP database (says loudly when it is missing), brute-force table */
	block_signals(&sigs);
	evthread_use_pthreads();
	server->workers = worker_pool_new(server->cfg.server_workers);
	committer.syncs = fanout_new(COMMIT_SYNC_THREADS);
	server->committer = group_commit_new(maildir_commit_batch, &committer, COMMIT_BATCH_MAX);
	server->dns_cache = dns_cache_new(DNS_CACHE_ENTRIES, DNS_CACHE_BYTES, NULL, NULL);
	if (server->dns_cache == NULL)
		log_fatal("cannot make the DNS cache");
	/* before the ports are bound (the kernel answers a connection at
	 * once): whoever reaches one finds the pid file */
	server_write_pidfile();
	loops_start();
	drop_privileges(&server->cfg);
	committer.journal = journal_start();	/* before the loops run: no delivery yet */
	expire_start(server->loops[0].base);
	dkim_sync_start(server->loops[0].base);	/* after the privileges drop: files the daemon's own */
	sendguard_start(server->loops[0].base);
	dir_maint_start(server->loops[0].base);
	queue_start();	/* with the outbound TLS context and the DKIM signer */
	loops_run();
	certs_start();	/* ACME renewals: the challenges need the loops */
	tlsrpt_start();	/* the daily TLS reports go through the queue */
	log_info(NULL, "yubind ready: host %s, %u loops, %u workers, data %s", server->cfg.hostname,
		 server->nloops, server->cfg.server_workers, server->data_dir);

	wait_for_stop(&sigs);

	log_info(NULL, "shutdown: finishing open transactions (up to %u s)", server->cfg.shutdown_grace);
	atomic_store(&server->stopping, true);
	certs_stop();
	tlsrpt_stop();
	loops_stop();	/* the loop threads; sessions past the grace are cut */
	group_commit_free(server->committer);	/* its last batch hands jobs to the workers */
	journal_close(committer.journal);	/* after the committer: its last checkpoint */
	fanout_free(committer.syncs);
	queue_stop(server->cfg.shutdown_grace);
	worker_pool_free(server->workers);
	sendguard_stop();	/* the counts still in memory, written synchronously */
	expire_stop();
	dkim_sync_stop();
	dir_maint_stop();
	loops_free();
	conn_ip_table_stop();
	dns_cache_free(server->dns_cache);
	auth_stop();
	mail_index_pool_cleanup();
	proxy_tls_stop();
	server_tls_stop();
	server_stop();
	log_info(NULL, "shutdown: done");
	return 0;
}
