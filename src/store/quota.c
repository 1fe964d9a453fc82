#include "store/quota.h"
#include "store/maildir.h"
#include "lib/str.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct quota_entry {
	struct quota_entry *next;
	uint64_t bytes;
	dev_t dev;		/* the mailbox directory the figure belongs to: */
	ino_t ino;		/* a deleted and re-created account starts over */
	struct statx_timestamp btime;	/* (ext4 reuses a freed inode number at once) */
	char path[];
};

#define QUOTA_BUCKETS 1024

static pthread_mutex_t quota_lock = PTHREAD_MUTEX_INITIALIZER;
static struct quota_entry *quota_table[QUOTA_BUCKETS];

static unsigned quota_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % QUOTA_BUCKETS;
}

/* Finds or loads the entry; call with the lock held. */
static struct quota_entry *quota_entry_get(const char *path)
{
	unsigned h = quota_hash(path);
	struct quota_entry *e;
	uint64_t bytes;

	struct statx stx;
	dev_t dev;

	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &stx) < 0)
		return NULL;
	if (!(stx.stx_mask & STATX_BTIME))
		memset(&stx.stx_btime, 0, sizeof(stx.stx_btime));
	dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	for (e = quota_table[h]; e != NULL; e = e->next) {
		if (strcmp(e->path, path) == 0)
			break;
	}
	if (e != NULL && e->dev == dev && e->ino == stx.stx_ino &&
	    e->btime.tv_sec == stx.stx_btime.tv_sec && e->btime.tv_nsec == stx.stx_btime.tv_nsec)
		return e;
	/* First use since start (or a new mailbox at the same path): a good
	 * moment to drop crash leftovers, then count. */
	maildir_clean_tmp(path, 36 * 3600);
	if (maildir_usage(path, &bytes, NULL) < 0)
		return NULL;
	if (e != NULL) {
		e->bytes = bytes;
		e->dev = dev;
		e->ino = stx.stx_ino;
		e->btime = stx.stx_btime;
		return e;
	}
	e = malloc(sizeof(*e) + strlen(path) + 1);
	if (e == NULL)
		return NULL;
	strcpy(e->path, path);
	e->bytes = bytes;
	e->dev = dev;
	e->ino = stx.stx_ino;
	e->btime = stx.stx_btime;
	e->next = quota_table[h];
	quota_table[h] = e;
	return e;
}

int quota_usage(const char *path, uint64_t *bytes_r)
{
	struct quota_entry *e;

	pthread_mutex_lock(&quota_lock);
	e = quota_entry_get(path);
	if (e != NULL)
		*bytes_r = e->bytes;
	pthread_mutex_unlock(&quota_lock);
	return e != NULL ? 0 : -1;
}

bool quota_reserve(const char *path, uint64_t bytes, uint64_t limit)
{
	struct quota_entry *e;
	bool ok = false;

	pthread_mutex_lock(&quota_lock);
	e = quota_entry_get(path);
	if (e != NULL && (limit == 0 || (bytes <= limit && e->bytes <= limit - bytes))) {
		e->bytes += bytes;
		ok = true;
	}
	pthread_mutex_unlock(&quota_lock);
	return ok;
}

void quota_release(const char *path, uint64_t bytes)
{
	struct quota_entry *e;

	pthread_mutex_lock(&quota_lock);
	e = quota_entry_get(path);
	if (e != NULL)
		e->bytes = e->bytes > bytes ? e->bytes - bytes : 0;
	pthread_mutex_unlock(&quota_lock);
}

void quota_forget(const char *path)
{
	unsigned h = quota_hash(path);
	struct quota_entry **pp;

	pthread_mutex_lock(&quota_lock);
	for (pp = &quota_table[h]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->path, path) == 0) {
			struct quota_entry *e = *pp;
			*pp = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&quota_lock);
}
