/* POST /api/v1/mail/uploads?filename=NAME (the body is the file, its
 * Content-Type the attachment's) and DELETE /api/v1/mail/uploads/{id}
 * (api_mail_write.h; ops_mail_uploads.c keeps them). The route takes
 * bodies up to smtp.max_message_size (API_UPLOAD). */
#include "http/api_mail_write.h"
#include "http/api_admin.h"

#include <event2/http.h>
#include <time.h>

void api_mail_upload_add(struct api_job *j)
{
	const char *name = api_query(j, "filename");
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(j->req), "Content-Type");
	struct ops_upload u;
	struct ops_error err;
	struct json *o;

	if (name == NULL) {
		api_error(j, 400, "invalid_field", "filename", "give the file's name: ?filename=",
			  "ファイル名を ?filename= で指定してください");
		return;
	}
	if (ops_upload_add(&j->ops, &j->actor, name, type, j->body_raw != NULL ? j->body_raw : "", j->body_raw_len,
			   j->env.max_message_size, time(NULL), &u, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 201);
	json_kv_string(o, "id", u.id);
	json_kv_string(o, "filename", u.filename);
	json_kv_string(o, "content_type", u.content_type);
	json_kv_uint(o, "size", u.size);
	api_json_time(o, "expires", u.expires);
	api_reply_end(j);
}

void api_mail_upload_del(struct api_job *j)
{
	struct ops_error err;

	if (ops_upload_del(&j->ops, &j->actor, j->params[0], &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 204);
	api_reply_end(j);
}
