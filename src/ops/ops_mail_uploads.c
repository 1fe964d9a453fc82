/* Attachments uploaded ahead of a draft (ops_mail_write.h): ROOT/uploads/ID.data
 * with ID.meta beside it ("expires\ncontent type\nfile name\n"), under the
 * account's own Maildir++ root, so another account's id is simply not
 * there. The directory has no leading dot: Maildir++ folder scans and the
 * quota never see it; its own bound is twice the message size limit and
 * OPS_UPLOAD_FILES_MAX files, and a day's lifetime. */
#include "ops/ops_mail_write.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "mail/charset.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool upload_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n != OPS_UPLOAD_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	}
	return true;
}

static int upload_dir(struct ops *o, const struct ops_actor *actor, char *dir, size_t size,
		      struct ops_error *err)
{
	char root[PATH_MAX];
	struct dir_account a;

	if (ops_mail_account(o, actor, &a, root, sizeof(root), err) < 0)
		return -1;
	if (snprintf(dir, size, "%s/uploads", root) >= (int)size)
		return ops_fail(err, "internal", NULL, "path too long", "パスが長すぎます");
	return 0;
}

/* Reads ID.meta into u: 0, or -1 when missing or unreadable. */
static int meta_read(const char *dir, const char *id, struct ops_upload *u)
{
	char path[PATH_MAX], *text, *ct, *fn, *end;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.meta", dir, id);
	text = fs_read_file(path, 2048, &len);
	if (text == NULL)
		return -1;
	ct = strchr(text, '\n');
	fn = ct != NULL ? strchr(ct + 1, '\n') : NULL;
	end = fn != NULL ? strchr(fn + 1, '\n') : NULL;
	if (end == NULL) {
		free(text);
		return -1;
	}
	*ct++ = '\0';
	*fn++ = '\0';
	*end = '\0';
	memset(u, 0, sizeof(*u));
	str_copy(u->id, sizeof(u->id), id);
	u->expires = strtoll(text, NULL, 10);
	str_copy(u->content_type, sizeof(u->content_type), ct);
	str_copy(u->filename, sizeof(u->filename), fn);
	free(text);
	snprintf(path, sizeof(path), "%s/%s.data", dir, id);
	if (stat(path, &st) < 0)
		return -1;
	u->size = (uint64_t)st.st_size;
	return 0;
}

static void upload_remove(const char *dir, const char *id)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.data", dir, id);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.meta", dir, id);
	unlink(path);
}

/* A data file without its meta, or a temporary file, left by a crash:
 * removed once it is older than an upload lives. */
static void orphan_remove(const char *dir, const char *name, int64_t now)
{
	char path[PATH_MAX], meta[PATH_MAX];
	size_t n = strlen(name);
	struct stat st;

	if (name[0] == '.')
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n == OPS_UPLOAD_ID_LEN + 5 && strcmp(name + OPS_UPLOAD_ID_LEN, ".data") == 0) {
		snprintf(meta, sizeof(meta), "%s/%.*s.meta", dir, OPS_UPLOAD_ID_LEN, name);
		if (access(meta, F_OK) == 0)
			return;
	} else if (strstr(name, ".tmp.") == NULL) {
		return;
	}
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (int64_t)st.st_mtime + OPS_UPLOAD_LIFETIME < now)
		unlink(path);
}

/* Removes expired uploads (and halves left by a crash); the bytes and
 * files left into *bytes_r, *files_r. */
static void upload_sweep(const char *dir, int64_t now, uint64_t *bytes_r, unsigned *files_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*bytes_r = 0;
	*files_r = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		char id[OPS_UPLOAD_ID_LEN + 1];
		struct ops_upload u;
		size_t n = strlen(de->d_name);

		if (n != OPS_UPLOAD_ID_LEN + 5 || strcmp(de->d_name + OPS_UPLOAD_ID_LEN, ".meta") != 0) {
			orphan_remove(dir, de->d_name, now);
			continue;
		}
		memcpy(id, de->d_name, OPS_UPLOAD_ID_LEN);
		id[OPS_UPLOAD_ID_LEN] = '\0';
		if (!upload_id_ok(id))
			continue;
		if (meta_read(dir, id, &u) < 0 || u.expires <= now) {
			upload_remove(dir, id);
			continue;
		}
		*bytes_r += u.size;
		(*files_r)++;
	}
	if (d != NULL)
		closedir(d);
}

/* The file name as stored: valid UTF-8, no control characters, no path
 * separators, at most COMPOSE_FILENAME_MAX bytes. */
static int filename_clean(const char *in, char *out, size_t size, struct ops_error *err)
{
	size_t n = strlen(in), o = 0;

	if (n == 0 || n > COMPOSE_FILENAME_MAX || !charset_utf8_is_valid(in, n))
		return ops_fail(err, "invalid_filename", "filename",
				"the file name must be 1 to %d bytes of UTF-8", "ファイル名は UTF-8 で 1〜%d バイトにしてください",
				COMPOSE_FILENAME_MAX);
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)in[i];
		out[o++] = c < 0x20 || c == 0x7f ? ' ' : c == '/' || c == '\\' ? '_' : (char)c;
	}
	out[o] = '\0';
	return 0;
}

static void type_clean(const char *in, char *out, size_t size)
{
	const char *slash = in != NULL ? strchr(in, '/') : NULL;
	size_t n = 0;

	str_copy(out, size, "application/octet-stream");
	if (slash == NULL || slash == in || strlen(in) >= size)
		return;
	while (in[n] != '\0' && in[n] != ';' && in[n] != ' ')
		n++;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,:\\\"[]?=", c) != NULL || (c == '/' && in + i != slash))
			return;
	}
	if (slash - in + 1 >= (long)n)
		return;
	memcpy(out, in, n);
	out[n] = '\0';
	str_lower(out);
}

int ops_upload_add(struct ops *o, const struct ops_actor *actor, const char *filename,
		   const char *content_type, const void *data, size_t len, uint64_t max_size,
		   int64_t now, struct ops_upload *u_r, struct ops_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX], meta[600];
	unsigned char raw[OPS_UPLOAD_ID_LEN / 2];
	uint64_t bytes;
	unsigned files;

	memset(u_r, 0, sizeof(*u_r));
	if (upload_dir(o, actor, dir, sizeof(dir), err) < 0 ||
	    filename_clean(filename != NULL ? filename : "", u_r->filename, sizeof(u_r->filename), err) < 0)
		return -1;
	if (len > max_size)
		return ops_fail(err, "too_large", NULL, "the file is larger than a message may be (%llu bytes)",
				"ファイルがメールの上限 (%llu バイト) より大きいです", (unsigned long long)max_size);
	if (fs_mkdir_p(dir, 0700) < 0)
		return ops_fail(err, "internal", NULL, "cannot make the upload area", "アップロード領域を作れません");
	upload_sweep(dir, now, &bytes, &files);
	if (files >= OPS_UPLOAD_FILES_MAX || bytes + len > 2 * max_size)
		return ops_fail(err, "too_large", NULL,
				"too many uploads waiting: send or delete drafts, or remove uploads",
				"送信待ちのアップロードが多すぎます。下書きを送信・削除するか、アップロードを削除してください");
	type_clean(content_type, u_r->content_type, sizeof(u_r->content_type));
	randombytes_buf(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(u_r->id + 2 * i, 3, "%02x", raw[i]);
	u_r->size = len;
	u_r->expires = now + OPS_UPLOAD_LIFETIME;
	snprintf(path, sizeof(path), "%s/%s.data", dir, u_r->id);
	if (fs_write_file_atomic(path, data, len, 0600) < 0)
		return ops_fail(err, "internal", NULL, "cannot store the file", "ファイルを保存できません");
	snprintf(meta, sizeof(meta), "%lld\n%s\n%s\n", (long long)u_r->expires, u_r->content_type, u_r->filename);
	snprintf(path, sizeof(path), "%s/%s.meta", dir, u_r->id);
	if (fs_write_file_atomic(path, meta, strlen(meta), 0600) < 0) {
		upload_remove(dir, u_r->id);
		return ops_fail(err, "internal", NULL, "cannot store the file", "ファイルを保存できません");
	}
	return 0;
}

static int upload_not_found(struct ops_error *err)
{
	return ops_fail(err, "not_found", "upload", "no such upload (it may have expired)",
			"そのアップロードはありません (期限切れかもしれません)");
}

int ops_upload_del(struct ops *o, const struct ops_actor *actor, const char *id, struct ops_error *err)
{
	char dir[PATH_MAX];
	struct ops_upload u;

	if (upload_dir(o, actor, dir, sizeof(dir), err) < 0)
		return -1;
	if (!upload_id_ok(id) || meta_read(dir, id, &u) < 0)
		return upload_not_found(err);
	upload_remove(dir, id);
	return 0;
}

int ops_upload_read(struct ops *o, const struct ops_actor *actor, const char *id, int64_t now,
		    struct ops_upload *u_r, struct ops_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	size_t len;

	if (upload_dir(o, actor, dir, sizeof(dir), err) < 0)
		return -1;
	if (!upload_id_ok(id) || meta_read(dir, id, u_r) < 0 || u_r->expires <= now)
		return upload_not_found(err);
	snprintf(path, sizeof(path), "%s/%s.data", dir, id);
	u_r->data = fs_read_file(path, u_r->size + 1, &len);
	if (u_r->data == NULL)
		return upload_not_found(err);
	u_r->size = len;
	return 0;
}
