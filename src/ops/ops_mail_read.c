/* Reading one message of a user's own mailbox (ops_mail.h): its index row
 * and its file, read again under its current name when another session
 * renamed it (a flag change) between the sync and the read. */
#include "ops/ops_mail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The row of uid: from the index's message cache when it holds the
 * folder (one lookup, whatever the folder's size), else, or when fresh is
 * asked (the cache missed, the file was gone), after a full sync. */
static int msg_find(struct ops_mailbox *mb, const char *folder, uint32_t uid, bool fresh,
		    struct index_mailbox *mbox, struct index_msg *msg_r, struct ops_error *err)
{
	struct index_view v;
	bool found = false;

	if (ops_mail_folder(mb, folder, mbox, err) < 0)
		return -1;
	if (!fresh && mail_index_rows(mb->idx, mbox, &uid, 1, &v) == 0) {
		if (v.count == 1 && v.msgs[0].uid == uid) {
			*msg_r = v.msgs[0];
			found = true;
		}
		index_view_free(&v);
		if (found)
			return 0;
	}
	if (mail_index_sync(mb->idx, mbox, &v) < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	for (size_t lo = 0, hi = v.count; lo < hi && !found;) {
		size_t mid = lo + (hi - lo) / 2;
		if (v.msgs[mid].uid == uid) {
			*msg_r = v.msgs[mid];
			found = true;
		} else if (v.msgs[mid].uid < uid) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	index_view_free(&v);
	if (!found)
		return ops_fail(err, "not_found", "uid", "no such message", "そのメールはありません");
	return 0;
}

/* Opens the message's file, syncing once more when it was renamed. */
static int msg_open(struct ops_mailbox *mb, const char *folder, uint32_t uid, struct index_mailbox *mbox,
		    struct index_msg *msg_r, char *path, size_t size, struct ops_error *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd;

		if (msg_find(mb, folder, uid, attempt > 0, mbox, msg_r, err) < 0)
			return -1;
		if (mail_index_msg_path(mbox, msg_r, path, size) < 0)
			break;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT)
			break;
	}
	return ops_fail(err, "not_found", "uid", "the message is gone", "そのメールはもうありません");
}

int ops_mail_read(struct ops_mailbox *mb, const char *folder, uint32_t uid, struct index_mailbox *mbox_r,
		  struct index_msg *msg_r, char **data_r, size_t *len_r, struct ops_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = msg_open(mb, folder, uid, mbox_r, msg_r, path, sizeof(path), err);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ops_fail(err, "internal", NULL, "the message cannot be read", "メールを読めません");
	}
	if ((uint64_t)st.st_size > OPS_MAIL_READ_MAX) {
		close(fd);
		return ops_fail(err, "too_large", NULL, "the message is too large to show; download its source",
				"メールが大きすぎて表示できません。ソースをダウンロードしてください");
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (buf == NULL)
		return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	buf[got] = '\0';
	*data_r = buf;
	*len_r = got;
	return 0;
}

int ops_mail_fd(struct ops_mailbox *mb, const char *folder, uint32_t uid, struct index_msg *msg_r,
		struct ops_error *err)
{
	struct index_mailbox mbox;
	char path[PATH_MAX];

	return msg_open(mb, folder, uid, &mbox, msg_r, path, sizeof(path), err);
}
