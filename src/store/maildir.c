#include "store/maildir.h"
#include "store/journal.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

const char *const maildir_default_folders[] = { "Sent", "Drafts", "Trash", "Junk", NULL };

static atomic_uint maildir_counter;

int maildir_path(char *buf, size_t size, const char *data_dir, const char *domain, const char *local)
{
	int n = snprintf(buf, size, "%s/mail/%s/%s", data_dir, domain, local);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int maildir_create_one(const char *dir, bool folder)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char p[PATH_MAX];

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
		if (fs_mkdir_p(p, 0700) < 0)
			return -1;
	}
	if (folder) {
		/* Maildir++ marks subfolders with an empty maildirfolder file. */
		int fd;
		snprintf(p, sizeof(p), "%s/maildirfolder", dir);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return fs_fsync_dir(dir);
}

int maildir_create(const char *path)
{
	char p[PATH_MAX], parent[PATH_MAX];
	char *slash;

	if (maildir_create_one(path, false) < 0)
		return -1;
	for (int i = 0; maildir_default_folders[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/.%s", path, maildir_default_folders[i]);
		if (maildir_create_one(p, true) < 0)
			return -1;
	}
	if (fs_fsync_dir(path) < 0)
		return -1;
	/* The mailbox's own entry in the domain directory must be durable too. */
	str_copy(parent, sizeof(parent), path);
	slash = strrchr(parent, '/');
	if (slash != NULL) {
		*slash = '\0';
		return fs_fsync_dir(parent);
	}
	return 0;
}

int maildir_folders_mend(const char *path)
{
	char cur[PATH_MAX];
	struct stat st;

	if (snprintf(cur, sizeof(cur), "%s/cur", path) >= (int)sizeof(cur)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(cur, &st) < 0)
		return -1;
	return maildir_create(path);
}

int maildir_write_body(int fd, const struct maildir_msg *msg)
{
	off_t off = 0;

	if (msg->body != NULL)
		return fs_write_all(fd, msg->body, msg->body_len);
	while ((size_t)off < msg->body_len) {
		ssize_t n = sendfile(fd, msg->body_fd, &off, msg->body_len - (size_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
	}
	return 0;
}

void maildir_unique_name(char *buf, size_t size, size_t msg_size)
{
	char host[64];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (gethostname(host, sizeof(host)) < 0)
		str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* '/' and ':' may not appear in the host part (Maildir spec). */
	for (char *p = host; *p != '\0'; p++) {
		if (*p == '/' || *p == ':' || *p == ',')
			*p = '_';
	}
	snprintf(buf, size, "%lld.M%ldP%dQ%u.%s,S=%zu", (long long)tv.tv_sec,
		 (long)tv.tv_usec, (int)getpid(), atomic_fetch_add(&maildir_counter, 1) + 1, host, msg_size);
}

int maildir_write_tmp(const char *path, const struct maildir_msg *msg, char *name_r, size_t name_size,
		      const char **error_r)
{
	char tmp[PATH_MAX];
	int fd;

	maildir_unique_name(name_r, name_size, msg->prefix_len + msg->body_len);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", path, name_r);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = errno == ENOENT ? "mailbox directory missing" : "cannot create a file";
		return -1;
	}
	if (fs_write_all(fd, msg->prefix, msg->prefix_len) < 0 ||
	    maildir_write_body(fd, msg) < 0 || fdatasync(fd) < 0) {
		*error_r = errno == ENOSPC || errno == EDQUOT ? "disk full" : "write failed";
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return 0;
}

static int maildir_write(const char *path, const struct maildir_msg *msg, const char *flags,
			 char *name_r, size_t name_size, const char **error_r)
{
	char name[MAILDIR_NAME_MAX], tmp[PATH_MAX], dst[PATH_MAX], newdir[PATH_MAX];
	char final[MAILDIR_NAME_MAX + 40];

	if (maildir_write_tmp(path, msg, name, sizeof(name), error_r) < 0)
		return -1;
	if (flags != NULL)
		snprintf(final, sizeof(final), "%s:2,%s", name, flags);
	else
		str_copy(final, sizeof(final), name);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", path, name);
	snprintf(dst, sizeof(dst), "%s/%s/%s", path, flags != NULL ? "cur" : "new", final);
	snprintf(newdir, sizeof(newdir), "%s/%s", path, flags != NULL ? "cur" : "new");
	if (rename(tmp, dst) < 0) {
		*error_r = "rename failed";
		unlink(tmp);
		return -1;
	}
	if (fs_fsync_dir(newdir) < 0) {
		*error_r = "directory fsync failed";
		return -1;
	}
	if (name_r != NULL)
		str_copy(name_r, name_size, final);
	return 0;
}

int maildir_deliver(const char *path, const struct maildir_msg *msg, char *name_r,
		    size_t name_size, const char **error_r)
{
	return maildir_write(path, msg, NULL, name_r, name_size, error_r);
}

int maildir_deliver_cur(const char *path, const struct maildir_msg *msg, const char *flags,
			char *name_r, size_t name_size, const char **error_r)
{
	return maildir_write(path, msg, flags, name_r, name_size, error_r);
}

int64_t maildir_name_size(const char *name)
{
	const char *s = strstr(name, ",S=");
	int64_t v = 0;

	if (s == NULL)
		return -1;
	s += 3;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Sizes every message file in dir (a cur/ or new/); returns -1 when dir
 * cannot be read. */
static int maildir_usage_dir(const char *dir, uint64_t *bytes, uint64_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)	/* ENOTDIR: a stray ".file" beside the folders */
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		int64_t size;

		if (de->d_name[0] == '.')
			continue;
		size = maildir_name_size(de->d_name);
		if (size < 0) {
			struct stat st;
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (stat(p, &st) < 0)
				continue;	/* expunged meanwhile */
			size = st.st_size;
		}
		*bytes += (uint64_t)size;
		(*count)++;
	}
	closedir(d);
	return 0;
}

int maildir_usage(const char *path, uint64_t *bytes_r, uint64_t *count_r)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX];
	uint64_t bytes = 0, count = 0;
	int r = 0;

	if (d == NULL)
		return -1;
	r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/cur", path), p), &bytes, &count);
	r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/new", path), p), &bytes, &count);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/%s/cur", path, de->d_name), p),
				       &bytes, &count);
		r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/%s/new", path, de->d_name), p),
				       &bytes, &count);
	}
	closedir(d);
	*bytes_r = bytes;
	if (count_r != NULL)
		*count_r = count;
	return r;
}

int maildir_folder_usage(const char *path, maildir_folder_cb *cb, void *ctx)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX];
	uint64_t bytes = 0, count = 0;
	int r = 0;

	if (d == NULL)
		return -1;
	r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/cur", path), p), &bytes, &count);
	r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/new", path), p), &bytes, &count);
	cb("", bytes, count, ctx);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		bytes = count = 0;
		r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/%s/cur", path, de->d_name), p),
				       &bytes, &count);
		r |= maildir_usage_dir((snprintf(p, sizeof(p), "%s/%s/new", path, de->d_name), p),
				       &bytes, &count);
		cb(de->d_name + 1, bytes, count, ctx);
	}
	closedir(d);
	return r;
}

static int maildir_list_dir(const char *path, bool cur, struct maildir_entry **list,
			    size_t *n, size_t *cap)
{
	char dir[PATH_MAX], p[PATH_MAX];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/%s", path, cur ? "cur" : "new");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		struct maildir_entry *e;
		struct stat st;
		char *colon;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= MAILDIR_NAME_MAX)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == *cap) {
			size_t ncap = *cap == 0 ? 64 : *cap * 2;
			struct maildir_entry *grown = realloc(*list, ncap * sizeof(**list));
			if (grown == NULL) {
				closedir(d);
				return -1;
			}
			*list = grown;
			*cap = ncap;
		}
		e = &(*list)[(*n)++];
		str_copy(e->name, sizeof(e->name), de->d_name);
		str_copy(e->uid, sizeof(e->uid), de->d_name);
		colon = strchr(e->uid, ':');
		if (colon != NULL)
			*colon = '\0';
		e->in_cur = cur;
		e->size = (uint64_t)st.st_size;
		e->mtime = (int64_t)st.st_mtime;
	}
	closedir(d);
	return 0;
}

/* Delivery time from a name of the form SECONDS.M<usec>... */
static void maildir_name_time(const char *uid, long long *sec_r, long *usec_r)
{
	const char *dot = strchr(uid, '.');

	*sec_r = atoll(uid);
	*usec_r = dot != NULL && dot[1] == 'M' ? atol(dot + 2) : 0;
}

static int maildir_entry_cmp(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;
	long long sx, sy;
	long ux, uy;

	maildir_name_time(x->uid, &sx, &ux);
	maildir_name_time(y->uid, &sy, &uy);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (ux != uy)
		return ux < uy ? -1 : 1;
	return strcmp(x->uid, y->uid);
}

int maildir_list(const char *path, struct maildir_entry **entries_r, size_t *count_r)
{
	struct maildir_entry *list = NULL;
	size_t n = 0, cap = 0;

	if (maildir_list_dir(path, false, &list, &n, &cap) < 0 ||
	    maildir_list_dir(path, true, &list, &n, &cap) < 0) {
		free(list);
		return -1;
	}
	if (n > 0)	/* list is NULL then, and qsort's base may not be */
		qsort(list, n, sizeof(*list), maildir_entry_cmp);
	*entries_r = list;
	*count_r = n;
	return 0;
}

int maildir_entry_path(const char *path, const struct maildir_entry *e, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s/%s", path, e->in_cur ? "cur" : "new", e->name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int maildir_entry_open(const char *path, const struct maildir_entry *e)
{
	static const char *const moved[] = { ":2,", "" };
	char buf[PATH_MAX];
	int fd;

	if (maildir_entry_path(path, e, buf, sizeof(buf)) < 0)
		return -1;
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; fd < 0 && errno == ENOENT && !e->in_cur && i < 2; i++) {
		int n = snprintf(buf, sizeof(buf), "%s/cur/%s%s", path, e->name, moved[i]);

		if (n > 0 && (size_t)n < sizeof(buf))
			fd = open(buf, O_RDONLY | O_CLOEXEC);
	}
	return fd;
}

/* ---- POP3 deletions, all or nothing -------------------------------------- */

#define DELETE_INTENT_MAGIC "yubin-pop3-delete 1\n"
#define DELETE_INTENT_MAX (64u * 1024 * 1024)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Test hook (integration tests only, see test_pop3_atomic.py): with
 * YUBIN_TEST_DELETE_PAUSE=N:FILE in the environment, the process creates
 * FILE after N files were removed and then waits to be killed, so that a
 * kill -9 can land between two unlinks, a window nothing else can hold
 * open. */
static void delete_test_pause(unsigned done)
{
	static const char *spec;
	static bool read;
	char *end;
	unsigned long at;
	int fd;

	if (!read) {
		spec = getenv("YUBIN_TEST_DELETE_PAUSE");
		read = true;
	}
	if (spec == NULL)
		return;
	at = strtoul(spec, &end, 10);
	if (*end != ':' || at != done)
		return;
	fd = open(end + 1, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	for (;;)
		pause();
}

/* Removes the files of new/ and cur/ whose base names are in the sorted
 * uids, fsyncs both directories. */
static void delete_by_base(const char *path, char *const *uids, size_t n, uint64_t *freed_r,
			   unsigned *failed_r)
{
	static const char *const subs[] = { "new", "cur" };
	char dir[PATH_MAX], p[PATH_MAX + MAILDIR_NAME_MAX], base[MAILDIR_NAME_MAX];
	unsigned done = 0;

	delete_test_pause(done);
	for (int i = 0; i < 2; i++) {
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s", path, subs[i]);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			const char *key = base;
			struct stat sb;
			int64_t size;

			if (de->d_name[0] == '.')
				continue;
			str_copyn(base, sizeof(base), de->d_name, strcspn(de->d_name, ":"));
			if (n == 0 || bsearch(&key, uids, n, sizeof(*uids), cmp_str) == NULL)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			journal_wait_durable(base);	/* or a crash could bring it back */
			size = maildir_name_size(base);
			if (size < 0)
				size = stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
			if (unlink(p) < 0) {
				if (errno != ENOENT)
					(*failed_r)++;
				continue;
			}
			*freed_r += (uint64_t)size;
			delete_test_pause(++done);
		}
		closedir(d);
		fs_fsync_dir(dir);
	}
}

static void intent_path(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s/" POP3_DELETE_INTENT, path);
}

int maildir_delete_messages(const char *path, const char *const *uids, size_t n, uint64_t *freed_r,
			    unsigned *failed_r)
{
	char ipath[PATH_MAX], **sorted;
	size_t len = sizeof(DELETE_INTENT_MAGIC) - 1, o;
	char *rec;

	*freed_r = 0;
	*failed_r = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(uids[i]) + 1;
	rec = malloc(len + 1);
	sorted = calloc(n > 0 ? n : 1, sizeof(*sorted));
	if (rec == NULL || sorted == NULL) {
		free(rec);
		free(sorted);
		return -1;
	}
	memcpy(rec, DELETE_INTENT_MAGIC, sizeof(DELETE_INTENT_MAGIC) - 1);
	o = sizeof(DELETE_INTENT_MAGIC) - 1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(uids[i]);
		memcpy(rec + o, uids[i], l);
		rec[o + l] = '\n';
		o += l + 1;
		sorted[i] = (char *)uids[i];
	}
	intent_path(path, ipath, sizeof(ipath));
	/* The record is the commit point: durable before any file goes. */
	if (fs_write_file_atomic(ipath, rec, len, 0600) < 0) {
		free(rec);
		free(sorted);
		return -1;
	}
	free(rec);
	if (n > 1)
		qsort(sorted, n, sizeof(*sorted), cmp_str);
	delete_by_base(path, sorted, n, freed_r, failed_r);
	free(sorted);
	if (*failed_r == 0 && unlink(ipath) == 0)
		fs_fsync_dir(path);
	return 0;
}

bool maildir_delete_is_pending(const char *path)
{
	char ipath[PATH_MAX];

	intent_path(path, ipath, sizeof(ipath));
	return access(ipath, F_OK) == 0;
}

/* Reads the record into a NUL-separated list of base names. */
static char *intent_read(const char *ipath, char ***uids_r, size_t *n_r)
{
	struct stat sb;
	char *buf = NULL, **uids = NULL;
	size_t n = 0, cap = 0;
	int fd = open(ipath, O_RDONLY | O_CLOEXEC);

	*uids_r = NULL;
	*n_r = 0;
	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size > (off_t)DELETE_INTENT_MAX ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    read(fd, buf, (size_t)sb.st_size) != (ssize_t)sb.st_size) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	buf[sb.st_size] = '\0';
	if (strncmp(buf, DELETE_INTENT_MAGIC, sizeof(DELETE_INTENT_MAGIC) - 1) != 0)
		return buf;	/* not ours: nothing to do */
	for (char *line = buf + sizeof(DELETE_INTENT_MAGIC) - 1, *nl; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		*nl = '\0';
		/* Base names only: never a path, never a dot file. */
		if (line[0] == '\0' || line[0] == '.' || strchr(line, '/') != NULL)
			continue;
		if (n == cap) {
			char **grown = realloc(uids, (cap = cap ? 2 * cap : 64) * sizeof(*uids));
			if (grown == NULL)
				break;
			uids = grown;
		}
		uids[n++] = line;
	}
	*uids_r = uids;
	*n_r = n;
	return buf;
}

int maildir_delete_resume(const char *path, uint64_t *freed_r)
{
	char ipath[PATH_MAX], **uids, *buf;
	unsigned failed = 0;
	size_t n;

	*freed_r = 0;
	intent_path(path, ipath, sizeof(ipath));
	if (access(ipath, F_OK) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((buf = intent_read(ipath, &uids, &n)) == NULL)
		return -1;
	if (n > 1)
		qsort(uids, n, sizeof(*uids), cmp_str);
	delete_by_base(path, uids, n, freed_r, &failed);
	free(uids);
	free(buf);
	if (failed > 0)
		return -1;
	if (unlink(ipath) == 0)
		fs_fsync_dir(path);
	return 1;
}

static int maildir_clean_tmp_dir(const char *dir, time_t cutoff)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];
	struct stat st;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff && unlink(p) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int maildir_clean_tmp(const char *path, long max_age)
{
	time_t cutoff = time(NULL) - max_age;
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX];
	int n;

	if (d == NULL)
		return 0;
	{
		/* Also a crash leftover: POP3 deletions half done. The caller
		 * counts the usage afterwards. */
		uint64_t freed;
		maildir_delete_resume(path, &freed);
	}
	n = maildir_clean_tmp_dir((snprintf(p, sizeof(p), "%s/tmp", path), p), cutoff);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n += maildir_clean_tmp_dir((snprintf(p, sizeof(p), "%s/%s/tmp", path, de->d_name), p), cutoff);
	}
	closedir(d);
	return n;
}

static uint64_t maildir_expire_dir(const char *dir, time_t cutoff, unsigned *count_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t freed = 0;
	unsigned removed = 0;
	char p[PATH_MAX];
	struct stat st;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ctime >= cutoff)
			continue;
		if (unlink(p) == 0) {
			int64_t size = maildir_name_size(de->d_name);
			freed += size >= 0 ? (uint64_t)size : (uint64_t)st.st_size;
			removed++;
		}
	}
	closedir(d);
	if (removed > 0)
		fs_fsync_dir(dir);
	*count_r += removed;
	return freed;
}

uint64_t maildir_expire(const char *folder, time_t cutoff, unsigned *count_r)
{
	char p[PATH_MAX];
	uint64_t freed;

	freed = maildir_expire_dir((snprintf(p, sizeof(p), "%s/cur", folder), p), cutoff, count_r);
	freed += maildir_expire_dir((snprintf(p, sizeof(p), "%s/new", folder), p), cutoff, count_r);
	return freed;
}
