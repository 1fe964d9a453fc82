/* Empties Trash and Junk of mail older than a per-domain number of days
 * (domain setting `trash-expire-days`, default 7, 0 = keep forever), as a
 * hosting panel promises its users. Runs on a worker once an hour. The age
 * is the time the message was put in the folder: a move (rename) or copy
 * (link) sets the file's ctime, while its mtime keeps the INTERNALDATE. */
#include "server/expire.h"
#include "directory/directory.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPIRE_INTERVAL 3600

static const char *const expire_folders[] = { ".Trash", ".Junk" };

struct expire_account {
	char address[DIR_ADDRESS_MAX + 1];
	char domain[DIR_DOMAIN_MAX + 1];
	char local[DIR_LOCAL_MAX + 1];
};

struct expire_list {
	struct expire_account *a;
	size_t n;
};

static void expire_collect(const struct dir_account *acct, void *ctx)
{
	struct expire_list *l = ctx;
	struct expire_account *grown = realloc(l->a, (l->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return;
	l->a = grown;
	str_copy(l->a[l->n].address, sizeof(l->a[l->n].address), acct->address);
	str_copy(l->a[l->n].domain, sizeof(l->a[l->n].domain), acct->domain);
	str_copy(l->a[l->n].local, sizeof(l->a[l->n].local), acct->local);
	l->n++;
}

static unsigned expire_days(struct directory *dir, const char *domain)
{
	return (unsigned)settings_domain_uint(dir, domain, SETTING_TRASH_EXPIRE_DAYS);
}

void expire_run_once(void)
{
	struct directory *dir = server_directory();
	struct expire_list list = { NULL, 0 };
	time_t now = time(NULL);

	if (dir == NULL || directory_account_list(dir, NULL, expire_collect, &list) < 0) {
		free(list.a);
		return;
	}
	for (size_t i = 0; i < list.n; i++) {
		unsigned days, count = 0;
		char root[PATH_MAX], sub[PATH_MAX + 32], detail[160];
		uint64_t freed = 0;
		struct stat st;

		/* only the mailboxes this machine holds (with nodes, the
		 * directory lists every node's accounts) */
		if (server_maildir(root, sizeof(root), list.a[i].domain, list.a[i].local) < 0 ||
		    stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		days = expire_days(dir, list.a[i].domain);
		if (days == 0)
			continue;
		for (size_t f = 0; f < sizeof(expire_folders) / sizeof(expire_folders[0]); f++) {
			snprintf(sub, sizeof(sub), "%s/%s", root, expire_folders[f]);
			freed += maildir_expire(sub, now - (time_t)days * 86400, &count);
		}
		if (count == 0)
			continue;
		quota_release(root, freed);
		store_changed(root);
		snprintf(detail, sizeof(detail), "removed %u messages (%llu bytes) older than %u days from"
			 " Trash and Junk", count, (unsigned long long)freed, days);
		directory_event_add(dir, "trash-expired", list.a[i].address, "", detail);
		log_info(NULL, "expire: %s: %s", list.a[i].address, detail);
	}
	free(list.a);
}

static void expire_job(void *ctx)
{
	expire_run_once();
}

static void expire_tick(evutil_socket_t fd, short what, void *arg)
{
	worker_pool_submit(server->workers, NULL, expire_job, NULL, NULL);
}

static struct event *expire_first, *expire_periodic;

void expire_start(struct event_base *base)
{
	static const struct timeval first = { 60, 0 }, every = { EXPIRE_INTERVAL, 0 };

	expire_first = evtimer_new(base, expire_tick, NULL);
	expire_periodic = event_new(base, -1, EV_PERSIST, expire_tick, NULL);
	evtimer_add(expire_first, &first);
	event_add(expire_periodic, &every);
}

void expire_stop(void)
{
	if (expire_first != NULL)
		event_free(expire_first);
	if (expire_periodic != NULL)
		event_free(expire_periodic);
	expire_first = expire_periodic = NULL;
}
