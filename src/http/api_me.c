/* GET /api/v1/me/logins: a mail user's own login history, refused and
 * blocked attempts included, newest first (before, limit page it). An
 * administrator has no "me": it reads an account's through
 * ?address= within its scope (ops/ops_log.c decides). */
#include "http/api_admin.h"

struct api_login_page {
	struct json *o;
	bool ja;
	unsigned n;
	int64_t last;
};

static void api_login_cb(const struct dir_event *e, void *ctx)
{
	struct api_login_page *p = ctx;

	api_json_event(p->o, e, p->ja);
	p->n++;
	p->last = e->id;
}

void api_me_logins(struct api_job *j)
{
	struct api_login_page p = { NULL, j->ja, 0, 0 };
	const char *address = api_query(j, "address");
	struct ops_log_query q;
	struct ops_error err;

	if (!api_log_query(j, &q))
		return;
	if (address == NULL && ops_actor_role(&j->actor) != OPS_ACTOR_USER) {
		api_error(j, 400, "invalid_field", "address", "an administrator gives the account: ?address=",
			  "管理者はアカウントを ?address= で指定してください");
		return;
	}
	p.o = api_reply(j, 200);
	json_key(p.o, "logins");
	json_array_begin(p.o);
	if (ops_me_logins(&j->ops, &j->actor, address, &q, api_login_cb, &p, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(p.o);
	json_key(p.o, "next_before");
	if (p.n > 0 && p.n == (q.limit == 0 ? OPS_LOG_LIMIT_DEFAULT : q.limit))
		json_int(p.o, p.last);
	else
		json_null(p.o);
	api_reply_end(j);
}
