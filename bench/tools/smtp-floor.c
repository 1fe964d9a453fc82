/*
 * smtp-floor: the least work an SMTP server can do for bench/smtp-inbound's
 * load while keeping "250 means on disk", to measure the ceiling this
 * machine and the load generator put on any server's inbound rate (the
 * bench's `--floor` and `--floor-nosync`).
 *
 *   smtp-floor PORT MAILROOT THREADS [nosync]
 *
 * Listens on 127.0.0.1:PORT with THREADS threads, each with its own epoll
 * loop and SO_REUSEPORT listening socket.  A session: 220, then 250 to
 * HELO/EHLO/MAIL/RSET/NOOP, RCPT TO:<LOCAL@...> chooses MAILROOT/LOCAL
 * (which must hold a Maildir: tmp/ and new/), 354 to DATA, the message is
 * read until CRLF.CRLF and written to LOCAL/tmp/NAME, 221 to QUIT.
 *
 * Durability in groups, with the fewest flushes there can be: once a loop
 * has handled every ready event, each message written in that round is
 * renamed into new/ and the round asks the sync thread for a syncfs(2)
 * that starts after it; the loop serves other sessions meanwhile, and the
 * sessions get their 250 when the sync thread (through an eventfd) says a
 * syncfs that covers them ended: data, inodes and names durable.  (A crash
 * before that syncfs may leave a file in new/ whose data never reached the
 * disk, unacknowledged; a real server must order data before name and pay
 * a second flush.  The floor takes the cheaper order on purpose.)  With
 * "nosync" there is no sync thread and the 250 goes at once: the ceiling
 * of the CPU work alone.
 *
 * Nothing else: no checks, no logging, no headers added, no dot
 * unstuffing, no queue, no limits beyond a fixed buffer per session.  It
 * is not a mail server; it measures the system calls one makes at the
 * least.  Loopback only.
 *
 * Built by bench/smtp-inbound:  cc -O2 -pthread smtp-floor.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX (256 * 1024)
#define BATCH_MAX 1024
#define NAME_MAX_LEN 4096

enum state { S_CMD, S_DATA, S_SYNC };

struct sess {
	int fd;
	enum state state;
	size_t len;		/* bytes in buf */
	size_t scan;		/* DATA: where to look for the end next */
	int file;		/* the message's file until the round's end */
	unsigned long gen;	/* the sync request that covers the message */
	struct sess *next;	/* in the loop's list of sessions awaiting a sync */
	char box[256];		/* RCPT's local part */
	char name[64];
	char buf[BUF_MAX];
};

struct loop {
	int ep;
	int lfd;
	unsigned id;
	unsigned long seq;
	int efd;		/* the sync thread's "a syncfs ended" */
	struct sess *batch[BATCH_MAX];
	int nbatch;
	struct sess *waiting, **waiting_tail;
};

/* the group commit: a loop asks for a syncfs that starts after its round */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static unsigned long sync_asked, sync_done;
static struct loop *loops;
static int nloops;

static const char *root;
static unsigned short port;
static int nosync;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void say(struct sess *s, const char *text)
{
	/* replies are short and the client reads them: one send each */
	(void)!send(s->fd, text, strlen(text), MSG_NOSIGNAL);
}

static void sess_close(struct loop *l, struct sess *s)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	if (s->file >= 0)
		close(s->file);
	free(s);
}

/* Writes the message to its Maildir's tmp/ and queues the session for the
 * round's group sync. */
static int sess_store(struct loop *l, struct sess *s, size_t end)
{
	char path[NAME_MAX_LEN];

	snprintf(s->name, sizeof(s->name), "%lu.%u_%lu.floor", (unsigned long)time(NULL), l->id,
		 ++l->seq);
	snprintf(path, sizeof(path), "%s/%s/tmp/%s", root, s->box, s->name);
	s->file = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->file < 0)
		return -1;
	for (size_t off = 0; off < end;) {
		ssize_t n = write(s->file, s->buf + off, end - off);
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	if (l->nbatch == BATCH_MAX)
		return -1;
	l->batch[l->nbatch++] = s;
	s->state = S_SYNC;
	return 0;
}

static int sess_run(struct loop *l, struct sess *s);

static void *sync_main(void *arg)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t one = 1;

	(void)arg;
	if (fd < 0)
		die(root);
	pthread_mutex_lock(&sync_lock);
	for (;;) {
		while (sync_asked == sync_done)
			pthread_cond_wait(&sync_cond, &sync_lock);
		unsigned long upto = sync_asked;

		pthread_mutex_unlock(&sync_lock);
		if (syncfs(fd) < 0)
			die("syncfs");
		pthread_mutex_lock(&sync_lock);
		sync_done = upto;
		for (int i = 0; i < nloops; i++)
			(void)!write(loops[i].efd, &one, sizeof(one));
	}
	return NULL;
}

static void acknowledge(struct loop *l, struct sess *s)
{
	s->state = S_CMD;
	say(s, "250 2.0.0 stored\r\n");
	/* what a pipelining client sent after the message; a session to end
	 * is shut down, and closed when the loop next reads it (it may still
	 * be among this round's events) */
	if (s->len > 0 && sess_run(l, s) < 0)
		shutdown(s->fd, SHUT_RDWR);
}

/* The round's files are whole: close them, name them in new/, and ask for
 * a sync that starts after that (or, without syncs, acknowledge now). */
static void commit_round(struct loop *l)
{
	struct sess *round[BATCH_MAX];
	int n = l->nbatch;

	memcpy(round, l->batch, sizeof(round[0]) * (size_t)n);
	l->nbatch = 0;
	for (int i = 0; i < n; i++) {
		struct sess *s = round[i];
		char from[NAME_MAX_LEN], to[NAME_MAX_LEN];

		close(s->file);
		s->file = -1;
		snprintf(from, sizeof(from), "%s/%s/tmp/%s", root, s->box, s->name);
		snprintf(to, sizeof(to), "%s/%s/new/%s", root, s->box, s->name);
		if (rename(from, to) < 0)
			die("rename");
	}
	if (nosync) {
		for (int i = 0; i < n; i++)
			acknowledge(l, round[i]);
		return;
	}
	pthread_mutex_lock(&sync_lock);
	unsigned long gen = ++sync_asked;

	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_lock);
	for (int i = 0; i < n; i++) {
		round[i]->gen = gen;
		round[i]->next = NULL;
		*l->waiting_tail = round[i];
		l->waiting_tail = &round[i]->next;
	}
}

/* The sync thread says a syncfs ended: acknowledge what it covered. */
static void sync_ended(struct loop *l)
{
	uint64_t v;

	(void)!read(l->efd, &v, sizeof(v));
	pthread_mutex_lock(&sync_lock);
	unsigned long done = sync_done;

	pthread_mutex_unlock(&sync_lock);
	while (l->waiting != NULL && l->waiting->gen <= done) {
		struct sess *s = l->waiting;

		l->waiting = s->next;
		if (l->waiting == NULL)
			l->waiting_tail = &l->waiting;
		acknowledge(l, s);
	}
}

/* Handles what the session has buffered; -1 closes it. */
static int sess_run(struct loop *l, struct sess *s)
{
	for (;;) {
		if (s->state == S_SYNC)
			return 0;
		if (s->state == S_DATA) {
			size_t from = s->scan > 2 ? s->scan - 2 : 0;
			char *end = memmem(s->buf + from, s->len - from, "\r\n.\r\n", 5);

			if (end == NULL) {
				s->scan = s->len;
				return s->len < BUF_MAX ? 0 : -1;
			}
			size_t msg = (size_t)(end - s->buf) + 2, used = msg + 3;
			if (sess_store(l, s, msg) < 0)
				return -1;
			memmove(s->buf, s->buf + used, s->len - used);
			s->len -= used;
			return 0;
		}
		char *nl = memchr(s->buf, '\n', s->len);
		if (nl == NULL)
			return s->len < BUF_MAX ? 0 : -1;
		size_t used = (size_t)(nl - s->buf) + 1;
		const char *line = s->buf;

		if (strncasecmp(line, "HELO", 4) == 0 || strncasecmp(line, "EHLO", 4) == 0 ||
		    strncasecmp(line, "MAIL", 4) == 0 || strncasecmp(line, "RSET", 4) == 0 ||
		    strncasecmp(line, "NOOP", 4) == 0) {
			say(s, "250 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
			const char *at = memchr(line + 9, '@', used - 9);
			size_t n = at != NULL ? (size_t)(at - line - 9) : 0;

			if (n == 0 || n >= sizeof(s->box) || memchr(line + 9, '/', n) != NULL) {
				say(s, "550 no such user\r\n");
			} else {
				memcpy(s->box, line + 9, n);
				s->box[n] = '\0';
				say(s, "250 ok\r\n");
			}
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			say(s, "354 go ahead\r\n");
			s->state = S_DATA;
			s->scan = 0;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(s, "221 bye\r\n");
			return -1;
		} else {
			say(s, "500 what\r\n");
		}
		memmove(s->buf, s->buf + used, s->len - used);
		s->len -= used;
	}
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[256];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->waiting_tail = &l->waiting;
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(l->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l->lfd, 1024) < 0)
		die("listen");
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	struct epoll_event eev = { .events = EPOLLIN, .data.ptr = &l->efd };
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &lev) < 0 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->efd, &eev) < 0)
		die("epoll_ctl");
	for (;;) {
		int n = epoll_wait(l->ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;

			if ((void *)s == &l->efd) {
				sync_ended(l);
				continue;
			}
			if (s == NULL) {
				int fd;

				while ((fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct sess *ns = malloc(sizeof(*ns));
					struct epoll_event ev = { .events = EPOLLIN };

					if (ns == NULL)
						die("malloc");
					ns->fd = fd;
					ns->state = S_CMD;
					ns->len = 0;
					ns->file = -1;
					ev.data.ptr = ns;
					epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
					say(ns, "220 floor ESMTP\r\n");
				}
				continue;
			}
			if (s->state == S_SYNC)
				continue;	/* a pipelining client: read after the sync */
			ssize_t r = read(s->fd, s->buf + s->len, BUF_MAX - s->len);
			if (r <= 0 || (s->len += (size_t)r, sess_run(l, s) < 0))
				sess_close(l, s);
		}
		while (l->nbatch > 0)
			commit_round(l);	/* (a pipelining client may add to it) */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "nosync") != 0)) {
		fprintf(stderr, "usage: smtp-floor PORT MAILROOT THREADS [nosync]\n");
		return 2;
	}
	nosync = argc == 5;
	port = (unsigned short)atoi(argv[1]);
	root = argv[2];
	int threads = atoi(argv[3]);
	if (threads < 1 || threads > 64)
		return 2;
	pthread_t t[64], st;

	loops = calloc((size_t)threads, sizeof(*loops));
	nloops = threads;
	for (int i = 0; i < threads; i++) {
		loops[i].id = (unsigned)i;
		if ((loops[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			die("eventfd");
	}
	if (!nosync && pthread_create(&st, NULL, sync_main, NULL) != 0)
		die("pthread_create");
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&t[i], NULL, loop_main, &loops[i]) != 0)
			die("pthread_create");
	}
	pthread_join(t[0], NULL);
	return 0;
}
