/* yubinctl queue: see and manage the outbound queue in DATA/queue.
 * A running daemon is told to look at the queue again with SIGUSR1 (its pid
 * is in DATA/yubind.pid); without a daemon the files wait for the next
 * start. */
#include "ctl/ctl.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/strbuf.h"
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

/* SIGUSR1 to a running yubind; 1 when one was told. */
static int queue_signal_daemon(const struct ctl *c)
{
	char path[PATH_MAX], *text;
	uint64_t pid;

	if (ctl_path(c, path, sizeof(path), "yubind.pid") < 0)
		return 0;
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
	return kill((pid_t)pid, SIGUSR1) == 0;
}

static const char *state_name(enum queue_rcpt_state s)
{
	return s == QUEUE_DELIVERED ? "delivered" : s == QUEUE_FAILED ? "failed" : "pending";
}

struct qlist {
	char (*ids)[QUEUE_ID_MAX];
	size_t n;
};

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int queue_ids(const struct ctl *c, struct qlist *l, char *dir, size_t dirsize)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	if (ctl_path(c, dir, dirsize, "queue") < 0)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : ctl_fail("cannot read %s: %s", dir, strerror(errno)) * -1;
	while ((de = readdir(d)) != NULL) {
		if (!queue_id_is_valid(de->d_name))
			continue;
		if (l->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			l->ids = realloc(l->ids, cap * QUEUE_ID_MAX);
			if (l->ids == NULL)
				abort();
		}
		str_copy(l->ids[l->n++], QUEUE_ID_MAX, de->d_name);
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->ids, l->n, QUEUE_ID_MAX, id_cmp);
	return 0;
}

int cmd_queue_list(struct ctl *c)
{
	char dir[PATH_MAX];
	struct qlist l;
	struct json j;
	size_t shown = 0;

	if (queue_ids(c, &l, dir, sizeof(dir)) < 0)
		return 1;
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
	}
	for (size_t i = 0; i < l.n; i++) {
		char path[PATH_MAX + QUEUE_ID_MAX], when[64], next[64];
		struct queue_env env;
		const char *error;

		snprintf(path, sizeof(path), "%s/%s", dir, l.ids[i]);
		if (queue_file_read(path, &env, &error) < 0)
			continue;	/* delivered meanwhile */
		shown++;
		if (c->json) {
			json_object_begin(&j);
			json_kv_string(&j, "id", env.id);
			json_kv_string(&j, "from", env.from);
			json_kv_uint(&j, "size", env.body_len);
			json_kv_int(&j, "created", env.created);
			json_kv_int(&j, "next_attempt", env.next_attempt);
			json_kv_uint(&j, "attempts", env.attempts);
			json_key(&j, "recipients");
			json_array_begin(&j);
			for (size_t k = 0; k < env.nrcpts; k++) {
				json_object_begin(&j);
				json_kv_string(&j, "address", env.rcpts[k].addr);
				json_kv_string(&j, "state", state_name(env.rcpts[k].state));
				json_kv_string(&j, "reply", env.rcpts[k].reply);
				json_object_end(&j);
			}
			json_array_end(&j);
			json_object_end(&j);
		} else {
			ctl_time_text(env.created, when, sizeof(when));
			ctl_time_text(env.next_attempt, next, sizeof(next));
			printf("%-14s %10" PRIu64 " %s  <%s>\n", env.id, env.body_len, when, env.from);
			for (size_t k = 0; k < env.nrcpts; k++) {
				if (env.rcpts[k].state != QUEUE_PENDING)
					continue;
				if (env.rcpts[k].reply[0] != '\0')
					printf("    (%s)\n", env.rcpts[k].reply);
				printf("    <%s>\n", env.rcpts[k].addr);
			}
			printf("    next attempt %s\n", next);
		}
		queue_env_free(&env);
	}
	free(l.ids);
	if (c->json) {
		json_array_end(&j);
		return ctl_json_print(&j);
	}
	if (shown == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %zu message%s in the queue\n", shown, shown == 1 ? "" : "s");
	return 0;
}

static int queue_file_arg(struct ctl *c, const char *id, char *path, size_t size)
{
	char rel[64];

	if (!queue_id_is_valid(id))
		return ctl_fail("'%s' is not a queue id (see yubinctl queue list)", id);
	snprintf(rel, sizeof(rel), "queue/%s", id);
	if (ctl_path(c, path, size, rel) < 0)
		return 1;
	if (access(path, F_OK) < 0)
		return ctl_fail("no message %s in the queue (delivered or deleted?)", id);
	return 0;
}

int cmd_queue_show(struct ctl *c)
{
	char path[PATH_MAX], when[64];
	struct queue_env env;
	const char *error;

	if (queue_file_arg(c, c->argv[0], path, sizeof(path)) != 0)
		return 1;
	if (queue_file_read(path, &env, &error) < 0)
		return ctl_fail("%s: %s", c->argv[0], error);
	printf("id: %s\nfrom: <%s>\nsize: %" PRIu64 "\n", env.id, env.from, env.body_len);
	ctl_time_text(env.created, when, sizeof(when));
	printf("queued: %s\n", when);
	ctl_time_text(env.next_attempt, when, sizeof(when));
	printf("next attempt: %s\nattempts deferred: %u\ndelay notice sent: %s\n", when, env.attempts,
	       env.warned ? "yes" : "no");
	for (size_t k = 0; k < env.nrcpts; k++) {
		printf("recipient: <%s> %s", env.rcpts[k].addr, state_name(env.rcpts[k].state));
		if (env.rcpts[k].reply[0] != '\0')
			printf(": %s", env.rcpts[k].reply);
		printf("\n");
	}
	/* the message's header block */
	{
		FILE *f = fopen(path, "rb");
		char line[1024];
		if (f != NULL && fseeko(f, (off_t)env.body_off, SEEK_SET) == 0) {
			uint64_t left = env.body_len;
			printf("\n");
			while (left > 0 && fgets(line, sizeof(line), f) != NULL) {
				size_t n = strlen(line);
				left = n > left ? 0 : left - n;
				if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0)
					break;
				line[strcspn(line, "\r\n")] = '\0';
				printf("%s\n", line);
			}
		}
		if (f != NULL)
			fclose(f);
	}
	queue_env_free(&env);
	return 0;
}

int cmd_queue_retry(struct ctl *c)
{
	char dir[PATH_MAX], path[PATH_MAX + QUEUE_ID_MAX];
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;

	if (c->argc == 1) {
		if (queue_file_arg(c, c->argv[0], path, sizeof(path)) != 0)
			return 1;
		if (queue_file_set_next(path, now) < 0)
			return ctl_fail("cannot update %s: %s", path, strerror(errno));
		n = 1;
	} else {
		struct qlist l;
		if (queue_ids(c, &l, dir, sizeof(dir)) < 0)
			return 1;
		for (size_t i = 0; i < l.n; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, l.ids[i]);
			n += queue_file_set_next(path, now) == 0;
		}
		free(l.ids);
	}
	printf("%zu message%s due now%s\n", n, n == 1 ? "" : "s",
	       queue_signal_daemon(c) ? "; yubind told" : "; yubind is not running (they go at its next start)");
	return 0;
}

int cmd_queue_delete(struct ctl *c)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (queue_file_arg(c, c->argv[0], path, sizeof(path)) != 0)
		return 1;
	if (unlink(path) < 0)
		return ctl_fail("cannot delete %s: %s", path, strerror(errno));
	if (ctl_path(c, dir, sizeof(dir), "queue") == 0)
		fs_fsync_dir(dir);
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
	queue_signal_daemon(c);
	return 0;
}
