/* A mailbox's part of an account move on this node's disk: the freeze,
 * thaw and purge of the source, the tombstone, and the target's folder
 * import (store/mail_move.h). */
#include "store/mail_move.h"
#include "store/index_private.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOVE_TOMBSTONE_TEXT "This mailbox has moved to another node.\n"

int mail_move_frozen_path(const char *root, char *buf, size_t size)
{
	return snprintf(buf, size, "%s.moving", root) >= (int)size ? -1 : 0;
}

bool mail_move_is_gone(const char *root)
{
	struct stat st;

	return lstat(root, &st) == 0 && S_ISREG(st.st_mode);
}

enum mail_root_state mail_root_state(const char *root)
{
	struct stat st;

	if (lstat(root, &st) < 0)
		return errno == ENOENT ? MAIL_ROOT_DELETED : MAIL_ROOT_HERE;
	return S_ISREG(st.st_mode) ? MAIL_ROOT_MOVED : MAIL_ROOT_HERE;
}

static bool path_is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A tombstone at path, written and synced. */
static int tombstone_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -1;
	r = fs_write_all(fd, MOVE_TOMBSTONE_TEXT, strlen(MOVE_TOMBSTONE_TEXT));
	if (r == 0)
		r = fsync(fd);
	close(fd);
	return r;
}

/* The directory holding root, for the fsync that makes a rename last. */
static int parent_sync(const char *root)
{
	char dir[4096];
	char *slash;

	if (str_copy(dir, sizeof(dir), root) < 0 || (slash = strrchr(dir, '/')) == NULL)
		return -1;
	*slash = '\0';
	return fs_fsync_dir(dir[0] != '\0' ? dir : "/");
}

int mail_move_freeze(const char *root, const char **error_r)
{
	char frozen[4096], tomb[4200];

	if (mail_move_frozen_path(root, frozen, sizeof(frozen)) < 0 ||
	    snprintf(tomb, sizeof(tomb), "%s.tombstone", root) >= (int)sizeof(tomb)) {
		*error_r = "path too long";
		return -1;
	}
	if (mail_move_is_gone(root) && path_is_dir(frozen))
		return 0;	/* frozen before */
	if (!path_is_dir(root)) {
		*error_r = "the mailbox is not on this node's disk";
		return -1;
	}
	if (path_is_dir(frozen)) {
		*error_r = "a frozen copy is in the way (ROOT.moving)";
		return -1;
	}
	/* root is never missing: a writer that finds no mailbox makes one */
	if (tombstone_write(tomb) < 0 ||
	    renameat2(AT_FDCWD, tomb, AT_FDCWD, root, RENAME_EXCHANGE) < 0) {
		unlink(tomb);
		*error_r = "cannot put the tombstone in place";
		return -1;
	}
	if (rename(tomb, frozen) < 0) {
		*error_r = "cannot set the frozen copy aside";
		return -1;
	}
	if (parent_sync(root) < 0) {
		*error_r = "cannot sync the mail directory";
		return -1;
	}
	mcache_invalidate_root(root);
	store_changed(root);	/* sessions in IDLE look and say BYE */
	return 0;
}

int mail_move_thaw(const char *root, const char **error_r)
{
	char frozen[4096];

	if (mail_move_frozen_path(root, frozen, sizeof(frozen)) < 0) {
		*error_r = "path too long";
		return -1;
	}
	if (!path_is_dir(frozen))
		return 0;	/* not frozen */
	if (!mail_move_is_gone(root)) {
		*error_r = "the mailbox was made again meanwhile";
		return -1;
	}
	if (renameat2(AT_FDCWD, frozen, AT_FDCWD, root, RENAME_EXCHANGE) < 0 || unlink(frozen) < 0 ||
	    parent_sync(root) < 0) {
		*error_r = "cannot put the mailbox back";
		return -1;
	}
	store_changed(root);
	return 0;
}

int mail_move_purge(const char *root, const char **error_r)
{
	char frozen[4096];

	if (mail_move_frozen_path(root, frozen, sizeof(frozen)) < 0) {
		*error_r = "path too long";
		return -1;
	}
	if (!mail_move_is_gone(root)) {
		*error_r = "the mailbox is not frozen";
		return -1;
	}
	if (path_is_dir(frozen) && fs_remove_tree(frozen) < 0) {
		*error_r = "cannot remove the frozen copy";
		return -1;
	}
	mcache_invalidate_root(frozen);
	return 0;
}

int mail_move_clear(const char *root, const char **error_r)
{
	char frozen[4096];

	if (mail_move_frozen_path(root, frozen, sizeof(frozen)) < 0) {
		*error_r = "path too long";
		return -1;
	}
	if (!mail_move_is_gone(root))
		return 0;
	if ((path_is_dir(frozen) && fs_remove_tree(frozen) < 0) || unlink(root) < 0) {
		*error_r = "cannot remove the tombstone of an earlier move";
		return -1;
	}
	mcache_invalidate_root(root);
	return 0;
}

bool mail_move_file_is_moved(const char *rel)
{
	const char *name;

	if (strcmp(rel, "contacts.db") == 0)
		return true;
	if (strncmp(rel, "sieve/", 6) != 0)
		return false;
	name = rel + 6;
	/* one level, a plain name: no "..", no hidden or temporary files */
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL && strlen(name) < 256 &&
	       strstr(name, ".tmp") == NULL;
}

/* Messages in the folder's index rows: -1 on error. */
static int64_t import_count(struct mail_index *idx, int64_t id)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT count(*) FROM messages WHERE mailbox_id = ?");
	int64_t n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int mail_index_mailbox_import(struct mail_index *idx, const char *name, uint32_t uidvalidity,
			      uint32_t uidnext, uint64_t highestmodseq, const char **error_r)
{
	struct index_mailbox m;
	struct index_view view;
	sqlite3_stmt *st;
	int r = mail_index_mailbox_get(idx, name, &m);

	if (r == 0 && (mail_index_mailbox_create(idx, name, error_r) < 0 ||
		       (r = mail_index_mailbox_get(idx, name, &m)) <= 0)) {
		if (r == 0)
			*error_r = "[SERVERBUG] The folder made is not there";
		return -1;
	}
	if (r < 0 || uidvalidity == 0) {
		*error_r = r < 0 ? "[SERVERBUG] Index error" : "[CANNOT] UIDVALIDITY 0";
		return -1;
	}
	/* messages that reached the Maildir get their rows first */
	if (mail_index_sync(idx, &m, &view) < 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	index_view_free(&view);
	if (m.uidvalidity != uidvalidity && import_count(idx, m.id) != 0) {
		*error_r = "[CANNOT] The folder holds messages under another UIDVALIDITY";
		return -1;
	}
	st = idx_prepare(idx, "UPDATE mailboxes SET uidvalidity = ?, uidnext = max(uidnext, ?),"
			      " highestmodseq = max(highestmodseq, ?) WHERE id = ?");
	if (st == NULL) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	sqlite3_bind_int64(st, 1, uidvalidity);
	sqlite3_bind_int64(st, 2, uidnext);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)highestmodseq);
	sqlite3_bind_int64(st, 4, m.id);
	if (idx_step_done(st) < 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	mcache_invalidate(m.path);
	store_changed_cached(idx->root);
	return 0;
}
