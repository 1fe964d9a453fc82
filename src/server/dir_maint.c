/* The directory's upkeep (dir_maint.h). */
#include "server/dir_maint.h"
#include "lib/log.h"
#include "lib/workers.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <time.h>

static struct event *dir_maint_timer;
static atomic_bool dir_maint_busy;

static void dir_maint_job(void *ctx)
{
	(void)ctx;
	/* Opens this worker's handle again when it was down. */
	(void)server_directory();
	atomic_store(&dir_maint_busy, false);
}

static void dir_maint_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!server_directory_is_down())
		return;
	if (atomic_exchange(&dir_maint_busy, true))
		return;
	worker_pool_submit(server->workers, NULL, dir_maint_job, NULL, NULL);
}

void dir_maint_start(struct event_base *base)
{
	static const struct timeval every = { 1, 0 };

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
