/* The hot-path cache of the PostgreSQL directory and its listener (see
 * dir_cache.h). A direct-mapped table: a key hashes to one slot, a newer
 * entry replaces an older one, so memory stays bounded. */
#include "directory/dir_cache.h"
#include "lib/log.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DC_SLOTS 4096
#define DC_KEY_MAX 640
#define DC_VAL_MAX 2048

struct dc_entry {
	uint64_t gen;		/* 0: empty */
	int64_t expires_ms;
	char kind;
	char key[DC_KEY_MAX];
	size_t size;
	unsigned char val[DC_VAL_MAX];
};

static struct dc_entry *dc_table;
static pthread_mutex_t dc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t dc_gen = 1;
static atomic_bool dc_active;
static atomic_bool dc_stopping;
static pthread_t dc_thread;
static bool dc_started;
static char *dc_conninfo;
static int dc_wake[2] = { -1, -1 };

static int64_t dc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t dc_slot(char kind, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ (unsigned char)kind;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % DC_SLOTS);
}

uint64_t dir_cache_generation(void)
{
	return atomic_load(&dc_gen);
}

bool dir_cache_is_active(void)
{
	return dc_table != NULL && atomic_load(&dc_active);
}

void dir_cache_flush(void)
{
	atomic_fetch_add(&dc_gen, 1);
}

int dir_cache_get(char kind, const char *key, void *val, size_t size)
{
	struct dc_entry *e;
	int hit = 0;

	if (!dir_cache_is_active() || strlen(key) >= DC_KEY_MAX)
		return 0;
	pthread_mutex_lock(&dc_lock);
	e = &dc_table[dc_slot(kind, key)];
	if (e->gen == atomic_load(&dc_gen) && e->kind == kind && e->size == size &&
	    e->expires_ms > dc_now_ms() && strcmp(e->key, key) == 0) {
		memcpy(val, e->val, size);
		hit = 1;
	}
	pthread_mutex_unlock(&dc_lock);
	return hit;
}

void dir_cache_put(char kind, const char *key, const void *val, size_t size, uint64_t gen)
{
	struct dc_entry *e;

	if (!dir_cache_is_active() || size > DC_VAL_MAX || strlen(key) >= DC_KEY_MAX)
		return;
	pthread_mutex_lock(&dc_lock);
	/* A change since the read began: the value may be older than it. */
	if (gen == atomic_load(&dc_gen)) {
		e = &dc_table[dc_slot(kind, key)];
		explicit_bzero(e->val, sizeof(e->val));	/* may have held a password hash */
		e->gen = gen;
		e->expires_ms = dc_now_ms() + DIR_CACHE_TTL_MS;
		e->kind = kind;
		strcpy(e->key, key);
		e->size = size;
		memcpy(e->val, val, size);
	}
	pthread_mutex_unlock(&dc_lock);
}

/* A listening connection, or NULL. */
static PGconn *dc_listen(void)
{
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "3", "yubin-listen", dc_conninfo, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PGresult *res;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	res = PQexec(c, "LISTEN yubin_directory");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

/* Waits up to ms for the connection's socket (fd < 0: only the stop
 * pipe): true when the stop was asked for. */
static bool dc_wait(int fd, int ms)
{
	struct pollfd p[2] = { { dc_wake[0], POLLIN, 0 }, { fd, POLLIN, 0 } };

	poll(p, fd >= 0 ? 2 : 1, ms);
	return atomic_load(&dc_stopping);
}

static void *dc_run(void *arg)
{
	PGconn *c = NULL;
	bool warned = false;

	(void)arg;
	while (!atomic_load(&dc_stopping)) {
		PGnotify *n;

		if (c == NULL) {
			c = dc_listen();
			if (c == NULL) {
				if (!warned)
					log_warn(NULL, "directory: cannot listen for changes in PostgreSQL:"
						 " lookups are not cached until it answers");
				warned = true;
				if (dc_wait(-1, 500))
					break;
				continue;
			}
			/* Whatever changed while we were deaf is gone with the rest. */
			dir_cache_flush();
			atomic_store(&dc_active, true);
			if (warned)
				log_info(NULL, "directory: listening for changes in PostgreSQL again");
			warned = false;
		}
		if (dc_wait(PQsocket(c), 1000))
			break;
		if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
			atomic_store(&dc_active, false);
			dir_cache_flush();
			PQfinish(c);
			c = NULL;
			continue;
		}
		while ((n = PQnotifies(c)) != NULL) {
			dir_cache_flush();
			PQfreemem(n);
		}
	}
	atomic_store(&dc_active, false);
	PQfinish(c);
	return NULL;
}

int dir_cache_start(const char *conninfo)
{
	if (dc_started)
		return 0;
	dc_table = calloc(DC_SLOTS, sizeof(*dc_table));
	dc_conninfo = strdup(conninfo);
	if (dc_table == NULL || dc_conninfo == NULL || pipe(dc_wake) < 0)
		goto fail;
	atomic_store(&dc_stopping, false);
	if (pthread_create(&dc_thread, NULL, dc_run, NULL) != 0)
		goto fail;
	dc_started = true;
	return 0;
fail:
	free(dc_table);
	dc_table = NULL;
	free(dc_conninfo);
	dc_conninfo = NULL;
	return -1;
}

void dir_cache_stop(void)
{
	if (!dc_started)
		return;
	atomic_store(&dc_stopping, true);
	if (write(dc_wake[1], "x", 1) < 0)
		log_warn(NULL, "directory: cannot wake the change listener");
	pthread_join(dc_thread, NULL);
	close(dc_wake[0]);
	close(dc_wake[1]);
	dc_wake[0] = dc_wake[1] = -1;
	atomic_store(&dc_active, false);
	explicit_bzero(dc_table, DC_SLOTS * sizeof(*dc_table));
	free(dc_table);
	dc_table = NULL;
	free(dc_conninfo);
	dc_conninfo = NULL;
	dc_started = false;
}
