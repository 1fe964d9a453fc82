/* /api/v1/queue: the outbound queue, one message, retry now, delete (no
 * bounce). Server administrators see every message; a domain
 * administrator the messages its domains' addresses sent (ops/ops_queue.c);
 * another's message is not_found. A retry wakes the daemon's queue runner. */
#include "http/api_admin.h"

#include <stdlib.h>

static void api_queue_json(struct json *o, const struct queue_env *env)
{
	json_kv_string(o, "id", env->id);
	json_kv_string(o, "from", env->from);
	json_kv_uint(o, "size", env->body_len);
	api_json_time(o, "created", env->created);
	api_json_time(o, "next_attempt", env->next_attempt);
	json_kv_uint(o, "attempts", env->attempts);
	json_kv_bool(o, "delay_notice_sent", env->warned);
	json_key(o, "recipients");
	json_array_begin(o);
	for (size_t k = 0; k < env->nrcpts; k++) {
		json_object_begin(o);
		json_kv_string(o, "address", env->rcpts[k].addr);
		json_kv_string(o, "state", ops_queue_rcpt_state_name(env->rcpts[k].state));
		json_kv_string(o, "reply", env->rcpts[k].reply);
		json_object_end(o);
	}
	json_array_end(o);
}

static void api_queue_cb(const struct queue_env *env, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	api_queue_json(o, env);
	json_object_end(o);
}

void api_queue_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "messages");
	json_array_begin(o);
	if (ops_queue_list(&j->ops, &j->actor, api_queue_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_queue_show(struct api_job *j)
{
	struct queue_env env;
	struct ops_error err;
	char *header;
	struct json *o;

	if (ops_queue_show(&j->ops, &j->actor, j->params[0], &env, &header, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "message");
	json_object_begin(o);
	api_queue_json(o, &env);
	json_kv_string(o, "header", header);
	json_object_end(o);
	api_reply_end(j);
	free(header);
	queue_env_free(&env);
}

static void api_retry(struct api_job *j, const char *id)
{
	struct ops_error err;
	struct json *o;
	size_t n;
	bool woken;

	j->ops.queue_wake = j->env.queue_wake;
	if (ops_queue_retry(&j->ops, &j->actor, id, &n, &woken, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_uint(o, "due", n);
	api_reply_end(j);
}

void api_queue_retry(struct api_job *j)
{
	api_retry(j, j->params[0]);
}

void api_queue_retry_all(struct api_job *j)
{
	api_retry(j, NULL);
}

void api_queue_delete(struct api_job *j)
{
	struct ops_error err;

	if (ops_queue_delete(&j->ops, &j->actor, j->params[0], &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}
