/* Queue files: see queue_file.h for the format. */
#include "store/queue_file.h"
#include "store/maildir_commit.h"
#include "store/queue_spare.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAGIC "YUBIN-QUEUE 1\n"
#define QUEUE_HEADER_MAX (1024 * 1024)
#define QUEUE_HEADER_FIRST 4096

bool queue_id_is_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 8 || n >= QUEUE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z')))
			return false;
	}
	return true;
}

bool queue_addr_is_valid(const char *addr)
{
	size_t n = strlen(addr);

	if (n > QUEUE_ADDR_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)addr[i] <= 0x20 || addr[i] == 0x7f)
			return false;
	}
	return true;
}

size_t queue_env_pending(const struct queue_env *env)
{
	size_t n = 0;

	for (size_t i = 0; i < env->nrcpts; i++)
		n += env->rcpts[i].state == QUEUE_PENDING;
	return n;
}

static queue_file_signer_fn *queue_signer;
static void *queue_signer_ctx;

void queue_file_set_signer(queue_file_signer_fn *fn, void *ctx)
{
	queue_signer = fn;
	queue_signer_ctx = ctx;
}

static int write_body(int fd, const struct maildir_msg *msg)
{
	char buf[65536];
	size_t left = msg->body_len;
	off_t off = 0;

	if (msg->prefix_len > 0 && fs_write_all(fd, msg->prefix, msg->prefix_len) < 0)
		return -1;
	if (msg->body != NULL)
		return fs_write_all(fd, msg->body, msg->body_len);
	while (left > 0) {
		ssize_t r = pread(msg->body_fd, buf, left < sizeof(buf) ? left : sizeof(buf), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (fs_write_all(fd, buf, (size_t)r) < 0)
			return -1;
		off += r;
		left -= (size_t)r;
	}
	return 0;
}

int queue_file_stage(const char *dir, const char *from, const char *const *rcpts, size_t nrcpts,
		     const struct maildir_msg *msg, struct maildir_staged *st, const char **error_r)
{
	char id[16], tmp[4200], head[4096], *sig = NULL;
	size_t sig_len = 0;
	int fd, n;

	memset(st, 0, sizeof(*st));
	if (nrcpts == 0) {
		*error_r = "no recipients";
		return -1;
	}
	if (!queue_addr_is_valid(from)) {
		*error_r = "invalid sender address";
		return -1;
	}
	for (size_t i = 0; i < nrcpts; i++) {
		if (!queue_addr_is_valid(rcpts[i]) || rcpts[i][0] == '\0') {
			*error_r = "invalid recipient address";
			return -1;
		}
	}
	if (str_copy(st->dir, sizeof(st->dir), dir) < 0 || fs_mkdir_p(dir, 0700) < 0) {
		*error_r = "cannot create the queue directory";
		return -1;
	}
	str_random_id(id, 13);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, id);
	/* a spare's inode if there is one (queue_spare.h), else a new file */
	fd = -1;
	if (queue_spare_take(dir, tmp) == 0 && (fd = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		unlink(tmp);
	if (fd < 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = "cannot create a queue file";
		return -1;
	}
	n = snprintf(head, sizeof(head), QUEUE_MAGIC "id %s\ncreated %" PRId64 "\nfrom %s\n", id,
		     (int64_t)time(NULL), from);
	if (fs_write_all(fd, head, (size_t)n) < 0)
		goto fail;
	for (size_t i = 0; i < nrcpts; i++) {
		n = snprintf(head, sizeof(head), "rcpt %s\n", rcpts[i]);
		if (fs_write_all(fd, head, (size_t)n) < 0)
			goto fail;
	}
	/* signed before the size is known: the signature fields come first */
	if (queue_signer != NULL)
		sig = queue_signer(queue_signer_ctx, from, msg, &sig_len);
	if (sig == NULL)
		sig_len = 0;
	n = snprintf(head, sizeof(head), "size %zu\n\n", sig_len + msg->prefix_len + msg->body_len);
	if (fs_write_all(fd, head, (size_t)n) < 0 || (sig_len > 0 && fs_write_all(fd, sig, sig_len) < 0) ||
	    write_body(fd, msg) < 0)
		goto fail;
	free(sig);
	/* the writeback starts now; the commit syncs the file all the same */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	str_copy(st->name, sizeof(st->name), id);
	st->flat = true;
	return 0;
fail:
	*error_r = "cannot write the queue file (disk full?)";
	free(sig);
	close(fd);
	unlink(tmp);
	return -1;
}

int queue_file_create(const char *dir, const char *from, const char *const *rcpts, size_t nrcpts,
		      const struct maildir_msg *msg, char *id_r, size_t id_size,
		      const char **error_r)
{
	struct maildir_staged st;
	void *item = &st;

	if (queue_file_stage(dir, from, rcpts, nrcpts, msg, &st, error_r) < 0)
		return -1;
	maildir_commit_batch(&item, 1, NULL);
	if (st.error != NULL) {
		maildir_staged_discard(&st);
		*error_r = "cannot write the queue file (disk full?)";
		return -1;
	}
	str_copy(id_r, id_size, st.name);
	return 0;
}

/* Next line of data from *pos (without \n) or NULL at the end or when
 * the line is not terminated. */
static const char *next_line(const char *data, size_t len, size_t *pos, size_t *linelen_r)
{
	const char *start = data + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(start, '\n', len - *pos);
	if (nl == NULL)
		return NULL;
	*linelen_r = (size_t)(nl - start);
	*pos += *linelen_r + 1;
	return start;
}

static int parse_int64(const char *s, size_t len, int64_t *v_r)
{
	char num[24];
	uint64_t v;

	if (str_copyn(num, sizeof(num), s, len) < 0 || str_parse_uint(num, INT64_MAX, &v) < 0)
		return -1;
	*v_r = (int64_t)v;
	return 0;
}

static void parse_record(struct queue_env *env, const char *line, size_t len)
{
	const char *p = line + 2, *end = line + len, *sp;
	int64_t idx, ts;

	if (len < 3 || line[1] != ' ')
		return;
	if (line[0] == 'W') {
		env->warned = true;
		return;
	}
	if (line[0] != 'D' && line[0] != 'F' && line[0] != 'T')
		return;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || parse_int64(p, (size_t)(sp - p), &idx) < 0 || (size_t)idx >= env->nrcpts)
		return;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (parse_int64(p, (size_t)((sp != NULL ? sp : end) - p), &ts) < 0)
		return;
	{
		struct queue_rcpt *r = &env->rcpts[idx];
		if (r->state != QUEUE_PENDING)
			return;	/* a final state stays final */
		if (line[0] == 'D')
			r->state = QUEUE_DELIVERED;
		else if (line[0] == 'F')
			r->state = QUEUE_FAILED;
		else
			env->attempts++;
		r->ts = ts;
		if (sp != NULL)
			str_copyn(r->reply, sizeof(r->reply), sp + 1, (size_t)(end - sp - 1));
		else
			r->reply[0] = '\0';
	}
}

/* The envelope header; *pos_r is where the message starts. */
static int parse_header(const char *data, size_t len, struct queue_env *env, size_t *pos_r,
			const char **error_r)
{
	size_t pos = 0, ll, cap = 0;
	const char *line;
	bool have_size = false;
	int64_t v;

	memset(env, 0, sizeof(*env));
	if (len < strlen(QUEUE_MAGIC) || memcmp(data, QUEUE_MAGIC, strlen(QUEUE_MAGIC)) != 0) {
		*error_r = "not a queue file";
		return -1;
	}
	pos = strlen(QUEUE_MAGIC);
	while ((line = next_line(data, len, &pos, &ll)) != NULL) {
		if (ll == 0)
			break;
		if (ll > 3 && memcmp(line, "id ", 3) == 0) {
			str_copyn(env->id, sizeof(env->id), line + 3, ll - 3);
		} else if (ll > 8 && memcmp(line, "created ", 8) == 0) {
			if (parse_int64(line + 8, ll - 8, &env->created) < 0)
				goto bad;
		} else if (ll >= 5 && memcmp(line, "from ", 5) == 0) {
			if (str_copyn(env->from, sizeof(env->from), line + 5, ll - 5) < 0)
				goto bad;
		} else if (ll > 5 && memcmp(line, "rcpt ", 5) == 0) {
			if (env->nrcpts == cap) {
				size_t ncap = cap == 0 ? 8 : cap * 2;
				struct queue_rcpt *nr = realloc(env->rcpts, ncap * sizeof(*nr));
				if (nr == NULL)
					goto bad;
				env->rcpts = nr;
				cap = ncap;
			}
			memset(&env->rcpts[env->nrcpts], 0, sizeof(env->rcpts[0]));
			if (str_copyn(env->rcpts[env->nrcpts].addr, QUEUE_ADDR_MAX + 1, line + 5, ll - 5) < 0)
				goto bad;
			env->nrcpts++;
		} else if (ll > 5 && memcmp(line, "size ", 5) == 0) {
			if (parse_int64(line + 5, ll - 5, &v) < 0)
				goto bad;
			env->body_len = (uint64_t)v;
			have_size = true;
		}
	}
	if (line == NULL || !have_size || env->nrcpts == 0 || env->id[0] == '\0')
		goto bad;
	env->body_off = pos;
	*pos_r = pos;
	return 0;
bad:
	*error_r = "damaged queue file";
	queue_env_free(env);
	return -1;
}

static void parse_records(struct queue_env *env, const char *data, size_t len)
{
	size_t pos = 0, ll;
	const char *line;

	while ((line = next_line(data, len, &pos, &ll)) != NULL)
		parse_record(env, line, ll);
}

int queue_file_parse(const char *data, size_t len, struct queue_env *env, const char **error_r)
{
	size_t pos;

	if (parse_header(data, len, env, &pos, error_r) < 0)
		return -1;
	if (env->body_len > len - pos) {
		*error_r = "damaged queue file (truncated message)";
		queue_env_free(env);
		return -1;
	}
	pos += env->body_len;
	parse_records(env, data + pos, len - pos);
	return 0;
}

void queue_env_free(struct queue_env *env)
{
	if (env == NULL)
		return;
	free(env->rcpts);
	env->rcpts = NULL;
	env->nrcpts = 0;
}

static ssize_t read_at(int fd, char *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads the header and the log, skipping the message itself. */
int queue_file_read(const char *path, struct queue_env *env, const char **error_r)
{
	struct stat st;
	char *buf = NULL;
	size_t headlen, pos;
	ssize_t n;
	uint64_t tail_off;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(env, 0, sizeof(*env));
	if (fd < 0) {
		*error_r = errno == ENOENT ? "no such queue file" : "cannot open the queue file";
		return -1;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	/* the envelope is usually a few hundred bytes: read a small block
	 * first, and up to QUEUE_HEADER_MAX only when it does not parse (the
	 * scheduler reads every due file on each pass) */
	headlen = (size_t)st.st_size < QUEUE_HEADER_FIRST ? (size_t)st.st_size : QUEUE_HEADER_FIRST;
	buf = malloc(headlen + 1);
	if (buf == NULL || (n = read_at(fd, buf, headlen, 0)) < 0)
		goto fail;
	if (parse_header(buf, (size_t)n, env, &pos, error_r) < 0) {
		char *big;

		if ((size_t)st.st_size <= QUEUE_HEADER_FIRST)
			goto damaged;
		headlen = (size_t)st.st_size < QUEUE_HEADER_MAX ? (size_t)st.st_size : QUEUE_HEADER_MAX;
		big = realloc(buf, headlen + 1);
		if (big == NULL)
			goto fail;
		buf = big;
		if ((n = read_at(fd, buf, headlen, 0)) < 0)
			goto fail;
		if (parse_header(buf, (size_t)n, env, &pos, error_r) < 0)
			goto damaged;
	}
	free(buf);
	buf = NULL;
	tail_off = env->body_off + env->body_len;
	if (tail_off > (uint64_t)st.st_size) {
		queue_env_free(env);
		close(fd);
		*error_r = "damaged queue file (truncated message)";
		return -1;
	}
	if ((uint64_t)st.st_size > tail_off) {
		size_t tlen = (size_t)((uint64_t)st.st_size - tail_off);
		buf = malloc(tlen + 1);
		if (buf == NULL || (n = read_at(fd, buf, tlen, (off_t)tail_off)) < 0) {
			queue_env_free(env);
			goto fail;
		}
		parse_records(env, buf, (size_t)n);
		free(buf);
	}
	close(fd);
	env->next_attempt = (int64_t)st.st_mtime;
	return 0;
damaged:
	free(buf);
	close(fd);
	return -1;
fail:
	free(buf);
	close(fd);
	*error_r = "cannot read the queue file";
	return -1;
}

int queue_file_record(const char *path, char state, size_t rcpt, const char *reply)
{
	return queue_file_record2(path, state, rcpt, reply, true);
}

int queue_file_sync(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fdatasync(fd);
	close(fd);
	return r;
}

int queue_file_record2(const char *path, char state, size_t rcpt, const char *reply, bool sync)
{
	char line[QUEUE_REPLY_MAX + 64];
	int fd, n, r;
	struct stat st;

	if (state == 'W')
		n = snprintf(line, sizeof(line), "W %" PRId64 "\n", (int64_t)time(NULL));
	else
		n = snprintf(line, sizeof(line), "%c %zu %" PRId64 " %.*s\n", state, rcpt,
			     (int64_t)time(NULL), QUEUE_REPLY_MAX - 1, reply);
	for (int i = 2; i < n - 1; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	}
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* keep the mtime: it is the next attempt time */
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	/* a line torn by a crash is ended first, so it cannot swallow this
	 * one (a torn line was only ever written after the fact it states) */
	if (st.st_size > 0) {
		char lastc = '\n';
		if (pread(fd, &lastc, 1, st.st_size - 1) == 1 && lastc != '\n')
			fs_write_all(fd, "\n", 1);
	}
	r = fs_write_all(fd, line, (size_t)n) < 0 || (sync && fdatasync(fd) < 0) ? -1 : 0;
	{
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		futimens(fd, ts);
	}
	close(fd);
	return r;
}

int queue_file_set_next(const char *path, int64_t when)
{
	struct timespec ts[2] = { { (time_t)when, 0 }, { (time_t)when, 0 } };

	return utimensat(AT_FDCWD, path, ts, 0);
}
