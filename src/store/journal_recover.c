/* Replaying the delivery journal after a crash (journal.h): every copy a
 * leftover segment holds is made whole again where it now is (it may have
 * moved to another folder, or from new/ to cur/), or put back where it
 * was delivered when no folder has it; each one written is synced, then
 * the segments are removed. */
#include "store/journal.h"
#include "store/journal_record.h"
#include "lib/fsmap.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rcopy {
	struct journal_record rec;
	char root[PATH_MAX];	/* the account's Maildir: the folder or its parent */
	char name[JOURNAL_NAME_MAX + 1];
	char found[PATH_MAX];	/* where a folder of the account has it, or "" */
};

struct replay {
	struct rcopy *v;
	size_t n, cap;
	struct fs_map *maps;
	size_t nmaps;
	const char *mail_root;
	struct journal_recovery *stats;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments in dir, oldest first: the count, or -1. */
static int list_segments(const char *dir, uint64_t **seqs_r, size_t *n_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;

	*seqs_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		unsigned long long seq;
		char tail[8];

		if (strlen(de->d_name) != 20 || sscanf(de->d_name, "%16llx%7s", &seq, tail) != 2 ||
		    strcmp(tail, ".log") != 0)
			continue;
		if (n == cap) {
			uint64_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (nv == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[n++] = seq;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
	*seqs_r = v;
	*n_r = n;
	return 0;
}

/* The account root of a record's folder, when it lies under mail_root. */
static bool record_root(const struct journal_record *r, const char *mail_root, char *root, size_t size)
{
	size_t ml = strlen(mail_root), len = r->folder_len;
	const char *slash;

	if (len <= ml + 1 || len >= size || strncmp(r->folder, mail_root, ml) != 0 || r->folder[ml] != '/')
		return false;
	memcpy(root, r->folder, len);
	root[len] = '\0';
	slash = strrchr(root, '/');
	if (slash[1] == '.')
		root[slash - root] = '\0';	/* a .Folder of the account */
	return strlen(root) > ml + 1;
}

static int add_copy(struct replay *rp, const struct journal_record *rec)
{
	struct rcopy *c;

	if (rp->n == rp->cap) {
		struct rcopy *nv = realloc(rp->v, (rp->cap = rp->cap ? rp->cap * 2 : 64) * sizeof(*nv));

		if (nv == NULL)
			return -1;
		rp->v = nv;
	}
	c = &rp->v[rp->n];
	memset(c, 0, sizeof(*c));
	c->rec = *rec;
	memcpy(c->name, rec->name, rec->name_len);
	if (!record_root(rec, rp->mail_root, c->root, sizeof(c->root))) {
		log_warn(NULL, "journal: a record outside %s is ignored", rp->mail_root);
		rp->stats->skipped++;
		return 0;
	}
	rp->n++;
	return 0;
}

/* Reads one segment's valid records. */
static int read_segment(struct replay *rp, const char *path)
{
	struct fs_map *m = &rp->maps[rp->nmaps];
	const uint8_t *p;
	size_t off = 0;

	if (fs_map_file(path, SIZE_MAX / 2, m) < 0)
		return -1;
	rp->nmaps++;
	p = m->data;
	while (off < m->size) {
		struct journal_record rec;
		const char *error = NULL;
		size_t used;
		int r = journal_record_parse(p + off, m->size - off, &rec, &used, &error);

		if (r <= 0) {
			/* a batch cut short by the crash: never acknowledged */
			log_warn(NULL, "journal: %s ends in %s at byte %zu (%zu bytes left out)", path,
				 r == 0 ? "an incomplete record" : error, off, m->size - off);
			rp->stats->torn++;
			break;
		}
		rp->stats->records++;
		if (add_copy(rp, &rec) < 0)
			return -1;
		off += used;
	}
	return 0;
}

static int cmp_copy(const void *a, const void *b)
{
	const struct rcopy *x = a, *y = b;
	int c = strcmp(x->root, y->root);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* Looks for the group's names in one directory of the account. */
static void scan_dir(struct rcopy *g, size_t n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct rcopy key;
		struct rcopy *hit;
		size_t bl = strcspn(de->d_name, ":");

		if (de->d_name[0] == '.' || bl > JOURNAL_NAME_MAX)
			continue;
		memcpy(key.root, g[0].root, strlen(g[0].root) + 1);
		memcpy(key.name, de->d_name, bl);
		key.name[bl] = '\0';
		hit = bsearch(&key, g, n, sizeof(*g), cmp_copy);
		if (hit != NULL)
			snprintf(hit->found, sizeof(hit->found), "%s/%s", dir, de->d_name);
	}
	closedir(d);
}

/* Every folder of one account: the root and its .Folders, cur/ and new/. */
static void scan_account(struct rcopy *g, size_t n)
{
	char path[PATH_MAX];
	DIR *d = opendir(g[0].root);
	struct dirent *de;

	if (d == NULL)
		return;
	snprintf(path, sizeof(path), "%s/cur", g[0].root);
	scan_dir(g, n, path);
	snprintf(path, sizeof(path), "%s/new", g[0].root);
	scan_dir(g, n, path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/cur", g[0].root, de->d_name);
		scan_dir(g, n, path);
		snprintf(path, sizeof(path), "%s/%s/new", g[0].root, de->d_name);
		scan_dir(g, n, path);
	}
	closedir(d);
}

static bool same_content(int fd, const struct journal_record *r)
{
	uint8_t buf[65536];
	uint64_t off = 0;
	struct stat st;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != r->content_len)
		return false;
	while (off < r->content_len) {
		ssize_t k = pread(fd, buf, sizeof(buf), (off_t)off);

		if (k <= 0 || memcmp(buf, r->content + off, (size_t)k) != 0)
			return false;
		off += (uint64_t)k;
	}
	return true;
}

/* The copy is there: its bytes written again in place when they differ
 * (the same inode, so every hard link of it is mended too); synced either
 * way, with its directory. */
static int mend(struct rcopy *c, struct journal_recovery *stats)
{
	int fd = open(c->found, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (same_content(fd, &c->rec)) {
		stats->intact++;	/* maybe only in the cache (kill -9): synced below */
	} else if (pwrite(fd, c->rec.content, c->rec.content_len, 0) != (ssize_t)c->rec.content_len ||
		   ftruncate(fd, (off_t)c->rec.content_len) < 0) {
		close(fd);
		return -1;
	} else {
		stats->rewritten++;
	}
	if (fdatasync(fd) < 0) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	*strrchr(c->found, '/') = '\0';	/* and its name, in new/ or cur/ */
	return fs_fsync_dir(c->found);
}

/* The copy is in no folder: back into the one it was delivered to, if that
 * still exists (a folder or account deleted since takes it with it). */
static int put_back(struct rcopy *c, struct journal_recovery *stats)
{
	char folder[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(folder, sizeof(folder), "%.*s", (int)c->rec.folder_len, c->rec.folder);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", folder, c->name);
	if (c->rec.flags_len > 0)
		snprintf(dst, sizeof(dst), "%s/cur/%s:2,%.*s", folder, c->name, (int)c->rec.flags_len, c->rec.flags);
	else
		snprintf(dst, sizeof(dst), "%s/new/%s", folder, c->name);
	snprintf(folder + strlen(folder), sizeof(folder) - strlen(folder), "/%s", c->rec.flags_len ? "cur" : "new");
	if (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode)) {
		stats->skipped++;
		return 0;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, c->rec.content, c->rec.content_len) < 0 || fdatasync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, dst) < 0) {
		unlink(tmp);
		return -1;
	}
	if (fs_fsync_dir(folder) < 0)	/* its new/ or cur/ */
		return -1;
	stats->restored++;
	return 0;
}

static int replay_copies(struct replay *rp)
{
	size_t i = 0;

	if (rp->n > 1)
		qsort(rp->v, rp->n, sizeof(*rp->v), cmp_copy);
	while (i < rp->n) {
		size_t k = i;

		while (k < rp->n && strcmp(rp->v[k].root, rp->v[i].root) == 0)
			k++;
		scan_account(&rp->v[i], k - i);
		for (; i < k; i++) {
			if ((rp->v[i].found[0] != '\0' ? mend(&rp->v[i], rp->stats) : put_back(&rp->v[i], rp->stats)) < 0) {
				log_error(NULL, "journal: cannot write %s back into %.*s: %s", rp->v[i].name,
					  (int)rp->v[i].rec.folder_len, rp->v[i].rec.folder, strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

/* Every copy written back was synced (it may live on a file system of
 * its own): the segments can go for good. */
static int finish(const char *dir, const uint64_t *seqs, size_t n)
{
	char path[PATH_MAX];
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%016llx.log", dir, (unsigned long long)seqs[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			r = -1;
	}
	return r == 0 ? fs_fsync_dir(dir) : -1;
}

int journal_recover(const char *dir, const char *mail_root, struct journal_recovery *stats,
		    const char **error_r)
{
	struct replay rp = { .mail_root = mail_root, .stats = stats };
	uint64_t *seqs;
	size_t n;
	int r = -1;

	memset(stats, 0, sizeof(*stats));
	if (list_segments(dir, &seqs, &n) < 0) {
		*error_r = "cannot read the journal directory";
		return -1;
	}
	if (n == 0)
		return 0;
	rp.maps = calloc(n, sizeof(*rp.maps));
	*error_r = "out of memory";
	for (size_t i = 0; rp.maps != NULL && i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%016llx.log", dir, (unsigned long long)seqs[i]);
		if (read_segment(&rp, path) < 0) {
			*error_r = "cannot read a journal segment";
			goto out;
		}
	}
	if (rp.maps == NULL)
		goto out;
	*error_r = "cannot write a journaled message back";
	if (replay_copies(&rp) < 0)
		goto out;
	*error_r = "cannot make the replayed messages durable";
	if (finish(dir, seqs, n) < 0)
		goto out;
	r = 0;
out:
	for (size_t i = 0; i < rp.nmaps; i++)
		fs_map_free(&rp.maps[i]);
	free(rp.maps);
	free(rp.v);
	free(seqs);
	return r;
}
