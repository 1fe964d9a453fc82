/* The server's settings in DATA/yubin.conf, through the one settings
 * table: list, get and set for yubinctl config and the JSON API. Server
 * actors only; secrets leave masked unless the command line asks. */
#include "ops/ops_server.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPS_CONF_FILE_MAX (1 << 20)

static int ops_conf_may(const struct ops_actor *actor, bool show_secrets, struct ops_error *err)
{
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "only server administrators may see or change the"
				" server's settings", "サーバーの設定はサーバー管理者だけが扱えます");
	if (show_secrets && actor->kind != OPS_ACTOR_CLI)
		return ops_fail(err, "forbidden", NULL, "secret settings are shown on the command line only",
				"秘密の設定はコマンドラインでだけ表示できます");
	return 0;
}

static const struct setting *ops_conf_find(const char *key, struct ops_error *err)
{
	const struct setting *s = settings_find(key, SETTING_SERVER);

	if (s == NULL)
		ops_fail(err, "unknown_setting", "key", "unknown setting '%s' (yubinctl config list shows"
			 " every setting, yubinctl settings list server explains them)",
			 "設定 '%s' はありません (一覧は yubinctl config list、説明は yubinctl settings list"
			 " server)", key);
	return s;
}

/* Reads yubin.conf into cfg, and its text into text_r unless NULL. */
static int ops_conf_load(struct ops *o, struct config *cfg, char *path, size_t pathsize, char **text_r,
			 struct ops_error *err)
{
	size_t len;
	unsigned line = 0;
	const char *error;
	char *text;

	if ((size_t)snprintf(path, pathsize, "%s/yubin.conf", o->data) >= pathsize)
		return ops_fail(err, "internal", NULL, "the data directory's path is too long",
				"データディレクトリのパスが長すぎます");
	text = fs_read_file(path, OPS_CONF_FILE_MAX, &len);
	if (text == NULL) {
		if (errno == ENOENT)
			return ops_fail(err, "internal", NULL, "%s does not exist: create it with yubinctl -d %s"
					" init --hostname HOST, or pass -d DATA",
					"%s がありません: yubinctl -d %s init --hostname HOST で作ってください",
					path, o->data);
		return ops_fail(err, "internal", NULL, "cannot read %s: %s", "%s を読めません: %s", path,
				strerror(errno));
	}
	settings_conf_defaults(cfg);
	if (settings_conf_parse(cfg, text, len, &line, &error) < 0) {
		free(text);
		explicit_bzero(cfg, sizeof(*cfg));
		return ops_fail(err, "internal", NULL, "%s line %u: %s (fix that line first)",
				"%s の %u 行目: %s (先にその行を直してください)", path, line, error);
	}
	if (text_r != NULL)
		*text_r = text;
	else
		free(text);
	return 0;
}

int ops_conf_list(struct ops *o, const struct ops_actor *actor, bool show_secrets, ops_conf_cb *cb,
		  void *ctx, struct ops_error *err)
{
	struct config cfg;
	char path[PATH_MAX], value[OPS_CONF_VALUE_MAX];

	if (ops_conf_may(actor, show_secrets, err) < 0 ||
	    ops_conf_load(o, &cfg, path, sizeof(path), NULL, err) < 0)
		return -1;
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = settings_get(i);

		if (s->scopes != SETTING_SERVER)
			continue;
		if (settings_conf_get(&cfg, s->key, value, sizeof(value)) < 0)
			value[0] = '\0';
		cb(s, settings_display(s, value, show_secrets), ctx);
	}
	explicit_bzero(&cfg, sizeof(cfg));
	explicit_bzero(value, sizeof(value));
	return 0;
}

int ops_conf_get(struct ops *o, const struct ops_actor *actor, const char *key, bool show_secrets,
		 const struct setting **s_r, char *value, struct ops_error *err)
{
	const struct setting *s;
	struct config cfg;
	char path[PATH_MAX], raw[OPS_CONF_VALUE_MAX];

	if (ops_conf_may(actor, show_secrets, err) < 0 || (s = ops_conf_find(key, err)) == NULL ||
	    ops_conf_load(o, &cfg, path, sizeof(path), NULL, err) < 0)
		return -1;
	if (settings_conf_get(&cfg, s->key, raw, sizeof(raw)) < 0)
		raw[0] = '\0';
	explicit_bzero(&cfg, sizeof(cfg));
	str_copy(value, OPS_CONF_VALUE_MAX, settings_display(s, raw, show_secrets));
	explicit_bzero(raw, sizeof(raw));
	*s_r = s;
	return 0;
}

/* The reason a value was refused, with the allowed range for numbers; a
 * secret's value is never repeated. */
static int ops_conf_refuse(const struct setting *s, const char *value, const char *error,
			   struct ops_error *err)
{
	char type[256];

	if (s->flags & SETTING_SECRET)
		return ops_fail(err, "invalid_value", "value", "cannot set %s: %s", "%s を設定できません: %s",
				s->key, error);
	settings_type_text(s, type, sizeof(type));
	if (strcmp(error, "out of range") == 0)
		return ops_fail(err, "invalid_value", "value", "cannot set %s to '%s': out of range"
				" (allowed: %s)", "%s を '%s' にできません: 範囲外です (%s)", s->key, value, type);
	return ops_fail(err, "invalid_value", "value", "cannot set %s to '%s': %s",
			"%s を '%s' にできません: %s", s->key, value, error);
}

/* The new text of yubin.conf with key = value, checked to read back. */
static char *ops_conf_new_text(const char *text, const char *key, const char *value, struct ops_error *err)
{
	char *newtext = config_text_set(text, key, value);
	struct config check;
	const char *error;
	unsigned line;

	if (newtext == NULL) {
		ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
		return NULL;
	}
	settings_conf_defaults(&check);
	if (settings_conf_parse(&check, newtext, strlen(newtext), &line, &error) < 0) {
		free(newtext);
		ops_fail(err, "internal", NULL, "the changed yubin.conf would not read back (line %u: %s);"
			 " nothing was changed", "変更後の yubin.conf が読めません (%u 行目: %s)。何も変更して"
			 "いません", line, error);
		newtext = NULL;
	}
	explicit_bzero(&check, sizeof(check));
	return newtext;
}

static int ops_conf_write_locked(struct ops *o, const struct setting *s, const char *norm, char *old,
				 struct ops_error *err)
{
	char path[PATH_MAX], *text = NULL, *newtext;
	struct config cfg;
	struct stat st;
	mode_t mode = 0600;

	if (ops_conf_load(o, &cfg, path, sizeof(path), &text, err) < 0)
		return -1;
	settings_conf_get(&cfg, s->key, old, OPS_CONF_VALUE_MAX);
	explicit_bzero(&cfg, sizeof(cfg));
	newtext = ops_conf_new_text(text, s->key, norm, err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (newtext == NULL)
		return -1;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 0777;
	if (fs_write_file_atomic(path, newtext, strlen(newtext), mode) < 0) {
		int e = errno;

		explicit_bzero(newtext, strlen(newtext));
		free(newtext);
		return ops_fail(err, "internal", NULL, "cannot write %s: %s", "%s を書けません: %s", path,
				strerror(e));
	}
	explicit_bzero(newtext, strlen(newtext));
	free(newtext);
	return 0;
}

/* Serialises the read-modify-write of yubin.conf across yubinctl and the
 * daemon's API workers (DATA/yubin.conf.lock, flock): -1 when the lock
 * file cannot be made (then the change goes on unlocked, as before). */
static int ops_conf_lock(const struct ops *o)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/yubin.conf.lock", o->data) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);	/* flock needs no write access */
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Writes key = norm into yubin.conf atomically, keeping the file's mode;
 * the old value (raw) into old. */
static int ops_conf_write(struct ops *o, const struct setting *s, const char *norm, char *old,
			  struct ops_error *err)
{
	int lock = ops_conf_lock(o);
	int r = ops_conf_write_locked(o, s, norm, old, err);

	if (lock >= 0)
		close(lock);	/* releases the flock */
	return r;
}

int ops_conf_set(struct ops *o, const struct ops_actor *actor, const char *key, const char *value,
		 struct ops_conf_result *r, struct ops_error *err)
{
	const struct setting *s;
	char v[OPS_CONF_VALUE_MAX], norm[OPS_CONF_VALUE_MAX], old[OPS_CONF_VALUE_MAX];
	const char *error;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (ops_conf_may(actor, false, err) < 0 || (s = ops_conf_find(key, err)) == NULL)
		return -1;
	if (str_copy(v, sizeof(v), value) < 0)
		return ops_fail(err, "invalid_value", "value", "the value for %s is too long",
				"%s の値が長すぎます", s->key);
	/* The file keeps values trimmed; validate what will be read back. */
	memmove(v, str_trim(v), strlen(str_trim(v)) + 1);
	if (settings_check(s, "", v, norm, sizeof(norm), r->warn, sizeof(r->warn), &error) < 0) {
		rc = ops_conf_refuse(s, v, error, err);
		goto out;
	}
	if (ops_conf_write(o, s, norm, old, err) < 0)
		goto out;
	r->s = s;
	r->restart = (s->flags & SETTING_RESTART) != 0;
	str_copy(r->value, sizeof(r->value), settings_display(s, norm, false));
	str_copy(r->old, sizeof(r->old), settings_display(s, old, false));
	if (o->dir != NULL) {
		ops_event(o, actor, "config-changed", "", "%s = %s (was %s)", s->key, r->value, r->old);
		ops_audit(o, actor, "config.set", s->key, "%s = %s (was %s)", s->key, r->value, r->old);
	}
	if (o->conf_reload != NULL)
		r->reloaded = o->conf_reload(o);
	rc = 0;
out:
	explicit_bzero(v, sizeof(v));
	explicit_bzero(norm, sizeof(norm));
	explicit_bzero(old, sizeof(old));
	return rc;
}
