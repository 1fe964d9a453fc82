/* Changes the webmail makes to a user's own mailbox (ops_mail.h): flags,
 * move and copy, delete (to Trash, or for good in Trash), emptying Trash
 * and Junk. Each goes through the index as IMAP's STORE, MOVE, COPY and
 * EXPUNGE do, so IMAP sessions see it at their next command (new MODSEQ,
 * EXPUNGE) and IDLE is woken by the index's own change report. */
#include "ops/ops_mail.h"
#include "store/quota.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The row of uid in a view sorted by UID, or NULL. */
static struct index_msg *view_find(const struct index_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->msgs[mid].uid == uid)
			return &v->msgs[mid];
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Opens folder and syncs it into v. */
static int folder_sync(struct ops_mailbox *mb, const char *folder, struct index_mailbox *mbox,
		       struct index_view *v, struct ops_error *err)
{
	if (ops_mail_folder(mb, folder, mbox, err) < 0)
		return -1;
	if (mail_index_sync(mb->idx, mbox, v) < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	return 0;
}

int ops_mail_flags(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		   uint32_t set, uint32_t clear, size_t *changed_r, struct ops_error *err)
{
	struct index_mailbox mbox;
	struct index_view v;
	struct index_flag_change *ch;
	size_t nch = 0;
	int ret = 0;

	*changed_r = 0;
	if (folder_sync(mb, folder, &mbox, &v, err) < 0)
		return -1;
	ch = calloc(n > 0 ? n : 1, sizeof(*ch));
	if (ch == NULL) {
		index_view_free(&v);
		return ops_fail(err, "internal", NULL, "out of memory", "メモリが足りません");
	}
	for (size_t i = 0; i < n; i++) {
		struct index_msg *m = view_find(&v, uids[i]);
		uint32_t flags;

		if (m == NULL)
			continue;
		flags = (m->flags | set) & ~clear;
		if (flags != m->flags)
			ch[nch++] = (struct index_flag_change){ .msg = m, .flags = flags };
	}
	mail_index_set_flags_many(mb->idx, &mbox, ch, nch);
	for (size_t i = 0; i < nch; i++) {
		if (ch[i].result == 0)
			(*changed_r)++;
		else
			ret = -1;
	}
	free(ch);
	index_view_free(&v);
	if (ret < 0)
		return ops_fail(err, "internal", NULL, "the flags could not be changed",
				"フラグを変更できませんでした");
	return 0;
}

/* Moves or copies the messages of v named by uids from src to dst. */
static int move_msgs(struct ops_mailbox *mb, struct index_mailbox *src, struct index_view *v,
		     const uint32_t *uids, size_t n, struct index_mailbox *dst, bool copy, size_t *done_r,
		     struct ops_error *err)
{
	const struct ops_mail_learn *l = mb->learn;
	const struct index_msg **msgs;
	uint32_t *new_uids;
	int *lis;		/* each message's place in the learning batch */
	size_t nmsgs = 0;
	void *batch = NULL;
	const char *error = NULL;
	uint64_t bytes = 0;
	char path[PATH_MAX];

	*done_r = 0;
	if (src->id == dst->id)
		return 0;
	for (size_t i = 0; copy && i < n; i++) {
		const struct index_msg *m = view_find(v, uids[i]);
		if (m != NULL)
			bytes += m->size;
	}
	if (copy && !quota_reserve(mb->root, bytes, mb->quota_bytes))
		return ops_fail(err, "over_quota", NULL, "the mailbox is full: delete mail or empty the Trash",
				"メールボックスがいっぱいです。不要なメールを削除し、ごみ箱を空にしてください");
	if (l != NULL)
		batch = l->begin(mb->address, src->name, src->special_use, dst->name, dst->special_use);
	msgs = calloc(n > 0 ? n : 1, sizeof(*msgs));
	lis = calloc(n > 0 ? n : 1, sizeof(*lis));
	new_uids = calloc(n > 0 ? n : 1, sizeof(*new_uids));
	for (size_t i = 0; msgs != NULL && lis != NULL && new_uids != NULL && i < n; i++) {
		const struct index_msg *m = view_find(v, uids[i]);

		if (m == NULL)
			continue;
		lis[nmsgs] = -1;
		if (batch != NULL && mail_index_msg_path(src, m, path, sizeof(path)) == 0)
			lis[nmsgs] = l->add(batch, path);	/* read before a move renames it */
		msgs[nmsgs++] = m;
	}
	if (msgs == NULL || lis == NULL || new_uids == NULL)
		error = "out of memory";
	else if (nmsgs > 0)
		*done_r = mail_index_copy_many(mb->idx, src, msgs, nmsgs, dst, !copy, new_uids, &error);
	for (size_t i = 0; i < nmsgs; i++) {
		if (i >= *done_r && batch != NULL)
			l->drop(batch, lis[i]);
		else if (i < *done_r && copy)
			bytes -= msgs[i]->size;
	}
	free(msgs);
	free(lis);
	free(new_uids);
	if (copy && bytes > 0)
		quota_release(mb->root, bytes);	/* what was not copied */
	if (batch != NULL)
		l->submit(batch);
	if (error != NULL)
		return ops_fail(err, "internal", NULL, "moving failed: %s", "移動できませんでした: %s", error);
	return 0;
}

int ops_mail_move(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		  const char *dst_name, bool copy, size_t *done_r, struct ops_error *err)
{
	struct index_mailbox src, dst;
	struct index_view v;
	int r;

	*done_r = 0;
	if (ops_mail_folder(mb, dst_name, &dst, err) < 0) {
		err->field = "to";
		return -1;
	}
	if (folder_sync(mb, folder, &src, &v, err) < 0)
		return -1;
	r = move_msgs(mb, &src, &v, uids, n, &dst, copy, done_r, err);
	index_view_free(&v);
	return r;
}

/* Expunges the messages of v named by uids (all when uids is NULL). */
static int expunge_msgs(struct ops_mailbox *mb, struct index_mailbox *mbox, struct index_view *v,
			const uint32_t *uids, size_t n, size_t *done_r, uint64_t *freed_r, struct ops_error *err)
{
	struct index_msg *gone = calloc(v->count > 0 ? v->count : 1, sizeof(*gone));
	size_t k = 0;

	if (gone == NULL)
		return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	*freed_r = 0;
	if (uids == NULL) {
		for (size_t i = 0; i < v->count; i++)
			gone[k++] = v->msgs[i];
	}
	for (size_t i = 0; uids != NULL && i < n && k < v->count; i++) {
		const struct index_msg *m = view_find(v, uids[i]);
		if (m != NULL)
			gone[k++] = *m;
	}
	for (size_t i = 0; i < k; i++)
		*freed_r += gone[i].size;
	if (k > 0 && mail_index_expunge(mb->idx, mbox, gone, k) < 0) {
		free(gone);
		*freed_r = 0;
		return ops_fail(err, "internal", NULL, "the messages could not be removed",
				"メールを削除できませんでした");
	}
	free(gone);
	*done_r = k;
	return 0;
}

int ops_mail_delete(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		    size_t *done_r, uint64_t *freed_r, struct ops_error *err)
{
	struct index_mailbox src, trash;
	struct index_view v;
	const char *role;
	int r;

	*done_r = 0;
	*freed_r = 0;
	if (folder_sync(mb, folder, &src, &v, err) < 0)
		return -1;
	role = ops_mail_role(&src);
	if (role != NULL && strcmp(role, "trash") == 0)
		r = expunge_msgs(mb, &src, &v, uids, n, done_r, freed_r, err);
	else if (ops_mail_folder_by_role(mb, "trash", &trash, err) < 0)
		r = -1;
	else
		r = move_msgs(mb, &src, &v, uids, n, &trash, false, done_r, err);
	index_view_free(&v);
	return r;
}

int ops_mail_empty(struct ops_mailbox *mb, const char *folder, size_t *count_r, uint64_t *freed_r,
		   struct ops_error *err)
{
	struct index_mailbox mbox;
	struct index_view v;
	const char *role;
	int r;

	*count_r = 0;
	*freed_r = 0;
	if (ops_mail_folder(mb, folder, &mbox, err) < 0)
		return -1;
	role = ops_mail_role(&mbox);
	if (role == NULL || (strcmp(role, "trash") != 0 && strcmp(role, "junk") != 0))
		return ops_fail(err, "forbidden", "folder", "only Trash and Junk can be emptied",
				"空にできるのはごみ箱と迷惑メールだけです");
	if (mail_index_sync(mb->idx, &mbox, &v) < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	r = expunge_msgs(mb, &mbox, &v, NULL, 0, count_r, freed_r, err);
	index_view_free(&v);
	return r;
}
