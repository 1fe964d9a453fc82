/* A mail user's own mailbox for the webmail (ops_mail.h): opening it, its
 * folders with their counts, and the user's own folders. */
#include "ops/ops_mail.h"
#include "lib/str.h"
#include "mail/charset.h"
#include "store/maildir.h"
#include "store/quota.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int ops_mail_open(struct ops *o, const struct ops_actor *actor, struct ops_mailbox *mb,
		  struct ops_error *err)
{
	struct dir_account a;
	char e[256];

	memset(mb, 0, sizeof(*mb));
	if (actor->kind != OPS_ACTOR_USER || strchr(actor->name, '@') == NULL)
		return ops_fail(err, "forbidden", NULL, "only a mail user reads its own mail",
				"メールを読めるのはメールユーザー本人だけです");
	if (directory_account_get(o->dir, actor->name, &a) <= 0 || !a.enabled)
		return ops_fail(err, "forbidden", NULL, "the account is not available",
				"このアカウントは利用できません");
	if (maildir_path(mb->root, sizeof(mb->root), o->data, a.domain, a.local) < 0 ||
	    (access(mb->root, F_OK) < 0 && maildir_create(mb->root) < 0))
		return ops_fail(err, "internal", NULL, "the mailbox cannot be opened",
				"メールボックスを開けません");
	mb->idx = mail_index_acquire(mb->root, e, sizeof(e));
	if (mb->idx == NULL)
		return ops_fail(err, "internal", NULL, "the mail index cannot be opened: %s",
				"メールのインデックスを開けません: %s", e);
	str_copy(mb->address, sizeof(mb->address), a.address);
	mb->quota_bytes = (uint64_t)a.quota_mb * 1024 * 1024;
	return 0;
}

void ops_mail_close(struct ops_mailbox *mb)
{
	if (mb->idx != NULL)
		mail_index_release(mb->idx);
	mb->idx = NULL;
}

uint64_t ops_mail_usage(struct ops_mailbox *mb)
{
	uint64_t used = 0;

	(void)quota_usage(mb->root, &used);
	return used;
}

const char *ops_mail_role(const struct index_mailbox *mbox)
{
	static const struct {
		const char *use, *role;
	} roles[] = {
		{ "\\Drafts", "drafts" }, { "\\Sent", "sent" }, { "\\Junk", "junk" }, { "\\Trash", "trash" },
	};

	if (strcasecmp(mbox->name, "INBOX") == 0)
		return "inbox";
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcasecmp(mbox->special_use, roles[i].use) == 0)
			return roles[i].role;
	}
	return NULL;
}

struct folder_list {
	struct index_mailbox *boxes;
	size_t n, cap;
};

static void folder_collect(const struct index_mailbox *mbox, void *ctx)
{
	struct folder_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap > 0 ? l->cap * 2 : 16;
		struct index_mailbox *b = realloc(l->boxes, cap * sizeof(*b));
		if (b == NULL)
			return;
		l->boxes = b;
		l->cap = cap;
	}
	l->boxes[l->n++] = *mbox;
}

/* The order a reader expects: Inbox, Drafts, Sent, Junk, Trash, then the
 * user's folders by name. */
static int folder_rank(const struct index_mailbox *m)
{
	static const char *const order[] = { "inbox", "drafts", "sent", "junk", "trash" };
	const char *role = ops_mail_role(m);

	for (int i = 0; role != NULL && i < 5; i++) {
		if (strcmp(role, order[i]) == 0)
			return i;
	}
	return 5;
}

static int folder_cmp(const void *a, const void *b)
{
	const struct index_mailbox *x = a, *y = b;
	int rx = folder_rank(x), ry = folder_rank(y);

	return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

int ops_mail_folders(struct ops_mailbox *mb, ops_mail_folder_cb *cb, void *ctx, struct ops_error *err)
{
	struct folder_list l = { NULL, 0, 0 };

	if (mail_index_mailbox_list(mb->idx, folder_collect, &l) < 0) {
		free(l.boxes);
		return ops_fail(err, "internal", NULL, "the folders cannot be read", "フォルダーを読めません");
	}
	qsort(l.boxes, l.n, sizeof(*l.boxes), folder_cmp);
	for (size_t i = 0; i < l.n; i++) {
		struct ops_mail_folder f = { &l.boxes[i], ops_mail_role(&l.boxes[i]), 0, 0, 0 };
		struct index_brief *rows;
		size_t n;

		if (mail_index_brief(mb->idx, &l.boxes[i], &rows, &n) == 0) {
			f.total = n;
			for (size_t k = 0; k < n; k++) {
				if ((rows[k].flags & INDEX_FLAG_SEEN) == 0)
					f.unseen++;
				f.bytes += rows[k].size;
			}
			free(rows);
		}
		cb(&f, ctx);
	}
	free(l.boxes);
	return 0;
}

int ops_mail_folder(struct ops_mailbox *mb, const char *name, struct index_mailbox *mbox_r,
		    struct ops_error *err)
{
	int r = mail_index_mailbox_get(mb->idx, name, mbox_r);

	if (r < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	if (r == 0)
		return ops_fail(err, "not_found", "folder", "no such folder", "そのフォルダーはありません");
	return 0;
}

struct role_find {
	const char *role;
	struct index_mailbox *out;
	bool found;
};

static void role_match(const struct index_mailbox *mbox, void *ctx)
{
	struct role_find *f = ctx;
	const char *role = ops_mail_role(mbox);

	if (!f->found && role != NULL && strcmp(role, f->role) == 0) {
		*f->out = *mbox;
		f->found = true;
	}
}

int ops_mail_folder_by_role(struct ops_mailbox *mb, const char *role, struct index_mailbox *mbox_r,
			    struct ops_error *err)
{
	struct role_find f = { role, mbox_r, false };

	if (mail_index_mailbox_list(mb->idx, role_match, &f) < 0 || !f.found)
		return ops_fail(err, "not_found", "folder", "the mailbox has no %s folder",
				"%s フォルダーがありません", role);
	return 0;
}

/* A name for a user's folder: UTF-8 without control characters, no empty
 * level, not a special folder's. */
static int folder_name_check(const char *name, struct ops_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > OPS_MAIL_FOLDER_NAME_MAX)
		return ops_fail(err, "invalid_name", "name", "a folder name has 1 to %d bytes",
				"フォルダー名は 1〜%d バイトにしてください", OPS_MAIL_FOLDER_NAME_MAX);
	if (!charset_utf8_is_valid(name, len))
		return ops_fail(err, "invalid_name", "name", "the folder name is not valid UTF-8",
				"フォルダー名の文字コードが正しくありません");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == '*' || c == '%')
			return ops_fail(err, "invalid_name", "name",
					"a folder name may not hold control characters, * or %%",
					"フォルダー名に制御文字や * %% は使えません");
	}
	if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") != NULL)
		return ops_fail(err, "invalid_name", "name", "a folder name has no empty level",
				"フォルダー名の / の前後を空にはできません");
	if (strcasecmp(name, "INBOX") == 0 || strncasecmp(name, "INBOX/", 6) == 0)
		return ops_fail(err, "invalid_name", "name", "INBOX is the inbox's name", "INBOX は受信箱の名前です");
	return 0;
}

static int store_error(struct ops_error *err, const char *error)
{
	if (strstr(error, "ALREADYEXISTS") != NULL)
		return ops_fail(err, "exists", "name", "a folder of that name exists",
				"同じ名前のフォルダーがあります");
	if (strstr(error, "NONEXISTENT") != NULL)
		return ops_fail(err, "not_found", "folder", "no such folder", "そのフォルダーはありません");
	if (strstr(error, "LIMIT") != NULL)
		return ops_fail(err, "invalid_name", "name", "the folder name is too long or too deep",
				"フォルダー名が長すぎるか、階層が深すぎます");
	return ops_fail(err, "internal", NULL, "%s", "%s", error);
}

int ops_mail_folder_create(struct ops_mailbox *mb, const char *name, struct ops_error *err)
{
	const char *error = NULL;

	if (folder_name_check(name, err) < 0)
		return -1;
	if (mail_index_mailbox_create(mb->idx, name, &error) < 0)
		return store_error(err, error);
	(void)mail_index_mailbox_subscribe(mb->idx, name, true, &error);
	return 0;
}

static int folder_is_special(struct ops_mailbox *mb, const char *name, struct ops_error *err)
{
	struct index_mailbox m;

	if (ops_mail_folder(mb, name, &m, err) < 0)
		return -1;
	if (ops_mail_role(&m) != NULL)
		return ops_fail(err, "forbidden", "folder", "the folder %s cannot be renamed or deleted",
				"%s フォルダーは名前の変更も削除もできません", m.name);
	return 0;
}

int ops_mail_folder_rename(struct ops_mailbox *mb, const char *from, const char *to, struct ops_error *err)
{
	const char *error = NULL;

	if (folder_is_special(mb, from, err) < 0 || folder_name_check(to, err) < 0)
		return -1;
	if (mail_index_mailbox_rename(mb->idx, from, to, &error) < 0)
		return store_error(err, error);
	(void)mail_index_mailbox_subscribe(mb->idx, from, false, &error);
	(void)mail_index_mailbox_subscribe(mb->idx, to, true, &error);
	return 0;
}

int ops_mail_folder_delete(struct ops_mailbox *mb, const char *name, struct ops_error *err)
{
	const char *error = NULL;

	if (folder_is_special(mb, name, err) < 0)
		return -1;
	if (mail_index_mailbox_delete(mb->idx, name, &error) < 0)
		return store_error(err, error);
	(void)mail_index_mailbox_subscribe(mb->idx, name, false, &error);
	return 0;
}
