/* The delivery journal: segments, the committer's appends, the checkpoint
 * thread and the wait of deletions (journal.h). */
#include "store/journal.h"
#include "store/journal_record.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define SEGMENT_MAX (64u << 20)	/* a segment this big is checkpointed at once */
#define WBUF_SIZE (256u << 10)
#define BUCKETS 4096
#define WAIT_MAX_MS 30000	/* a deletion waits at most this long */
#define FS_MAX 16		/* file systems the copies may live on */
#define BEHIND_MAX 8		/* segments waiting for a checkpoint before the journal steps aside */

/* A copy published from the journal and not yet checkpointed. */
struct pname {
	struct pname *next;	/* bucket chain */
	struct pname *seg_next;	/* the segment's list */
	uint64_t seq;
	char name[];
};

struct segment {
	struct segment *next;
	uint64_t seq;
	struct pname *names;
};

struct journal {
	char dir[PATH_MAX];
	int dir_fd;
	unsigned checkpoint_ms;
	pthread_t thread;

	/* The current segment: held by the committer for a whole batch and
	 * by the checkpoint thread to start a new segment. */
	pthread_mutex_t seg_mu;
	int fd;
	uint64_t seq;
	uint64_t off;		/* bytes written or buffered */
	uint64_t good_off;	/* bytes fdatasync'd */
	uint8_t *wbuf;
	size_t wlen;
	bool failed;		/* this batch can no longer be journaled */

	/* The names waiting for a checkpoint and the thread's state. */
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	struct pname *buckets[BUCKETS];
	uint64_t cur_seq;
	struct pname *cur_names;
	size_t cur_records;
	uint64_t cur_bytes;
	int64_t cur_first_ms;
	struct segment *retiring;	/* rotated, oldest first, not yet durable */
	unsigned nretiring;
	uint64_t retired_seq;		/* every segment up to it is checkpointed */
	bool want_rotate, stopping;
	unsigned long checkpoints;
	/* an open folder on each file system a copy went to: the checkpoint
	 * syncs each (the mailboxes need not share the journal's) */
	int fs_fd[FS_MAX];
	dev_t fs_dev[FS_MAX];
	size_t nfs;
	dev_t dir_dev;
	atomic_size_t npending;
};

static struct journal *_Atomic journal_global;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % BUCKETS;
}

static void segment_path(const struct journal *j, uint64_t seq, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%016llx.log", j->dir, (unsigned long long)seq);
}

/* Creates segment seq with its name durable: an fd, or -1. */
static int segment_create(struct journal *j, uint64_t seq)
{
	char path[PATH_MAX];
	int fd;

	segment_path(j, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fsync(j->dir_fd) < 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int wbuf_flush(struct journal *j)
{
	if (j->wlen > 0 && fs_write_all(j->fd, j->wbuf, j->wlen) < 0)
		return -1;
	j->wlen = 0;
	return 0;
}

/* Appends n bytes (buffered); j->off counts them, written or not, so a
 * failed record can be taken back from where it started. */
static int wbuf_put(struct journal *j, const void *p, size_t n)
{
	if (j->wlen + n > WBUF_SIZE && wbuf_flush(j) < 0)
		return -1;
	if (n >= WBUF_SIZE) {
		if (fs_write_all(j->fd, p, n) < 0)
			return -1;
	} else {
		memcpy(j->wbuf + j->wlen, p, n);
		j->wlen += n;
	}
	j->off += n;
	return 0;
}

/* Takes back a record that could not be written whole: the bytes from
 * start on go, so the next record follows the last whole one. */
static void record_undo(struct journal *j, uint64_t start)
{
	uint64_t flushed = j->off - j->wlen;

	if (start >= flushed) {
		j->wlen -= (size_t)(j->off - start);
	} else {
		j->wlen = 0;
		if (ftruncate(j->fd, (off_t)start) < 0 || lseek(j->fd, (off_t)start, SEEK_SET) < 0)
			j->failed = true;
	}
	j->off = start;
}

/* Streams the staged file into the buffer; its CRC goes on from *crc. */
static int record_content(struct journal *j, int fd, uint64_t size, uLong *crc)
{
	uint8_t chunk[65536];
	uint64_t done = 0;

	while (done < size) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if ((uint64_t)r > size - done)
			return -1;	/* the file grew: not the staged copy */
		*crc = crc32(*crc, chunk, (uInt)r);
		if (wbuf_put(j, chunk, (size_t)r) < 0)
			return -1;
		done += (uint64_t)r;
	}
	return 0;
}

/* Remembers the file system of a copy's folder: 0, or -1 when there are
 * more than FS_MAX (that copy is then synced on its own). */
static int note_fs(struct journal *j, dev_t dev, const char *folder)
{
	int fd;

	pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->nfs; i++) {
		if (j->fs_dev[i] == dev) {
			pthread_mutex_unlock(&j->mu);
			return 0;
		}
	}
	pthread_mutex_unlock(&j->mu);
	if (j->nfs == FS_MAX || (fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	pthread_mutex_lock(&j->mu);
	j->fs_fd[j->nfs] = fd;
	j->fs_dev[j->nfs++] = dev;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int journal_add(struct journal *j, const char *folder, const char *name, const char *flags,
		const char *tmp_path)
{
	uint8_t head[JOURNAL_HEAD_MAX], tail[JOURNAL_TAIL_LEN];
	uint64_t start = j->off;
	struct stat st;
	size_t hlen;
	uLong crc;
	int fd, r = -1;

	if (j->failed)
		return -1;
	fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && note_fs(j, st.st_dev, folder) == 0 &&
	    (hlen = journal_record_head(head, folder, name, flags, (uint64_t)st.st_size)) > 0) {
		crc = crc32(0L, head, (uInt)hlen);
		if (wbuf_put(j, head, hlen) == 0 && record_content(j, fd, (uint64_t)st.st_size, &crc) == 0) {
			journal_record_tail(tail, (uint32_t)crc);
			r = wbuf_put(j, tail, sizeof(tail));
		}
	}
	close(fd);
	if (r < 0)
		record_undo(j, start);
	return r;
}

void journal_begin(struct journal *j)
{
	pthread_mutex_lock(&j->seg_mu);
	/* checkpoints failing (syncfs errors): the copies are synced one by
	 * one instead of piling up segments without end */
	pthread_mutex_lock(&j->mu);
	j->failed = j->nretiring >= BEHIND_MAX;
	pthread_mutex_unlock(&j->mu);
}

int journal_sync(struct journal *j)
{
	bool big;

	if (j->off == j->good_off)
		return 0;
	if (j->failed || wbuf_flush(j) < 0 || fdatasync(j->fd) < 0) {
		/* none of the batch counts: cut it off the segment */
		j->wlen = 0;
		j->off = j->good_off;
		if (ftruncate(j->fd, (off_t)j->good_off) < 0 || lseek(j->fd, (off_t)j->good_off, SEEK_SET) < 0)
			log_error(NULL, "journal: cannot cut a failed batch off segment %llu: %s",
				  (unsigned long long)j->seq, strerror(errno));
		j->failed = true;
		return -1;
	}
	j->good_off = j->off;
	pthread_mutex_lock(&j->mu);
	j->cur_bytes = j->off;
	big = j->cur_bytes >= SEGMENT_MAX;
	pthread_mutex_unlock(&j->mu);
	if (big)
		pthread_cond_signal(&j->wake);
	return 0;
}

void journal_published(struct journal *j, const char *name)
{
	size_t n = strlen(name);
	struct pname *p = malloc(sizeof(*p) + n + 1);
	unsigned b = hash_name(name, n);

	if (p == NULL)
		return;	/* its deletion will not wait: a crash may bring it back */
	memcpy(p->name, name, n + 1);
	pthread_mutex_lock(&j->mu);
	p->seq = j->cur_seq;
	p->next = j->buckets[b];
	j->buckets[b] = p;
	p->seg_next = j->cur_names;
	j->cur_names = p;
	if (j->cur_records++ == 0)
		j->cur_first_ms = now_ms();
	atomic_fetch_add(&j->npending, 1);
	pthread_mutex_unlock(&j->mu);
}

void journal_end(struct journal *j)
{
	pthread_mutex_unlock(&j->seg_mu);
}

/* Starts a new segment; the old one joins the retiring list. */
static int rotate(struct journal *j)
{
	struct segment *seg = malloc(sizeof(*seg)), **tail;
	uint64_t seq;
	int fd, old;

	if (seg == NULL)
		return -1;
	/* only this thread starts segments: the next number is known, and the
	 * file and its name are made durable before the committer waits */
	seq = j->seq + 1;
	fd = segment_create(j, seq);
	if (fd < 0) {
		free(seg);
		log_error(NULL, "journal: cannot start segment %llu: %s", (unsigned long long)seq, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&j->seg_mu);
	old = j->fd;
	seg->seq = j->seq;
	j->fd = fd;
	j->seq = seq;
	j->off = j->good_off = 0;
	pthread_mutex_lock(&j->mu);
	seg->next = NULL;
	seg->names = j->cur_names;
	for (tail = &j->retiring; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = seg;
	j->nretiring++;
	j->cur_names = NULL;
	j->cur_records = 0;
	j->cur_bytes = 0;
	j->cur_seq = seq;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->seg_mu);
	close(old);
	return 0;
}

static void forget_names(struct journal *j, struct pname *p)
{
	while (p != NULL) {
		struct pname *next = p->seg_next, **pp = &j->buckets[hash_name(p->name, strlen(p->name))];

		while (*pp != NULL && *pp != p)
			pp = &(*pp)->next;
		if (*pp == p)
			*pp = p->next;
		free(p);
		atomic_fetch_sub(&j->npending, 1);
		p = next;
	}
}

/* Makes everything written so far durable, then removes the retiring
 * segments: their copies no longer need them. */
static int checkpoint(struct journal *j)
{
	struct segment *list, *s;
	char path[PATH_MAX];
	size_t nfs;

	pthread_mutex_lock(&j->mu);
	list = j->retiring;
	pthread_mutex_unlock(&j->mu);
	if (list == NULL)
		return 0;
	/* every file system a copy of these segments went to (the list only
	 * grows, by the committer, before it publishes a copy there) */
	pthread_mutex_lock(&j->mu);
	nfs = j->nfs;
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i <= nfs; i++) {
		bool again = false;	/* the journal's own, synced with the mail */

		for (size_t k = 0; k < nfs && i == nfs; k++)
			again = again || j->fs_dev[k] == j->dir_dev;
		if (!again && syncfs(i < nfs ? j->fs_fd[i] : j->dir_fd) < 0) {
			log_error(NULL, "journal: checkpoint failed (syncfs: %s); retrying", strerror(errno));
			return -1;
		}
	}
	for (s = list; s != NULL; s = s->next) {
		segment_path(j, s->seq, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT)
			log_error(NULL, "journal: cannot remove %s: %s", path, strerror(errno));
	}
	if (fsync(j->dir_fd) < 0) {
		log_error(NULL, "journal: checkpoint failed (fsync of %s: %s); retrying", j->dir, strerror(errno));
		return -1;
	}
	/* the list is the thread's alone to change: rotate runs here too */
	pthread_mutex_lock(&j->mu);
	while (j->retiring != NULL) {
		s = j->retiring;
		j->retiring = s->next;
		forget_names(j, s->names);
		j->retired_seq = s->seq;
		free(s);
	}
	j->nretiring = 0;
	j->checkpoints++;
	pthread_cond_broadcast(&j->done);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(c, m, &ts);
}

static void *journal_main(void *arg)
{
	struct journal *j = arg;

	pthread_mutex_lock(&j->mu);
	while (!j->stopping) {
		int64_t age = j->cur_records > 0 ? now_ms() - j->cur_first_ms : 0;
		bool due = j->cur_records > 0 &&
			   (j->want_rotate || age >= j->checkpoint_ms || j->cur_bytes >= SEGMENT_MAX);
		bool ok = true;

		if (!due && j->retiring == NULL) {
			timed_wait(&j->wake, &j->mu, j->cur_records > 0 ? j->checkpoint_ms - age : j->checkpoint_ms);
			continue;
		}
		j->want_rotate = false;
		pthread_mutex_unlock(&j->mu);
		if (due)
			ok = rotate(j) == 0;
		if (checkpoint(j) < 0)
			ok = false;
		pthread_mutex_lock(&j->mu);
		if (!ok && !j->stopping)
			timed_wait(&j->wake, &j->mu, j->checkpoint_ms);	/* not a busy retry */
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

struct journal *journal_open(const char *dir, unsigned checkpoint_ms, const char **error_r)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->wbuf = malloc(WBUF_SIZE)) == NULL) {
		free(j);
		*error_r = "out of memory";
		return NULL;
	}
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->checkpoint_ms = checkpoint_ms > 0 ? checkpoint_ms : 1000;
	j->fd = -1;
	if (fs_mkdir_p(dir, 0700) < 0 || (j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		*error_r = "cannot open the journal directory";
		free(j->wbuf);
		free(j);
		return NULL;
	}
	{
		struct stat st;

		j->dir_dev = fstat(j->dir_fd, &st) == 0 ? st.st_dev : 0;
	}
	j->seq = j->cur_seq = 1;
	j->fd = segment_create(j, j->seq);
	if (j->fd < 0) {
		*error_r = errno == EEXIST ? "the journal directory holds a segment (not recovered)"
					   : "cannot create a journal segment";
		close(j->dir_fd);
		free(j->wbuf);
		free(j);
		return NULL;
	}
	pthread_mutex_init(&j->seg_mu, NULL);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->wake, NULL);
	pthread_cond_init(&j->done, NULL);
	if (pthread_create(&j->thread, NULL, journal_main, j) != 0) {
		*error_r = "cannot start the journal thread";
		close(j->fd);
		close(j->dir_fd);
		free(j->wbuf);
		free(j);
		return NULL;
	}
	return j;
}

void journal_close(struct journal *j)
{
	char path[PATH_MAX];

	if (j == NULL)
		return;
	if (atomic_load(&journal_global) == j)
		journal_set_global(NULL);
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->wake);
	pthread_cond_broadcast(&j->done);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	/* the last checkpoint: everything durable, then no segment left */
	if (rotate(j) == 0 && checkpoint(j) == 0) {
		close(j->fd);
		segment_path(j, j->seq, path, sizeof(path));
		unlink(path);
		fsync(j->dir_fd);
	} else {
		close(j->fd);
		log_error(NULL, "journal: the last checkpoint failed; the next start replays the journal");
	}
	pthread_mutex_lock(&j->mu);
	forget_names(j, j->cur_names);
	while (j->retiring != NULL) {
		struct segment *s = j->retiring;

		j->retiring = s->next;
		forget_names(j, s->names);
		free(s);
	}
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < j->nfs; i++)
		close(j->fs_fd[i]);
	close(j->dir_fd);
	free(j->wbuf);
	free(j);
}

void journal_set_global(struct journal *j)
{
	atomic_store(&journal_global, j);
}

/* With j->mu held: waits until segment seq is checkpointed, starting the
 * checkpoint at once when seq is the current segment. false when it still
 * is not after WAIT_MAX_MS (or the journal is stopping). */
static bool wait_retired(struct journal *j, uint64_t seq)
{
	int64_t deadline = now_ms() + WAIT_MAX_MS;

	if (seq == j->cur_seq) {
		j->want_rotate = true;
		pthread_cond_signal(&j->wake);
	}
	while (j->retired_seq < seq && !j->stopping && now_ms() < deadline)
		timed_wait(&j->done, &j->mu, deadline - now_ms());
	return j->retired_seq >= seq || j->stopping;
}

void journal_wait_durable(const char *file)
{
	struct journal *j = atomic_load(&journal_global);
	size_t n = strcspn(file, ":");
	uint64_t seq = 0;

	if (j == NULL || atomic_load(&j->npending) == 0)
		return;
	pthread_mutex_lock(&j->mu);
	for (struct pname *p = j->buckets[hash_name(file, n)]; p != NULL; p = p->next) {
		if (strncmp(p->name, file, n) == 0 && p->name[n] == '\0') {
			seq = p->seq;
			break;
		}
	}
	if (seq != 0 && !wait_retired(j, seq))
		log_warn(NULL, "journal: deleting %.*s before its checkpoint (waited %d s)", (int)n, file,
			 WAIT_MAX_MS / 1000);
	pthread_mutex_unlock(&j->mu);
}

void journal_wait_all(void)
{
	struct journal *j = atomic_load(&journal_global);

	if (j == NULL || atomic_load(&j->npending) == 0)
		return;
	pthread_mutex_lock(&j->mu);
	/* the current segment if it holds copies, else the last rotated one */
	wait_retired(j, j->cur_records > 0 ? j->cur_seq : j->cur_seq - 1);
	pthread_mutex_unlock(&j->mu);
}

unsigned long journal_checkpoints(struct journal *j)
{
	unsigned long n;

	pthread_mutex_lock(&j->mu);
	n = j->checkpoints;
	pthread_mutex_unlock(&j->mu);
	return n;
}
