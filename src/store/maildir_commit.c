/* Staged Maildir delivery and the batch commit behind group commit
 * (maildir_commit.h). */
#include "store/maildir_commit.h"
#include "store/journal.h"
#include "lib/fanout.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_bool stage_writeback = true;

void maildir_stage_set_writeback(bool on)
{
	atomic_store(&stage_writeback, on);
}

int maildir_stage(const char *dir, const struct maildir_msg *msg, struct maildir_staged *st,
		  const char **error_r)
{
	char tmp[PATH_MAX];
	int fd;

	memset(st, 0, sizeof(*st));
	if (str_copy(st->dir, sizeof(st->dir), dir) < 0) {
		*error_r = "mailbox path too long";
		return -1;
	}
	maildir_unique_name(st->name, sizeof(st->name), msg->prefix_len + msg->body_len);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, st->name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = errno == ENOENT ? "mailbox directory missing" : "cannot create a file";
		return -1;
	}
	if (fs_write_all(fd, msg->prefix, msg->prefix_len) < 0 || maildir_write_body(fd, msg) < 0) {
		*error_r = errno == ENOSPC || errno == EDQUOT ? "disk full" : "write failed";
		close(fd);
		unlink(tmp);
		return -1;
	}
	/* Starts the writeback now, so the commit's fdatasync finds less to
	 * wait for (a hint only: the commit syncs the file all the same). With
	 * the journal the file is read back from the cache instead, and the
	 * checkpoint writes it out with many others. */
	if (atomic_load_explicit(&stage_writeback, memory_order_relaxed))
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	return 0;
}

/* The staged file's temporary and final paths, and the directory whose
 * fsync makes the final name durable (any may be NULL). */
static void maildir_staged_paths(const struct maildir_staged *st, char *tmp, char *dst, char *syncdir)
{
	if (st->flat) {
		if (tmp != NULL)
			snprintf(tmp, PATH_MAX, "%s/.%s.tmp", st->dir, st->name);
		if (dst != NULL)
			snprintf(dst, PATH_MAX, "%s/%s", st->dir, st->name);
		if (syncdir != NULL)
			snprintf(syncdir, PATH_MAX, "%s", st->dir);
		return;
	}
	if (tmp != NULL)
		snprintf(tmp, PATH_MAX, "%s/tmp/%s", st->dir, st->name);
	if (dst != NULL && st->flags[0] != '\0')
		snprintf(dst, PATH_MAX, "%s/cur/%s:2,%s", st->dir, st->name, st->flags);
	else if (dst != NULL)
		snprintf(dst, PATH_MAX, "%s/new/%s", st->dir, st->name);
	if (syncdir != NULL)
		snprintf(syncdir, PATH_MAX, "%s/%s", st->dir, st->flags[0] != '\0' ? "cur" : "new");
}

/* Do a and b publish into the same directory? */
static bool maildir_staged_same_dir(const struct maildir_staged *a, const struct maildir_staged *b)
{
	return a->flat == b->flat && (a->flags[0] != '\0') == (b->flags[0] != '\0') &&
	       strcmp(a->dir, b->dir) == 0;
}

/* fdatasyncs one staged file: 0, or -1 with st->error set (and the file
 * removed). */
static int maildir_staged_sync(struct maildir_staged *st)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (st->dir[0] == '\0' || st->name[0] == '\0') {
		st->error = "no staged file";
		return -1;
	}
	maildir_staged_paths(st, tmp, NULL, NULL);
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->error = "staged file missing";
		return -1;
	}
	r = fdatasync(fd);
	if (r < 0) {
		st->error = errno == ENOSPC || errno == EDQUOT ? "disk full" : "write failed";
		unlink(tmp);
	}
	close(fd);
	return r;
}

static void maildir_staged_publish(struct maildir_staged *st)
{
	char tmp[PATH_MAX], dst[PATH_MAX];

	if (st->dir[0] == '\0' || st->name[0] == '\0') {
		st->error = "no staged file";	/* never rename "/tmp/" itself */
		return;
	}
	maildir_staged_paths(st, tmp, dst, NULL);
	if (st->flat ? renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0 : rename(tmp, dst) < 0) {
		st->error = "rename failed";
		unlink(tmp);
		return;
	}
	st->visible = true;
}

/* fsyncs the new/ (or cur/) of one folder; marks the folder's error on
 * failure. */
static void maildir_dir_sync_fn(void *item)
{
	struct maildir_staged *st = item;
	char newdir[PATH_MAX];

	maildir_staged_paths(st, NULL, NULL, newdir);
	if (fs_fsync_dir(newdir) < 0)
		st->error = "directory fsync failed";
}

/* fsyncs the new/ of every folder that got a file, each folder once. */
static void maildir_commit_dirs(struct maildir_staged **v, size_t n, struct fanout *f)
{
	void **dirs = malloc(n * sizeof(*dirs));
	size_t ndirs = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (!v[i]->visible || v[i]->journaled)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = v[j]->visible && !v[j]->journaled && maildir_staged_same_dir(v[j], v[i]);
		if (seen)
			continue;
		if (dirs != NULL)
			dirs[ndirs++] = v[i];
		else
			maildir_dir_sync_fn(v[i]);	/* no memory: one at a time */
	}
	fanout_run(f, maildir_dir_sync_fn, dirs, ndirs);
	free(dirs);
	/* a folder's error is its first file's: spread it to the others */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i && v[i]->visible && v[i]->error == NULL; j++) {
			if (v[j]->visible && v[j]->error != NULL && maildir_staged_same_dir(v[j], v[i]))
				v[i]->error = v[j]->error;
		}
	}
}

/* Journals the batch's Maildir copies (not flat files): each one the
 * journal took is marked journaled. */
static void maildir_commit_journal(struct maildir_staged **v, size_t n, struct journal *j)
{
	char tmp[PATH_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i]->flat)
			continue;
		maildir_staged_paths(v[i], tmp, NULL, NULL);
		v[i]->journaled = journal_add(j, v[i]->dir, v[i]->name, v[i]->flags, tmp) == 0;
		k += v[i]->journaled;
	}
	if (k > 0 && journal_sync(j) < 0) {
		for (size_t i = 0; i < n; i++)
			v[i]->journaled = false;
	}
}

static void maildir_staged_sync_fn(void *item)
{
	maildir_staged_sync(item);
}

/* fdatasyncs the copies the journal does not hold (none at all, most often:
 * then no sync thread wakes). */
static void maildir_commit_sync_rest(struct maildir_staged **v, size_t n, struct fanout *f)
{
	void **rest = malloc(n * sizeof(*rest));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i]->journaled)
			continue;
		if (rest != NULL)
			rest[k++] = v[i];
		else
			maildir_staged_sync(v[i]);	/* no memory: one at a time */
	}
	fanout_run(f, maildir_staged_sync_fn, rest, k);
	free(rest);
}

void maildir_commit_batch(void **items, size_t n, void *arg)
{
	struct maildir_staged **v = (struct maildir_staged **)items;
	struct maildir_committer *c = arg;
	struct fanout *f = c != NULL ? c->syncs : NULL;
	struct journal *j = c != NULL ? c->journal : NULL;

	for (size_t i = 0; i < n; i++) {
		v[i]->error = NULL;
		v[i]->visible = false;
		v[i]->journaled = false;
	}
	if (j != NULL) {
		journal_begin(j);
		maildir_commit_journal(v, n, j);
	}
	/* 1. the data of every file the journal does not hold, all at once:
	 * concurrent fdatasyncs share the journal commit and the cache flush */
	maildir_commit_sync_rest(v, n, f);
	/* 2. only whole files get a name in new/; a journaled one is known to
	 * the journal first, so its deletion waits for the checkpoint */
	for (size_t i = 0; i < n; i++) {
		if (v[i]->error != NULL)
			continue;
		if (v[i]->journaled)
			journal_published(j, v[i]->name);
		maildir_staged_publish(v[i]);
	}
	if (j != NULL)
		journal_end(j);
	/* 3. the names: one fsync per folder for the whole batch (folders
	 * whose copies are all in the journal need none) */
	maildir_commit_dirs(v, n, f);
}

void maildir_staged_discard(struct maildir_staged *st)
{
	char path[PATH_MAX];

	if (st == NULL || st->dir[0] == '\0' || st->name[0] == '\0')
		return;
	/* a journaled copy given up (another copy of the message failed, the
	 * client got a 451): past its checkpoint no replay can bring it back */
	if (st->journaled)
		journal_wait_durable(st->name);
	if (st->visible)
		maildir_staged_paths(st, NULL, path, NULL);
	else
		maildir_staged_paths(st, path, NULL, NULL);
	unlink(path);
	st->visible = false;
	st->name[0] = '\0';
}
