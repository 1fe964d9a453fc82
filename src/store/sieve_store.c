/* An account's Sieve scripts on disk (see sieve_store.h). */
#include "store/sieve_store.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIEVE_SUFFIX ".sieve"
#define SIEVE_ACTIVE "active"

static int sieve_dir(const char *maildir, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/sieve", maildir) >= size)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

/* name -> NAME.sieve with "%" and a leading "." escaped. */
static int sieve_file_name(const char *name, char *buf, size_t size)
{
	size_t o = 0, len = strlen(name);

	if (len == 0 || len > SIEVE_STORE_NAME_MAX || strchr(name, '/') != NULL)
		return errno = EINVAL, -1;
	for (size_t i = 0; i < len; i++) {
		if (o + 4 >= size)
			return errno = ENAMETOOLONG, -1;
		if (name[i] == '%' || (i == 0 && name[i] == '.'))
			o += (size_t)snprintf(buf + o, size - o, "%%%02X", (unsigned char)name[i]);
		else
			buf[o++] = name[i];
	}
	if (o + sizeof(SIEVE_SUFFIX) > size)
		return errno = ENAMETOOLONG, -1;
	memcpy(buf + o, SIEVE_SUFFIX, sizeof(SIEVE_SUFFIX));
	return 0;
}

/* NAME.sieve -> name; -1 for any other file. */
static int sieve_name_of(const char *file, char *buf, size_t size)
{
	size_t len = strlen(file), sl = sizeof(SIEVE_SUFFIX) - 1, o = 0;

	if (len <= sl || strcmp(file + len - sl, SIEVE_SUFFIX) != 0)
		return -1;
	for (size_t i = 0; i < len - sl; i++) {
		unsigned v;

		if (o + 1 >= size)
			return -1;
		if (file[i] == '%' && i + 2 < len - sl && sscanf(file + i + 1, "%2X", &v) == 1) {
			buf[o++] = (char)v;
			i += 2;
		} else {
			buf[o++] = file[i];
		}
	}
	buf[o] = '\0';
	return 0;
}

static int sieve_path(const char *maildir, const char *name, char *buf, size_t size)
{
	char file[3 * SIEVE_STORE_NAME_MAX + 16];

	if (sieve_file_name(name, file, sizeof(file)) < 0)
		return -1;
	if ((size_t)snprintf(buf, size, "%s/sieve/%s", maildir, file) >= size)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

int sieve_store_path(const char *maildir, const char *name, char *buf, size_t size)
{
	return sieve_path(maildir, name, buf, size);
}

int sieve_store_active(const char *maildir, char *name, size_t size)
{
	char path[PATH_MAX], file[PATH_MAX];
	size_t len;
	char *text;

	if ((size_t)snprintf(path, sizeof(path), "%s/sieve/" SIEVE_ACTIVE, maildir) >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	text = fs_read_file(path, SIEVE_STORE_NAME_MAX + 1, &len);
	if (text == NULL)
		return errno == ENOENT ? 0 : -1;
	if (len == 0 || len > SIEVE_STORE_NAME_MAX || str_copy(name, size, text) < 0 ||
	    sieve_path(maildir, name, file, sizeof(file)) < 0 || access(file, F_OK) < 0) {
		free(text);
		name[0] = '\0';
		return 0;	/* no mark that names a script there: none is active */
	}
	free(text);
	return 1;
}

struct sieve_entry {
	char name[SIEVE_STORE_NAME_MAX + 1];
	size_t size;
};

static int sieve_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sieve_entry *)a)->name, ((const struct sieve_entry *)b)->name);
}

/* Every script of the account, sorted: *n_r entries (malloc'd). */
static int sieve_entries(const char *maildir, struct sieve_entry **list_r, size_t *n_r)
{
	char dir[PATH_MAX];
	struct sieve_entry *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*list_r = NULL;
	*n_r = 0;
	if (sieve_dir(maildir, dir, sizeof(dir)) < 0)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		struct sieve_entry e;
		struct stat st;

		if (sieve_name_of(de->d_name, e.name, sizeof(e.name)) < 0 ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		e.size = (size_t)st.st_size;
		if (n == cap) {
			struct sieve_entry *bigger = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*list));
			if (bigger == NULL) {
				free(list);
				closedir(d);
				return -1;
			}
			list = bigger;
		}
		list[n++] = e;
	}
	closedir(d);
	if (n > 1)
		qsort(list, n, sizeof(*list), sieve_entry_cmp);
	*list_r = list;
	*n_r = n;
	return 0;
}

int sieve_store_list(const char *maildir, sieve_store_list_cb *cb, void *ctx)
{
	char active[SIEVE_STORE_NAME_MAX + 1] = "";
	struct sieve_entry *list;
	size_t n;

	if (sieve_store_active(maildir, active, sizeof(active)) < 0 || sieve_entries(maildir, &list, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		cb(list[i].name, list[i].size, strcmp(list[i].name, active) == 0, ctx);
	free(list);
	return 0;
}

int sieve_store_usage(const char *maildir, const char *except, unsigned *count_r, uint64_t *bytes_r)
{
	struct sieve_entry *list;
	size_t n;

	*count_r = 0;
	*bytes_r = 0;
	if (sieve_entries(maildir, &list, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (except != NULL && strcmp(list[i].name, except) == 0)
			continue;
		(*count_r)++;
		*bytes_r += list[i].size;
	}
	free(list);
	return 0;
}

int sieve_store_get(const char *maildir, const char *name, size_t max, char **text_r, size_t *len_r)
{
	char path[PATH_MAX];

	*text_r = NULL;
	*len_r = 0;
	if (sieve_path(maildir, name, path, sizeof(path)) < 0)
		return -1;
	*text_r = fs_read_file(path, max, len_r);
	if (*text_r == NULL)
		return errno == ENOENT ? 0 : -1;
	return 1;
}

int sieve_store_put(const char *maildir, const char *name, const char *text, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (sieve_dir(maildir, dir, sizeof(dir)) < 0 || sieve_path(maildir, name, path, sizeof(path)) < 0)
		return -1;
	if (fs_mkdir_p(dir, 0700) < 0)
		return -1;
	return fs_write_file_atomic(path, text, len, 0600);
}

int sieve_store_delete(const char *maildir, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (sieve_dir(maildir, dir, sizeof(dir)) < 0 || sieve_path(maildir, name, path, sizeof(path)) < 0)
		return -1;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -1;
	return fs_fsync_dir(dir) < 0 ? -1 : 1;
}

/* Writes the active mark (name "" removes it). */
static int sieve_mark(const char *maildir, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (sieve_dir(maildir, dir, sizeof(dir)) < 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/" SIEVE_ACTIVE, dir) >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	if (name[0] == '\0') {
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
		return fs_fsync_dir(dir);
	}
	return fs_write_file_atomic(path, name, strlen(name), 0600);
}

int sieve_store_activate(const char *maildir, const char *name)
{
	char path[PATH_MAX];

	if (name == NULL || name[0] == '\0') {
		char dir[PATH_MAX];
		if (sieve_dir(maildir, dir, sizeof(dir)) < 0)
			return -1;
		if (access(dir, F_OK) < 0)
			return errno == ENOENT ? 1 : -1;
		return sieve_mark(maildir, "") < 0 ? -1 : 1;
	}
	if (sieve_path(maildir, name, path, sizeof(path)) < 0)
		return -1;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -1;
	return sieve_mark(maildir, name) < 0 ? -1 : 1;
}

int sieve_store_rename(const char *maildir, const char *from, const char *to)
{
	char dir[PATH_MAX], old[PATH_MAX], new[PATH_MAX], active[SIEVE_STORE_NAME_MAX + 1] = "";
	int act;

	if (sieve_dir(maildir, dir, sizeof(dir)) < 0 || sieve_path(maildir, from, old, sizeof(old)) < 0 ||
	    sieve_path(maildir, to, new, sizeof(new)) < 0)
		return -1;
	if ((act = sieve_store_active(maildir, active, sizeof(active))) < 0)
		return -1;
	/* link, move the mark, unlink: the mark always names a file there */
	if (link(old, new) < 0) {
		if (errno == ENOENT)
			return 0;
		return errno == EEXIST ? -2 : -1;
	}
	if (fs_fsync_dir(dir) < 0)
		return -1;
	if (act == 1 && strcmp(active, from) == 0 && sieve_mark(maildir, to) < 0)
		return -1;
	if (unlink(old) < 0 || fs_fsync_dir(dir) < 0)
		return -1;
	return 1;
}
