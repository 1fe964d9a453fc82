/* The outbound queue (DATA/queue, store/queue_file.h): list, show, retry
 * now, delete. A retry sets the file's next-attempt time (its mtime) to
 * now and tells the runner through o->queue_wake: yubinctl signals a
 * running yubind (SIGUSR1), the daemon's own API wakes its scheduler. */
#include "ops/ops_server.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ops_qids {
	char (*ids)[QUEUE_ID_MAX];
	size_t n;
};

static int ops_qid_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The queue's ids in order (oldest first: ids begin with the time). */
static int ops_queue_ids(struct ops *o, struct ops_qids *l, struct ops_error *err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	memset(l, 0, sizeof(*l));
	snprintf(dir, sizeof(dir), "%s/queue", o->data);
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return ops_fail(err, "internal", NULL, "cannot read %s: %s", "%s を読めません: %s", dir,
				strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (!queue_id_is_valid(de->d_name))
			continue;
		if (l->n == cap) {
			void *more = realloc(l->ids, (cap == 0 ? 64 : cap * 2) * QUEUE_ID_MAX);

			if (more == NULL) {
				closedir(d);
				free(l->ids);
				return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
			}
			l->ids = more;
			cap = cap == 0 ? 64 : cap * 2;
		}
		str_copy(l->ids[l->n++], QUEUE_ID_MAX, de->d_name);
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->ids, l->n, QUEUE_ID_MAX, ops_qid_cmp);
	return 0;
}

/* May actor see a message from this sender? */
static bool ops_queue_mine(const struct ops_actor *actor, const struct queue_env *env)
{
	const char *at = strrchr(env->from, '@');

	if (ops_may_server(actor))
		return true;
	return ops_actor_role(actor) == OPS_ACTOR_DOMAIN_ADMIN && at != NULL && ops_may_domain(actor, at + 1);
}

static bool ops_queue_may(const struct ops_actor *actor)
{
	return ops_may_server(actor) || ops_actor_role(actor) == OPS_ACTOR_DOMAIN_ADMIN;
}

static int ops_queue_forbidden(struct ops_error *err)
{
	return ops_fail(err, "forbidden", NULL, "you may not manage the queue", "キューを管理する権限がありません");
}

int ops_queue_list(struct ops *o, const struct ops_actor *actor, ops_queue_cb *cb, void *ctx,
		   struct ops_error *err)
{
	struct ops_qids l;

	memset(err, 0, sizeof(*err));
	if (!ops_queue_may(actor))
		return ops_queue_forbidden(err);
	if (ops_queue_ids(o, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		char path[PATH_MAX];
		struct queue_env env;
		const char *error;

		snprintf(path, sizeof(path), "%s/queue/%s", o->data, l.ids[i]);
		if (queue_file_read(path, &env, &error) < 0)
			continue;	/* delivered meanwhile */
		if (ops_queue_mine(actor, &env))
			cb(&env, ctx);
		queue_env_free(&env);
	}
	free(l.ids);
	return 0;
}

/* The path of message id after the checks; env_r read when not NULL
 * (else freed here). A message out of scope reads as missing. */
static int ops_queue_open(struct ops *o, const struct ops_actor *actor, const char *id, char *path, size_t size,
			  struct queue_env *env_r, struct ops_error *err)
{
	struct queue_env env;
	const char *error;

	memset(err, 0, sizeof(*err));
	if (!ops_queue_may(actor))
		return ops_queue_forbidden(err);
	if (!queue_id_is_valid(id))
		return ops_fail(err, "invalid_id", "id", "'%s' is not a queue id (see yubinctl queue list)",
				"'%s' はキュー ID ではありません", id);
	snprintf(path, size, "%s/queue/%s", o->data, id);
	if (queue_file_read(path, &env, &error) < 0) {
		if (access(path, F_OK) == 0)
			return ops_fail(err, "internal", NULL, "%s: %s", "%s: %s", id, error);
		goto missing;
	}
	if (!ops_queue_mine(actor, &env)) {
		queue_env_free(&env);
		goto missing;
	}
	if (env_r != NULL)
		*env_r = env;
	else
		queue_env_free(&env);
	return 0;
missing:
	return ops_fail(err, "not_found", "id", "no message %s in the queue (delivered or deleted?)",
			"キューにメッセージ %s はありません (配送済みか削除済み)", id);
}

/* The header block of the message at path from off, LF line ends. */
static char *ops_queue_header(const char *path, uint64_t off, uint64_t len)
{
	char line[1024], *out = malloc(OPS_QUEUE_HEADER_MAX + 1);
	size_t used = 0;
	FILE *f;

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	f = fopen(path, "rb");
	if (f == NULL || fseeko(f, (off_t)off, SEEK_SET) != 0)
		goto done;
	while (len > 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		len = n > len ? 0 : len - n;
		if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0)
			break;
		line[strcspn(line, "\r\n")] = '\0';
		n = strlen(line);
		if (used + n + 1 > OPS_QUEUE_HEADER_MAX)
			break;
		memcpy(out + used, line, n);
		used += n;
		out[used++] = '\n';
		out[used] = '\0';
	}
done:
	if (f != NULL)
		fclose(f);
	return out;
}

int ops_queue_show(struct ops *o, const struct ops_actor *actor, const char *id, struct queue_env *env_r,
		   char **header_r, struct ops_error *err)
{
	char path[PATH_MAX];

	*header_r = NULL;
	if (ops_queue_open(o, actor, id, path, sizeof(path), env_r, err) < 0)
		return -1;
	*header_r = ops_queue_header(path, env_r->body_off, env_r->body_len);
	if (*header_r == NULL) {
		queue_env_free(env_r);
		return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	}
	return 0;
}

int ops_queue_retry(struct ops *o, const struct ops_actor *actor, const char *id, size_t *count_r,
		    bool *woken_r, struct ops_error *err)
{
	char path[PATH_MAX];
	int64_t now = (int64_t)time(NULL);
	struct ops_qids l;

	*count_r = 0;
	*woken_r = false;
	if (id != NULL) {
		if (ops_queue_open(o, actor, id, path, sizeof(path), NULL, err) < 0)
			return -1;
		if (queue_file_set_next(path, now) < 0)
			return ops_fail(err, "internal", NULL, "cannot update %s: %s", "%s を更新できません: %s",
					path, strerror(errno));
		*count_r = 1;
	} else {
		memset(err, 0, sizeof(*err));
		if (!ops_queue_may(actor))
			return ops_queue_forbidden(err);
		if (ops_queue_ids(o, &l, err) < 0)
			return -1;
		for (size_t i = 0; i < l.n; i++) {
			struct queue_env env;
			const char *error;

			snprintf(path, sizeof(path), "%s/queue/%s", o->data, l.ids[i]);
			if (queue_file_read(path, &env, &error) < 0)
				continue;
			if (ops_queue_mine(actor, &env))
				*count_r += queue_file_set_next(path, now) == 0;
			queue_env_free(&env);
		}
		free(l.ids);
	}
	*woken_r = o->queue_wake != NULL && o->queue_wake(o);
	ops_audit(o, actor, "queue.retry", id != NULL ? id : "", "%zu message%s due now", *count_r,
		  *count_r == 1 ? "" : "s");
	return 0;
}

int ops_queue_delete(struct ops *o, const struct ops_actor *actor, const char *id, struct ops_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct queue_env env;

	if (ops_queue_open(o, actor, id, path, sizeof(path), &env, err) < 0)
		return -1;
	if (unlink(path) < 0) {
		queue_env_free(&env);
		if (errno == ENOENT)
			return ops_fail(err, "not_found", "id", "no message %s in the queue (delivered or deleted?)",
					"キューにメッセージ %s はありません (配送済みか削除済み)", id);
		return ops_fail(err, "internal", NULL, "cannot delete %s: %s", "%s を削除できません: %s", path,
				strerror(errno));
	}
	snprintf(dir, sizeof(dir), "%s/queue", o->data);
	fs_fsync_dir(dir);
	ops_audit(o, actor, "queue.delete", id, "from <%s>, %zu recipient%s, %zu pending, no bounce", env.from,
		  env.nrcpts, env.nrcpts == 1 ? "" : "s", queue_env_pending(&env));
	queue_env_free(&env);
	return 0;
}

const char *ops_queue_rcpt_state_name(enum queue_rcpt_state s)
{
	return s == QUEUE_DELIVERED ? "delivered" : s == QUEUE_FAILED ? "failed" : "pending";
}
