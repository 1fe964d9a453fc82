/* GeoIP country lookups through libmaxminddb. */
#include "policy/geoip.h"
#include "lib/str.h"

#include <ctype.h>
#include <maxminddb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct geoip {
	char path[4096];
	pthread_rwlock_t lock;
	pthread_mutex_t check_lock;
	MMDB_s mmdb;
	bool loaded;
	char error[256];
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	time_t checked;
};

/* (Re)opens the file under the write lock. */
static void geoip_open_locked(struct geoip *g)
{
	struct stat st;
	int r;

	if (g->loaded) {
		MMDB_close(&g->mmdb);
		g->loaded = false;
	}
	memset(&g->mmdb, 0, sizeof(g->mmdb));
	if (stat(g->path, &st) < 0) {
		snprintf(g->error, sizeof(g->error), "%s: no such file (run yubinctl geoip update)", g->path);
		g->ino = 0;
		return;
	}
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	g->mtime = st.st_mtim;
	r = MMDB_open(g->path, MMDB_MODE_MMAP, &g->mmdb);
	if (r != MMDB_SUCCESS) {
		snprintf(g->error, sizeof(g->error), "%s: %s", g->path, MMDB_strerror(r));
		return;
	}
	g->loaded = true;
	g->error[0] = '\0';
}

struct geoip *geoip_new(const char *path)
{
	struct geoip *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if (str_copy(g->path, sizeof(g->path), path) < 0) {
		free(g);
		return NULL;
	}
	pthread_rwlock_init(&g->lock, NULL);
	pthread_mutex_init(&g->check_lock, NULL);
	geoip_open_locked(g);
	g->checked = time(NULL);
	return g;
}

void geoip_free(struct geoip *g)
{
	if (g == NULL)
		return;
	if (g->loaded)
		MMDB_close(&g->mmdb);
	pthread_rwlock_destroy(&g->lock);
	pthread_mutex_destroy(&g->check_lock);
	free(g);
}

/* At most every GEOIP_RECHECK seconds: reopen when the file was replaced,
 * appeared or went away. */
static void geoip_recheck(struct geoip *g)
{
	time_t now = time(NULL);
	struct stat st;
	bool changed;

	if (pthread_mutex_trylock(&g->check_lock) != 0)
		return;
	if (now - g->checked < GEOIP_RECHECK && now >= g->checked) {
		pthread_mutex_unlock(&g->check_lock);
		return;
	}
	g->checked = now;
	if (stat(g->path, &st) < 0)
		changed = g->ino != 0;
	else
		changed = st.st_ino != g->ino || st.st_dev != g->dev ||
			  st.st_mtim.tv_sec != g->mtime.tv_sec || st.st_mtim.tv_nsec != g->mtime.tv_nsec;
	if (changed) {
		pthread_rwlock_wrlock(&g->lock);
		geoip_open_locked(g);
		pthread_rwlock_unlock(&g->lock);
	}
	pthread_mutex_unlock(&g->check_lock);
}

bool geoip_is_loaded(struct geoip *g)
{
	bool loaded;

	if (g == NULL)
		return false;
	geoip_recheck(g);
	pthread_rwlock_rdlock(&g->lock);
	loaded = g->loaded;
	pthread_rwlock_unlock(&g->lock);
	return loaded;
}

void geoip_error(struct geoip *g, char *buf, size_t size)
{
	if (g == NULL) {
		str_copy(buf, size, "no GeoIP handle");
		return;
	}
	pthread_rwlock_rdlock(&g->lock);
	str_copy(buf, size, g->error);
	pthread_rwlock_unlock(&g->lock);
}

enum geoip_status geoip_lookup(struct geoip *g, const char *ip, char cc_r[3])
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	enum geoip_status st = GEOIP_NOT_FOUND;
	int gai = 0, err = 0;

	cc_r[0] = '\0';
	if (g == NULL)
		return GEOIP_NO_DATABASE;
	geoip_recheck(g);
	pthread_rwlock_rdlock(&g->lock);
	if (!g->loaded) {
		pthread_rwlock_unlock(&g->lock);
		return GEOIP_NO_DATABASE;
	}
	res = MMDB_lookup_string(&g->mmdb, ip, &gai, &err);
	if (gai != 0) {
		st = GEOIP_BAD_ADDRESS;
	} else if (err == MMDB_SUCCESS && res.found_entry &&
		   MMDB_get_value(&res.entry, &data, "country_code", NULL) == MMDB_SUCCESS &&
		   data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2 &&
		   isalpha((unsigned char)data.utf8_string[0]) && isalpha((unsigned char)data.utf8_string[1])) {
		cc_r[0] = (char)toupper((unsigned char)data.utf8_string[0]);
		cc_r[1] = (char)toupper((unsigned char)data.utf8_string[1]);
		cc_r[2] = '\0';
		st = GEOIP_FOUND;
	}
	pthread_rwlock_unlock(&g->lock);
	return st;
}

int geoip_check_file(const char *path, unsigned long *nodes_r, char *err, size_t errsize)
{
	MMDB_s mmdb;
	int r = MMDB_open(path, MMDB_MODE_MMAP, &mmdb);

	if (r != MMDB_SUCCESS) {
		snprintf(err, errsize, "%s: %s", path, MMDB_strerror(r));
		return -1;
	}
	*nodes_r = mmdb.metadata.node_count;
	MMDB_close(&mmdb);
	return 0;
}
