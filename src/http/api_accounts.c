/* /api/v1/domains/{domain}/accounts[.csv|/bulk] and /api/v1/accounts/{address}:
 * listing (paged, searched), CSV export, adding one or many, reading,
 * changing (all or nothing), the password, lifting a suspension, deleting. */
#include "http/api.h"
#include "lib/str.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000

void api_json_account(struct api_job *j, struct json *out, const struct dir_account *a)
{
	uint64_t used;
	bool suspended;

	ops_account_status(&j->ops, a, &used, &suspended);
	json_object_begin(out);
	json_kv_string(out, "address", a->address);
	json_kv_uint(out, "quota_mb", a->quota_mb);
	json_kv_uint(out, "used_bytes", used);
	json_kv_string(out, settings_key(SETTING_MEMO), a->memo);
	json_kv_bool(out, settings_key(SETTING_ENABLED), a->enabled);
	json_kv_bool(out, "suspended", suspended);
	json_object_end(out);
}

static void api_account_reply(struct api_job *j, int status, const struct dir_account *a)
{
	struct json *o = api_reply(j, status);

	json_key(o, "account");
	api_json_account(j, o, a);
	api_reply_end(j);
}

static void api_row_json(const struct ops_account_row *row, void *ctx)
{
	struct json *o = ctx;
	const struct dir_account *a = row->a;

	json_object_begin(o);
	json_kv_string(o, "address", a->address);
	json_kv_uint(o, "quota_mb", a->quota_mb);
	json_kv_uint(o, "used_bytes", row->used_bytes);
	json_kv_string(o, settings_key(SETTING_MEMO), a->memo);
	json_kv_bool(o, settings_key(SETTING_ENABLED), a->enabled);
	json_kv_bool(o, "suspended", row->suspended);
	json_object_end(o);
}

/* A query number: def when absent; -1 (answered 400) when not digits or
 * past max. */
static int api_query_uint(struct api_job *j, const char *name, size_t def, size_t max, size_t *out)
{
	const char *v = api_query(j, name);
	size_t n = 0;

	*out = def;
	if (v == NULL)
		return 0;
	if (v[0] == '\0' || strlen(v) > 9 || strspn(v, "0123456789") != strlen(v) ||
	    (n = (size_t)strtoul(v, NULL, 10)) > max) {
		char en[120], ja[160];

		snprintf(en, sizeof(en), "%s must be a number from 0 to %zu", name, max);
		snprintf(ja, sizeof(ja), "%s は 0 から %zu までの数にしてください", name, max);
		api_error(j, 400, "invalid_field", name, en, ja);
		return -1;
	}
	*out = n;
	return 0;
}

void api_accounts_list(struct api_job *j)
{
	size_t offset, limit, total;
	struct ops_error err;
	struct json *o;

	if (api_query_uint(j, "offset", 0, 100000000, &offset) < 0 ||
	    api_query_uint(j, "limit", API_LIST_DEFAULT, API_LIST_MAX, &limit) < 0)
		return;
	o = api_reply(j, 200);
	json_key(o, "accounts");
	json_array_begin(o);
	/* limit 0: only the total */
	if (ops_account_list(&j->ops, &j->actor, j->params[0], api_query(j, "q"), limit > 0 ? offset : SIZE_MAX / 2,
			     limit > 0 ? limit : 1, api_row_json, o, &total, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	json_kv_uint(o, "total", total);
	api_reply_end(j);
}

/* One CSV field (RFC 4180): quoted when needed; text a spreadsheet would
 * take for a formula gets a leading apostrophe. */
static void api_csv_field(struct evbuffer *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		evbuffer_add(b, "\"", 1);
	if (strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
		evbuffer_add(b, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			evbuffer_add(b, "\"", 1);
		evbuffer_add(b, s, 1);
	}
	if (quote)
		evbuffer_add(b, "\"", 1);
}

static void api_row_csv(const struct ops_account_row *row, void *ctx)
{
	struct evbuffer *b = ctx;
	const struct dir_account *a = row->a;

	api_csv_field(b, a->address);
	evbuffer_add_printf(b, ",%u,%llu,", a->quota_mb, (unsigned long long)row->used_bytes);
	api_csv_field(b, a->memo);
	evbuffer_add_printf(b, ",%s,%s\r\n", a->enabled ? "yes" : "no", row->suspended ? "yes" : "no");
}

void api_accounts_csv(struct api_job *j)
{
	struct ops_error err;
	size_t total;

	j->raw = evbuffer_new();
	if (j->raw == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	evbuffer_add_printf(j->raw, "address,quota_mb,used_bytes,memo,enabled,suspended\r\n");
	if (ops_account_list(&j->ops, &j->actor, j->params[0], api_query(j, "q"), 0, 0, api_row_csv, j->raw,
			     &total, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 200;
	j->content_type = "text/csv; charset=utf-8";
	snprintf(j->disposition, sizeof(j->disposition), "attachment; filename=\"%s-accounts.csv\"",
		 j->params[0]);
}

/* Does address belong to domain (the path's)? */
static bool api_in_domain(const char *address, const char *domain)
{
	const char *at = strrchr(address, '@');

	return at != NULL && strcasecmp(at + 1, domain) == 0;
}

static void api_wrong_domain(struct api_job *j, unsigned line)
{
	char en[200], ja[240];
	struct ops_error err;

	memset(&err, 0, sizeof(err));
	snprintf(en, sizeof(en), "the address must be in the domain %s", j->params[0]);
	snprintf(ja, sizeof(ja), "アドレスはドメイン %s のものにしてください", j->params[0]);
	err.code = "invalid_address";
	err.field = line > 0 ? "text" : "address";	/* a bulk line is in the text */
	err.line = line;
	str_copy(err.en, sizeof(err.en), en);
	str_copy(err.ja, sizeof(err.ja), ja);
	api_ops_error(j, &err);
}

void api_account_add(struct api_job *j)
{
	const char *const names[] = { "address", "password", "quota_mb", settings_key(SETTING_MEMO), NULL };
	struct ops_account_new n = { NULL, NULL, "", 0, NULL };
	struct dir_account a;
	struct ops_error err;
	uint64_t quota = 0;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "address", &n.address) < 0 ||
	    api_body_string(j, "password", &n.password) < 0 || api_body_string(j, settings_key(SETTING_MEMO), &n.memo) < 0 ||
	    api_body_uint(j, "quota_mb", 1000000, &quota) < 0)
		return;
	if (n.address == NULL || n.password == NULL) {
		api_error(j, 400, "invalid_field", n.address == NULL ? "address" : "password",
			  "address and password are required", "アドレスとパスワードが必要です");
		return;
	}
	if (!api_in_domain(n.address, j->params[0])) {
		api_wrong_domain(j, 0);
		return;
	}
	n.quota_mb = (unsigned)quota;
	if (json_member(j->body, "quota_mb") != NULL && quota == 0) {
		api_error(j, 400, "invalid_quota", "quota_mb", "the quota must be 1 MB or more",
			  "容量は 1 MB 以上にしてください");
		return;
	}
	if (ops_account_add(&j->ops, &j->actor, &n, &a, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_account_reply(j, 201, &a);
}

void api_accounts_bulk(struct api_job *j)
{
	static const char *const names[] = { "text", NULL };
	const char *text = NULL;
	struct ops_error err;
	unsigned count = 0, line = 0;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "text", &text) < 0)
		return;
	if (text == NULL) {
		api_error(j, 400, "invalid_field", "text", "text is required", "text が必要です");
		return;
	}
	/* Every line's address must be in the path's domain. */
	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n"), alen = strcspn(p, ",\r\n");
		char address[DIR_ADDRESS_MAX + 2];

		line++;
		while (alen > 0 && (p[alen - 1] == ' ' || p[alen - 1] == '\t'))
			alen--;
		if (n > 0 && p[0] != '#' && strspn(p, " \t\r") < n) {
			const char *s = p + strspn(p, " \t");

			alen -= (size_t)(s - p);
			if (alen > DIR_ADDRESS_MAX) {
				api_wrong_domain(j, line);
				return;
			}
			str_copyn(address, sizeof(address), s, alen);
			if (!api_in_domain(address, j->params[0])) {
				api_wrong_domain(j, line);
				return;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (ops_account_add_bulk(&j->ops, &j->actor, text, &count, &err) < 0) {
		/* whatever a line gets wrong is in the request's text */
		api_ops_error_at(j, &err, err.field != NULL ? "text" : NULL);
		return;
	}
	o = api_reply(j, 200);
	json_kv_uint(o, "added", count);
	api_reply_end(j);
}

void api_account_get(struct api_job *j)
{
	struct dir_account a;
	struct ops_error err;

	if (ops_account_get(&j->ops, &j->actor, j->params[0], &a, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_account_reply(j, 200, &a);
}

/* The changes of a PATCH, in one transaction: false (answered) when one
 * fails, and then none is kept. */
static bool api_patch_apply(struct api_job *j, const char *address)
{
	const char *memo = NULL;
	uint64_t quota = 0;
	bool enabled = false, changed;
	int has_quota, has_memo, has_enabled;
	unsigned old;
	struct ops_error err;
	int r = 0;

	if ((has_quota = api_body_uint(j, "quota_mb", 1000000, &quota)) < 0 ||
	    (has_memo = api_body_string(j, settings_key(SETTING_MEMO), &memo)) < 0 ||
	    (has_enabled = api_body_bool(j, settings_key(SETTING_ENABLED), &enabled)) < 0)
		return false;
	if (directory_begin(j->ops.dir) < 0) {
		api_error(j, 503, "unavailable", NULL, "the directory is busy", "ディレクトリが混み合っています");
		return false;
	}
	if (has_quota > 0)
		r = ops_account_quota(&j->ops, &j->actor, address, (unsigned)quota, &old, &err);
	if (r == 0 && has_memo > 0)
		r = ops_account_memo(&j->ops, &j->actor, address, memo, &err);
	if (r == 0 && has_enabled > 0)
		r = ops_account_enable(&j->ops, &j->actor, address, enabled, &changed, &err);
	if (r == 0 && directory_commit(j->ops.dir) < 0)
		r = ops_fail(&err, "internal", NULL, "cannot save the changes", "変更を保存できません");
	if (r < 0) {
		directory_rollback(j->ops.dir);
		api_ops_error(j, &err);
		return false;
	}
	return true;
}

void api_account_patch(struct api_job *j)
{
	const char *const names[] = { "quota_mb", settings_key(SETTING_MEMO), settings_key(SETTING_ENABLED), NULL };
	struct dir_account a;
	struct ops_error err;

	if (!api_body_object(j) || !api_body_only(j, names))
		return;
	/* Read first: the scope check, and the canonical address. */
	if (ops_account_get(&j->ops, &j->actor, j->params[0], &a, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	if (ops_actor_role(&j->actor) == OPS_ACTOR_USER) {
		api_error(j, 403, "forbidden", NULL, "you may not change this account",
			  "このアカウントを変更する権限がありません");
		return;
	}
	if (!api_patch_apply(j, a.address))
		return;
	if (ops_account_get(&j->ops, &j->actor, a.address, &a, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_account_reply(j, 200, &a);
}

void api_account_password(struct api_job *j)
{
	static const char *const names[] = { "current", "password", NULL };
	const char *current = NULL, *password = NULL;
	struct ops_error err;
	bool lifted;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "current", &current) < 0 ||
	    api_body_string(j, "password", &password) < 0)
		return;
	if (password == NULL) {
		api_error(j, 400, "invalid_field", "password", "password is required", "password が必要です");
		return;
	}
	if (ops_account_passwd(&j->ops, &j->actor, j->params[0], current, password, &lifted, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}

void api_account_unsuspend(struct api_job *j)
{
	struct ops_error err;
	bool lifted;
	struct json *o;

	if (ops_account_unsuspend(&j->ops, &j->actor, j->params[0], &lifted, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_bool(o, "lifted", lifted);
	api_reply_end(j);
}

void api_account_del(struct api_job *j)
{
	struct ops_del_result r;
	struct ops_error err;
	struct dir_account a;
	struct json *o;

	if (ops_account_get(&j->ops, &j->actor, j->params[0], &a, &err) < 0 ||
	    ops_account_del(&j->ops, &j->actor, j->params[0], &r, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "deleted");
	json_object_begin(o);
	json_kv_string(o, "address", a.address);
	json_kv_uint(o, "messages", r.messages);
	json_kv_uint(o, "bytes", r.bytes);
	json_kv_bool(o, "mailbox_left", r.mailbox_left);
	if (r.node[0] != '\0')
		json_kv_string(o, "node", r.node);	/* the node that deletes the mailbox */
	json_object_end(o);
	api_reply_end(j);
}
