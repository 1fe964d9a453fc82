/* GET /api/v1/me/logins: a mail user's own login history, refused and
 * blocked attempts included, newest first (before, limit page it). An
 * administrator has no "me": it reads an account's through
 * ?address= within its scope (ops/ops_log.c decides). */
#include "http/api_admin.h"

void api_me_logins(struct api_job *j)
{
	struct api_page p = { NULL, j->ja, 0, 0 };
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
	api_page_begin(j, &p, "logins");
	if (ops_me_logins(&j->ops, &j->actor, address, &q, api_page_event_cb, &p, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_page_end(&p, q.limit);
	api_reply_end(j);
}
