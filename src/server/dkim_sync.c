/* DKIM keys from the directory to DATA/dkim (dkim_sync.h). */
#include "server/dkim_sync.h"
#include "policy/dkim_share.h"
#include "lib/log.h"
#include "lib/workers.h"

#include <event2/event.h>
#include <stdatomic.h>

static struct event *dkim_sync_timer;
/* the directory's keys as of the last pass (one pass at a time) */
static int64_t dkim_sync_mark[2] = { -1, -1 };
static atomic_bool dkim_sync_busy;

static void dkim_sync_once(void)
{
	struct directory *dir = server_directory();
	int r = dir != NULL ? dkim_share_sync(dir, server->data_dir, dkim_sync_mark) : -1;

	if (r < 0)
		log_warn(NULL, "dkim: cannot bring the keys up to date from the directory; trying again later");
	else if (r > 0)
		log_info(NULL, "dkim: the keys of %d domain(s) written from the directory", r);
}

static void dkim_sync_job(void *ctx)
{
	dkim_sync_once();
	atomic_store(&dkim_sync_busy, false);
}

static void dkim_sync_tick(evutil_socket_t fd, short what, void *arg)
{
	/* one pass at a time: a slow database does not pile them up */
	if (atomic_exchange(&dkim_sync_busy, true))
		return;
	worker_pool_submit(server->workers, NULL, dkim_sync_job, NULL, NULL);
}

void dkim_sync_start(struct event_base *base)
{
	static const struct timeval every = { DKIM_SYNC_INTERVAL, 0 };

	dkim_sync_once();
	dkim_sync_timer = event_new(base, -1, EV_PERSIST, dkim_sync_tick, NULL);
	if (dkim_sync_timer != NULL)
		event_add(dkim_sync_timer, &every);
}

void dkim_sync_stop(void)
{
	if (dkim_sync_timer != NULL)
		event_free(dkim_sync_timer);
	dkim_sync_timer = NULL;
}
