/* The directory's upkeep (dir_maint.h). */
#include "server/dir_maint.h"
#include "server/node_purge.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/workers.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* One batch deletes at most DIR_MAINT_BATCH rows in a statement of its
 * own; a pass at most DIR_MAINT_BATCHES batches per table (200,000 rows
 * every 5 minutes: a backlog of millions clears within hours, and no
 * statement holds the database for long). */
#define DIR_MAINT_BATCH 1000
#define DIR_MAINT_BATCHES 200
/* The first pass, this many seconds after start. */
#define DIR_MAINT_FIRST_SECS 5

static struct event *dir_maint_timer;
static atomic_bool dir_maint_busy;
static unsigned dir_maint_ticks;	/* loop 0 only */
static bool dir_maint_purges;		/* a mail node: node_purge.h */

/* The cut-off of table t at now (0: keep every row). */
static int64_t dir_maint_cutoff(enum dir_prune_table t, const struct config *cfg, int64_t now)
{
	switch (t) {
	case DIR_PRUNE_EVENTS:
		return cfg->events_retention_days > 0 ? now - (int64_t)cfg->events_retention_days * 86400 : 0;
	case DIR_PRUNE_AUDIT:
		return cfg->audit_retention_days > 0 ? now - (int64_t)cfg->audit_retention_days * 86400 : 0;
	case DIR_PRUNE_AUTH_COUNTERS:
		return now - 2 * 86400;		/* the brute-force windows are minutes to hours */
	case DIR_PRUNE_AUTH_KNOWN:
		return now - 90 * 86400;	/* a network unused for 90 days is new again */
	case DIR_PRUNE_AUTH_BLOCKS:
		return now - 30 * 86400;	/* ended a month ago */
	case DIR_PRUNE_SESSIONS:
		return now - (int64_t)cfg->http_session_idle;
	case DIR_PRUNE_ABUSE_COUNTS:
		return now - 2 * 86400;		/* the signals' windows are at most a day */
	default:
		return 0;
	}
}

static void dir_maint_prune(struct directory *dir)
{
	int64_t now = time(NULL);
	struct config cfg;

	server_config(&cfg);
	for (int t = 0; t < DIR_PRUNE_COUNT && !atomic_load(&server->stopping); t++) {
		int64_t before = dir_maint_cutoff(t, &cfg, now), n;

		if (before <= 0)
			continue;
		n = directory_prune(dir, t, before, DIR_MAINT_BATCH, DIR_MAINT_BATCHES);
		if (n < 0)
			log_warn(NULL, "directory: cannot prune %s; trying again later", directory_prune_name(t));
		else if (n > 0)
			log_info(NULL, "directory: pruned %lld old rows of %s", (long long)n,
				 directory_prune_name(t));
	}
}

/* What a pass does besides opening the directory again (ctx's bits). */
#define DIR_MAINT_DO_PRUNE 1u
#define DIR_MAINT_DO_PURGE 2u

static void dir_maint_job(void *ctx)
{
	/* Opens this worker's handle again when it was down. */
	struct directory *dir = server_directory();
	unsigned what = (unsigned)(uintptr_t)ctx;
	struct config cfg;

	if ((what & DIR_MAINT_DO_PRUNE) && dir != NULL)
		dir_maint_prune(dir);
	if ((what & DIR_MAINT_DO_PURGE) && dir != NULL && !atomic_load(&server->stopping)) {
		server_config(&cfg);
		node_purge_run(dir, &cfg, server->data_dir);
	}
	atomic_store(&dir_maint_busy, false);
}

static void dir_maint_tick(evutil_socket_t fd, short what, void *arg)
{
	unsigned todo = 0;

	(void)fd;
	(void)what;
	(void)arg;
	dir_maint_ticks++;
	if (dir_maint_ticks % DIR_MAINT_PRUNE_SECS == DIR_MAINT_FIRST_SECS)
		todo |= DIR_MAINT_DO_PRUNE;
	if (dir_maint_ticks % NODE_PURGE_SECS == 0 && dir_maint_purges)
		todo |= DIR_MAINT_DO_PURGE;
	if (todo == 0 && !server_directory_is_down())
		return;
	if (atomic_exchange(&dir_maint_busy, true))
		return;
	worker_pool_submit(server->workers, NULL, dir_maint_job, NULL, (void *)(uintptr_t)todo);
}

void dir_maint_start(struct event_base *base)
{
	static const struct timeval every = { 1, 0 };
	struct config cfg;

	server_config(&cfg);
	dir_maint_purges = node_purge_is_on(&cfg);

	dir_maint_timer = event_new(base, -1, EV_PERSIST, dir_maint_tick, NULL);
	if (dir_maint_timer == NULL)
		log_fatal("directory: cannot make the upkeep timer");
	event_add(dir_maint_timer, &every);
}

void dir_maint_stop(void)
{
	if (dir_maint_timer != NULL)
		event_free(dir_maint_timer);
	dir_maint_timer = NULL;
}
