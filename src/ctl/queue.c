/* yubinctl queue: see and manage the outbound queue in DATA/queue through
 * ops/ops_queue.c, and queue a message (inject). A running daemon is told
 * to look at the queue again with SIGUSR1 (its pid is in DATA/yubind.pid);
 * without a daemon the files wait for the next start. */
#include "ctl/ctl.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "ops/ops_server.h"
#include "store/queue_file.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INJECT_MAX (1ULL << 32)

/* SIGUSR1 to a running yubind; true when one was told. */
bool ctl_queue_wake(const struct ops *o)
{
	return ctl_daemon_signal(o->data, SIGUSR1);
}

bool ctl_daemon_signal(const char *data, int sig)
{
	char path[PATH_MAX], *text;
	uint64_t pid;

	if (snprintf(path, sizeof(path), "%s/yubind.pid", data) >= (int)sizeof(path))
		return false;
	text = fs_read_file(path, 64, NULL);
	if (text == NULL)
		return 0;
	str_trim(text);
	if (str_parse_uint(text, INT32_MAX, &pid) < 0 || pid < 2) {
		free(text);
		return 0;
	}
	free(text);
	/* a stale pid file (after a crash) may name an unrelated process,
	 * which SIGUSR1 would kill */
	{
		char comm_path[64], comm[64];
		FILE *f;
		bool ours;

		snprintf(comm_path, sizeof(comm_path), "/proc/%" PRIu64 "/comm", pid);
		f = fopen(comm_path, "r");
		if (f == NULL)
			return 0;
		ours = fgets(comm, sizeof(comm), f) != NULL && strcmp(str_trim(comm), "yubind") == 0;
		fclose(f);
		if (!ours)
			return 0;
	}
	return kill((pid_t)pid, sig) == 0;
}

static void ctl_queue_cb(const struct queue_env *env, void *ctx)
{
	struct ctl_list *l = ctx;
	char when[64], next[64];

	l->n++;
	if (l->j != NULL) {
		struct json *j = l->j;

		json_object_begin(j);
		json_kv_string(j, "id", env->id);
		json_kv_string(j, "from", env->from);
		json_kv_uint(j, "size", env->body_len);
		json_kv_int(j, "created", env->created);
		json_kv_int(j, "next_attempt", env->next_attempt);
		json_kv_uint(j, "attempts", env->attempts);
		json_key(j, "recipients");
		json_array_begin(j);
		for (size_t k = 0; k < env->nrcpts; k++) {
			json_object_begin(j);
			json_kv_string(j, "address", env->rcpts[k].addr);
			json_kv_string(j, "state", ops_queue_rcpt_state_name(env->rcpts[k].state));
			json_kv_string(j, "reply", env->rcpts[k].reply);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
		return;
	}
	ctl_time_text(env->created, when, sizeof(when));
	ctl_time_text(env->next_attempt, next, sizeof(next));
	printf("%-14s %10" PRIu64 " %s  <%s>\n", env->id, env->body_len, when, env->from);
	for (size_t k = 0; k < env->nrcpts; k++) {
		if (env->rcpts[k].state != QUEUE_PENDING)
			continue;
		if (env->rcpts[k].reply[0] != '\0')
			printf("    (%s)\n", env->rcpts[k].reply);
		printf("    <%s>\n", env->rcpts[k].addr);
	}
	printf("    next attempt %s\n", next);
}

int cmd_queue_list(struct ctl *c)
{
	struct ctl_list l;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	r = ctl_list_end(&l, ops_queue_list(o, &actor, ctl_queue_cb, &l, &err), &err, "Mail queue is empty");
	if (r == 0 && l.j == NULL && l.n > 0)
		printf("-- %zu message%s in the queue\n", l.n, l.n == 1 ? "" : "s");
	return r;
}

int cmd_queue_show(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct queue_env env;
	struct ops *o;
	char when[64], *header;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_queue_show(o, &actor, c->argv[0], &env, &header, &err) < 0)
		return ctl_ops_fail(&err);
	printf("id: %s\nfrom: <%s>\nsize: %" PRIu64 "\n", env.id, env.from, env.body_len);
	ctl_time_text(env.created, when, sizeof(when));
	printf("queued: %s\n", when);
	ctl_time_text(env.next_attempt, when, sizeof(when));
	printf("next attempt: %s\nattempts deferred: %u\ndelay notice sent: %s\n", when, env.attempts,
	       env.warned ? "yes" : "no");
	for (size_t k = 0; k < env.nrcpts; k++) {
		printf("recipient: <%s> %s", env.rcpts[k].addr, ops_queue_rcpt_state_name(env.rcpts[k].state));
		if (env.rcpts[k].reply[0] != '\0')
			printf(": %s", env.rcpts[k].reply);
		printf("\n");
	}
	/* the message's header block */
	printf("\n%s", header);
	free(header);
	queue_env_free(&env);
	return 0;
}

int cmd_queue_retry(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	size_t n;
	bool woken;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_queue_retry(o, &actor, c->argc == 1 ? c->argv[0] : NULL, &n, &woken, &err) < 0)
		return ctl_ops_fail(&err);
	printf("%zu message%s due now%s\n", n, n == 1 ? "" : "s",
	       woken ? "; yubind told" : "; yubind is not running (they go at its next start)");
	return 0;
}

int cmd_queue_delete(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_queue_delete(o, &actor, c->argv[0], &err) < 0)
		return ctl_ops_fail(&err);
	printf("Deleted %s from the queue (no bounce is sent)\n", c->argv[0]);
	return 0;
}

/* Reads the message from stdin in wire form: bare LF becomes CRLF. */
static int read_message(struct strbuf *out)
{
	char buf[65536];
	size_t n;
	char prev = '\0';

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				strbuf_append_c(out, '\r');
			strbuf_append_c(out, buf[i]);
			prev = buf[i];
		}
		if (out->len > INJECT_MAX)
			return -1;
	}
	if (out->len > 0 && prev != '\n')
		strbuf_append_str(out, "\r\n");
	return ferror(stdin) ? -1 : 0;
}

int cmd_queue_inject(struct ctl *c)
{
	char dir[PATH_MAX], id[QUEUE_ID_MAX], prefix[512], date[64];
	struct strbuf msg;
	struct maildir_msg m;
	const char *error = "";
	time_t now = time(NULL);
	struct tm tm;

	for (int i = 0; i < c->argc; i++) {
		if (strchr(c->argv[i], '@') == NULL || !queue_addr_is_valid(c->argv[i]))
			return ctl_fail("'%s' is not a recipient address", c->argv[i]);
	}
	if (!queue_addr_is_valid(c->from) || (c->from[0] != '\0' && strchr(c->from, '@') == NULL))
		return ctl_fail("'%s' is not a sender address (use --from '' for the null sender)", c->from);
	if (ctl_path(c, dir, sizeof(dir), "queue") < 0)
		return 1;
	strbuf_init(&msg);
	if (read_message(&msg) < 0 || msg.len == 0) {
		strbuf_free(&msg);
		return ctl_fail("cannot read a message from standard input");
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(prefix, sizeof(prefix), "Received: by yubinctl queue inject (uid %u);\r\n\t%s\r\n",
		 (unsigned)getuid(), date);
	memset(&m, 0, sizeof(m));
	m.prefix = prefix;
	m.prefix_len = strlen(prefix);
	m.body = strbuf_cstr(&msg);
	m.body_fd = -1;
	m.body_len = msg.len;
	if (queue_file_create(dir, c->from, (const char *const *)c->argv, (size_t)c->argc, &m, id,
			      sizeof(id), &error) < 0) {
		strbuf_free(&msg);
		return ctl_fail("cannot queue the message: %s", error);
	}
	strbuf_free(&msg);
	printf("%s\n", id);
	{
		struct ops o = { .data = c->data };

		ctl_queue_wake(&o);
	}
	return 0;
}
