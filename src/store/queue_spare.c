/* Spare queue files (queue_spare.h). */
#include "store/queue_spare.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SPARE_PREFIX ".spare."

static struct {
	pthread_mutex_t lock;
	char dir[PATH_MAX];		/* "" until queue_spare_init */
	unsigned names[QUEUE_SPARE_MAX];	/* the N of each ".spare.N" */
	unsigned n, next;
} spares = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void spare_path(char *buf, size_t size, const char *dir, unsigned name)
{
	snprintf(buf, size, "%s/" SPARE_PREFIX "%u", dir, name);
}

void queue_spare_init(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	pthread_mutex_lock(&spares.lock);
	spares.n = 0;
	spares.next = 0;
	if (str_copy(spares.dir, sizeof(spares.dir), dir) < 0)
		spares.dir[0] = '\0';
	pthread_mutex_unlock(&spares.lock);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[PATH_MAX + 300];

		if (strncmp(de->d_name, SPARE_PREFIX, strlen(SPARE_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
}

/* The directory part of path is the spares' directory. */
static bool in_spare_dir(const char *path)
{
	size_t n = strlen(spares.dir);

	return n > 0 && strncmp(path, spares.dir, n) == 0 && path[n] == '/' && strchr(path + n + 1, '/') == NULL;
}

int queue_spare_retire(const char *path)
{
	char spare[PATH_MAX + 32];
	unsigned name = 0;
	bool keep, kept = false;

	pthread_mutex_lock(&spares.lock);
	keep = spares.n < QUEUE_SPARE_MAX && in_spare_dir(path);
	if (keep)
		name = spares.next++;
	pthread_mutex_unlock(&spares.lock);
	if (!keep)
		return unlink(path);
	spare_path(spare, sizeof(spare), spares.dir, name);
	if (rename(path, spare) < 0)
		return unlink(path);
	/* the queue file is gone; the spare keeps no mail */
	if (truncate(spare, 0) < 0) {
		unlink(spare);
		return 0;
	}
	pthread_mutex_lock(&spares.lock);
	if (spares.n < QUEUE_SPARE_MAX) {
		spares.names[spares.n++] = name;
		kept = true;
	}
	pthread_mutex_unlock(&spares.lock);
	if (!kept)
		unlink(spare);
	return 0;
}

int queue_spare_take(const char *dir, const char *path)
{
	char spare[PATH_MAX + 32];
	unsigned name = 0;
	bool have;

	pthread_mutex_lock(&spares.lock);
	have = spares.n > 0 && strcmp(dir, spares.dir) == 0;
	if (have)
		name = spares.names[--spares.n];
	pthread_mutex_unlock(&spares.lock);
	if (!have)
		return -1;
	spare_path(spare, sizeof(spare), dir, name);
	return rename(spare, path);
}
