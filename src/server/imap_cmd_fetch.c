/* FETCH (RFC 3501 6.4.5 / RFC 9051 6.4.5) with CONDSTORE CHANGEDSINCE, and
 * the message-set resolution shared by FETCH, STORE, COPY, MOVE and UID
 * EXPUNGE. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "mail/header.h"
#include "proto/imap_date.h"
#include "proto/imap_fetch.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- message sets ---------------------------------------------------------- */

size_t imap_view_index_of_uid(const struct imap_session *s, uint32_t uid, bool *found)
{
	size_t lo = 0, hi = s->nview;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->view[mid].uid == uid) {
			*found = true;
			return mid;
		}
		if (s->view[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int imap_msgset_resolve(struct imap_session *s, const struct imap_arg *arg, bool uid,
			size_t **idx_r, size_t *count_r, const char **error_r)
{
	struct imap_arena *a = imap_parser_arena(s->parser);
	struct imap_seqset set;
	uint32_t (*ranges)[2];
	size_t nranges, n = 0, cap = 16;
	size_t *idx;
	uint32_t star;

	*idx_r = NULL;
	*count_r = 0;
	if (imap_seqset_parse_arg(arg, false, a, &set, error_r) < 0)
		return -1;
	star = uid ? (s->nview > 0 ? s->view[s->nview - 1].uid : 0) : (uint32_t)s->nview;
	if (imap_seqset_resolve(&set, star, a, &ranges, &nranges) < 0) {
		*error_r = "Out of memory";
		return -1;
	}
	idx = malloc(cap * sizeof(*idx));
	if (idx == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	for (size_t r = 0; r < nranges; r++) {
		size_t from, to;
		bool found;

		if (uid) {
			from = imap_view_index_of_uid(s, ranges[r][0], &found);
			to = s->nview;
			for (size_t i = from; i < s->nview; i++) {
				if (s->view[i].uid > ranges[r][1]) {
					to = i;
					break;
				}
			}
		} else {
			if (ranges[r][0] > s->nview || ranges[r][0] == 0) {
				free(idx);
				*error_r = "Invalid message sequence number";
				return -1;
			}
			from = ranges[r][0] - 1;
			to = ranges[r][1] > s->nview ? s->nview : ranges[r][1];
		}
		for (size_t i = from; i < to; i++) {
			if (n == cap) {
				size_t *grown = realloc(idx, (cap *= 2) * sizeof(*idx));
				if (grown == NULL) {
					free(idx);
					*error_r = "Out of memory";
					return -1;
				}
				idx = grown;
			}
			idx[n++] = i;
		}
	}
	*idx_r = idx;
	*count_r = n;
	return 0;
}

/* ---- message bodies --------------------------------------------------------- */

char *imap_msg_read(const struct imap_session *s, const struct index_msg *m, size_t *len_r)
{
	char path[4096 + 256];

	if (mail_index_msg_path(&s->mbox, m, path, sizeof(path)) < 0)
		return NULL;
	/* Whatever was stored can be read back (the size limits are for
	 * what comes in). */
	return fs_read_file(path, SIZE_MAX - 1, len_r);
}

/* The start of a message file, enough to hold its header: up to the blank
 * line that ends it when that comes within the first IMAP_HEAD_READ bytes
 * (*whole_r false unless that was the whole file), else the whole file. */
#define IMAP_HEAD_READ 16384

char *imap_msg_read_head(const struct imap_session *s, const struct index_msg *m, size_t *len_r,
			 bool *whole_r)
{
	char path[4096 + 256];
	char *buf;
	size_t len = 0;
	int fd;

	*whole_r = false;
	if (mail_index_msg_path(&s->mbox, m, path, sizeof(path)) < 0)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(IMAP_HEAD_READ + 1);
	while (buf != NULL && len < IMAP_HEAD_READ) {
		ssize_t n = read(fd, buf + len, IMAP_HEAD_READ - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (n == 0) {
			*whole_r = true;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return NULL;
	buf[len] = '\0';
	if (!*whole_r && memmem(buf, len, "\r\n\r\n", 4) == NULL && memmem(buf, len, "\n\n", 2) == NULL) {
		free(buf);
		buf = imap_msg_read(s, m, len_r);
		*whole_r = buf != NULL;
		return buf;
	}
	*len_r = len;
	return buf;
}

char *imap_msg_load(struct imap_session *s, const struct index_msg *m, bool header_only, size_t *len_r,
		    bool *whole_r)
{
	struct index_view v;
	char *data;

	*whole_r = true;
	data = header_only ? imap_msg_read_head(s, m, len_r, whole_r) : imap_msg_read(s, m, len_r);
	if (data != NULL || s->idx == NULL)
		return data;
	/* Renamed since the command's sync (another session changed its
	 * flags): read it under its current name, if it still exists. */
	if (mail_index_sync(s->idx, &s->mbox, &v) == 0) {
		const struct index_msg *now = imap_index_find(&v, m->uid);
		if (now != NULL && strcmp(now->file, m->file) != 0)
			data = header_only ? imap_msg_read_head(s, now, len_r, whole_r)
					   : imap_msg_read(s, now, len_r);
		index_view_free(&v);
	}
	return data;
}

/* Appends the bytes a section of a message (without part numbers) stands
 * for. Part sections go through the MIME tree (imap_fetch_part). */
static int section_bytes(const char *msg, size_t len, const struct imap_fetch_section *sec,
			 struct strbuf *out)
{
	size_t hdr = mail_header_block_size(msg, len);

	switch (sec->text) {
	case IMAP_SECTION_NONE:
		strbuf_append(out, msg, len);
		return 0;
	case IMAP_SECTION_HEADER:
		strbuf_append(out, msg, hdr);
		return 0;
	case IMAP_SECTION_TEXT:
		strbuf_append(out, msg + hdr, len - hdr);
		return 0;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		imap_header_fields(msg, hdr, sec, out);
		return 0;
	default:
		return -1;
	}
}

/* A literal of data: literal8 for BINARY content with NUL (RFC 3516).
 * An ordinary literal cannot carry NUL (CHAR8): a stored message that
 * has some (SMTP took it, or an APPEND of literal8) shows each as 0x80
 * there, as Dovecot does; BINARY[] still gives the exact bytes. */
static void out_literal(struct imap_session *s, const char *data, size_t len, bool binary)
{
	bool has_nul = memchr(data, '\0', len) != NULL;
	size_t start;

	strbuf_printf(&s->out, "%s{%zu}\r\n", has_nul && binary ? "~" : "", len);
	start = s->out.len;
	strbuf_append(&s->out, data, len);
	for (size_t i = start; has_nul && !binary && i < s->out.len; i++) {
		if (s->out.data[i] == '\0')
			s->out.data[i] = (char)0x80;
	}
}

static void out_section(struct imap_session *s, const struct imap_fetch_item *it, const char *data,
			size_t len)
{
	size_t off = 0, n = len;

	if (it->partial) {
		off = it->offset < len ? it->offset : len;
		n = len - off;
		if (it->length < n)
			n = it->length;
	}
	strbuf_printf(&s->out, "%s ", it->response_name);
	out_literal(s, data + off, n, it->type == IMAP_FETCH_BINARY);
}

/* ---- FETCH in pieces ----------------------------------------------------------
 * A FETCH of many or big messages would otherwise be built whole in memory.
 * The job stops once its output passes FETCH_OUT_CHUNK, and the loop sends
 * it and runs the job again when the client has read it. Messages of
 * FETCH_MAP_MIN bytes and more are mapped rather than read, and their
 * sections of FETCH_STREAM_MIN bytes and more (BODY[], BODY[TEXT], a part,
 * a partial range) go out from the file by offset: the job writes the
 * literal's size and stops, and the loop sends the bytes as the output
 * drains (imap_session.c). */
#define FETCH_OUT_CHUNK (256 * 1024)
#define FETCH_MAP_MIN (256 * 1024)
#define FETCH_STREAM_MIN (64 * 1024)

struct fetch_map {
	char *data;	/* the file, then at least one zero byte */
	size_t len, maplen;
	int fd;
};

#define FETCH_SEEN_BATCH 64

struct imap_fetch_run {
	struct imap_fetch f;
	struct index_view v;
	size_t *idx, n;
	size_t next;		/* the message being sent (position in idx) */
	size_t item;		/* its next item when a streamed literal cut it, else 0 */
	bool add_flags;
	bool add_uid;		/* QRESYNC on and no UID item asked for */
	struct fetch_map map;	/* that message's file when it is big */
	/* \Seen set by BODY[] and RFC822: one index transaction for the
	 * next FETCH_SEEN_BATCH messages; the UIDs it changed, in order */
	size_t seen_to;		/* positions below it have had theirs */
	uint32_t marked[FETCH_SEEN_BATCH];
	size_t nmarked, mcur;
};

/* A message file, opened under its current name if another session
 * renamed it since the command's sync; -1 when it is gone. */
static int fetch_open(struct imap_session *s, const struct index_msg *m)
{
	char path[4096 + 256];
	struct index_view v;
	int fd = -1;

	if (mail_index_msg_path(&s->mbox, m, path, sizeof(path)) == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || s->idx == NULL)
		return fd;
	if (mail_index_sync(s->idx, &s->mbox, &v) == 0) {
		const struct index_msg *now = imap_index_find(&v, m->uid);
		if (now != NULL && strcmp(now->file, m->file) != 0 &&
		    mail_index_msg_path(&s->mbox, now, path, sizeof(path)) == 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		index_view_free(&v);
	}
	return fd;
}

/* Maps a message file read-only, followed by zero bytes (the parsers may
 * look at data[len]). Pages come in only where the message is read. */
static int fetch_map_open(struct fetch_map *map, int fd)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	void *base;

	if (fstat(fd, &st) < 0)
		return -1;
	map->len = (size_t)st.st_size;
	map->maplen = (map->len / page + 1) * page;
	base = mmap(NULL, map->maplen, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	if (map->len > 0 && mmap(base, map->len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
		munmap(base, map->maplen);
		return -1;
	}
	map->data = base;
	map->fd = fd;
	return 0;
}

static void fetch_map_close(struct fetch_map *map)
{
	if (map->data != NULL)
		munmap(map->data, map->maplen);
	if (map->fd >= 0)
		close(map->fd);
	map->data = NULL;
	map->fd = -1;
}

static int fetch_map_message(struct imap_session *s, struct imap_fetch_run *run, const struct index_msg *m)
{
	int fd = fetch_open(s, m);

	if (fd >= 0 && fetch_map_open(&run->map, fd) == 0)
		return 0;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Where a section lies in the message, when it is one run of bytes. */
static int section_range(const char *msg, size_t len, const struct imap_fetch_section *sec, size_t *off_r,
			 size_t *len_r)
{
	size_t hdr;

	if (sec->nparts > 0)
		return imap_fetch_part_range(msg, len, sec, off_r, len_r);
	hdr = mail_header_block_size(msg, len);
	switch (sec->text) {
	case IMAP_SECTION_NONE:
		*off_r = 0, *len_r = len;
		return 0;
	case IMAP_SECTION_HEADER:
		*off_r = 0, *len_r = hdr;
		return 0;
	case IMAP_SECTION_TEXT:
		*off_r = hdr, *len_r = len - hdr;
		return 0;
	default:
		return -1;
	}
}

/* For a mapped message: when the item's bytes are one big run, writes the
 * item's name and literal size and hands the run to the loop to stream
 * (true); false leaves the item to the in-memory path. */
static bool fetch_stream_item(struct imap_session *s, struct imap_fetch_run *run,
			      const struct imap_fetch_item *it)
{
	struct imap_fetch_section whole = { NULL, 0, IMAP_SECTION_NONE, NULL, 0 };
	const struct imap_fetch_section *sp = &it->section;
	size_t off, n;
	int fd;

	if (it->type == IMAP_FETCH_RFC822_TEXT)
		whole.text = IMAP_SECTION_TEXT;
	if (it->type == IMAP_FETCH_RFC822 || it->type == IMAP_FETCH_RFC822_TEXT)
		sp = &whole;
	else if (it->type != IMAP_FETCH_BODY_SECTION)
		return false;	/* BINARY decodes; RFC822.HEADER is small */
	if (section_range(run->map.data, run->map.len, sp, &off, &n) < 0)
		return false;
	if (it->partial) {
		size_t skip = it->offset < n ? it->offset : n;
		off += skip;
		n -= skip;
		if (it->length < n)
			n = it->length;
	}
	/* the loop sends NUL as 0x80, as out_literal does */
	if (n < FETCH_STREAM_MIN || (fd = dup(run->map.fd)) < 0)
		return false;
	strbuf_printf(&s->out, "%s {%zu}\r\n", it->response_name, n);
	s->stream_fd = fd;
	s->stream_off = off;
	s->stream_left = n;
	return true;
}

/* Items that need no more than the header (a client's message list) read
 * only the start of the file. */
static bool fetch_is_header_only(const struct imap_fetch *f)
{
	bool header_only = true;

	for (size_t i = 0; i < f->count && header_only; i++) {
		const struct imap_fetch_item *it = &f->items[i];
		header_only = it->type == IMAP_FETCH_FLAGS || it->type == IMAP_FETCH_INTERNALDATE ||
			      it->type == IMAP_FETCH_RFC822_SIZE || it->type == IMAP_FETCH_UID ||
			      it->type == IMAP_FETCH_MODSEQ || it->type == IMAP_FETCH_RFC822_HEADER ||
			      (it->type == IMAP_FETCH_BODY_SECTION && it->section.nparts == 0 &&
			       !it->partial &&
			       (it->section.text == IMAP_SECTION_HEADER ||
				it->section.text == IMAP_SECTION_HEADER_FIELDS ||
				it->section.text == IMAP_SECTION_HEADER_FIELDS_NOT));
	}
	return header_only;
}

static void fetch_section(struct imap_session *s, const struct imap_fetch_item *it, const char *msg, size_t len,
			  struct strbuf *sec)
{
	struct imap_fetch_section whole = { NULL, 0, IMAP_SECTION_NONE, NULL, 0 };
	const struct imap_fetch_section *sp = &it->section;
	int r;

	if (it->type == IMAP_FETCH_RFC822)
		sp = &whole;
	else if (it->type == IMAP_FETCH_RFC822_HEADER)
		whole.text = IMAP_SECTION_HEADER, sp = &whole;
	else if (it->type == IMAP_FETCH_RFC822_TEXT)
		whole.text = IMAP_SECTION_TEXT, sp = &whole;
	strbuf_truncate(sec, 0);
	r = sp->nparts > 0 ? imap_fetch_part(msg, len, sp, it->type != IMAP_FETCH_BODY_SECTION, sec)
			   : section_bytes(msg, len, sp, sec);
	if (r < 0) {
		/* A part that does not exist is empty (RFC 9051 6.4.5). */
		strbuf_truncate(sec, 0);
	}
	if (it->type == IMAP_FETCH_BINARY_SIZE)
		strbuf_printf(&s->out, "%s %zu", it->response_name, sec->len);
	else if (it->type == IMAP_FETCH_RFC822 || it->type == IMAP_FETCH_RFC822_HEADER ||
		 it->type == IMAP_FETCH_RFC822_TEXT) {
		strbuf_printf(&s->out, "%s ", it->response_name);
		out_literal(s, sec->data != NULL ? sec->data : "", sec->len, false);
	} else {
		out_section(s, it, sec->data != NULL ? sec->data : "", sec->len);
	}
}

/* One message's FETCH response, from item run->item on. Returns 0 when it
 * is complete, 1 when a literal is left to stream (run->item is the item
 * after it), -1 when the message is gone (nothing written). */
static int fetch_one(struct imap_session *s, struct imap_fetch_run *run, size_t seq, const struct index_msg *m)
{
	const struct imap_fetch *f = &run->f;
	bool mapped = m->size >= FETCH_MAP_MIN, whole_file;
	bool header_only = !mapped && fetch_is_header_only(f);
	struct strbuf sec = STRBUF_INIT;
	const char *msg = run->map.data;	/* kept when a literal cut the message */
	char *owned = NULL;
	size_t len = run->map.len, start;

	imap_keywords_check(s, m->keywords);
	start = s->out.len;
	if (run->item == 0) {
		strbuf_append(&s->out, "* ", 2);
		imap_out_uint(s, seq);
		strbuf_append(&s->out, " FETCH (", 8);
	}
	for (size_t i = run->item; i < f->count; i++) {
		const struct imap_fetch_item *it = &f->items[i];
		bool needs_body = it->type == IMAP_FETCH_RFC822 || it->type == IMAP_FETCH_RFC822_HEADER ||
				  it->type == IMAP_FETCH_RFC822_TEXT || it->type == IMAP_FETCH_BODY_SECTION ||
				  it->type == IMAP_FETCH_BINARY || it->type == IMAP_FETCH_BINARY_SIZE ||
				  it->type == IMAP_FETCH_ENVELOPE || it->type == IMAP_FETCH_BODY ||
				  it->type == IMAP_FETCH_BODYSTRUCTURE;

		if (needs_body && msg == NULL) {
			if (mapped ? fetch_map_message(s, run, m) < 0
				   : (owned = imap_msg_load(s, m, header_only, &len, &whole_file)) == NULL) {
				/* Expunged meanwhile: no partial response. */
				strbuf_truncate(&s->out, start);
				strbuf_free(&sec);
				return -1;
			}
			msg = mapped ? run->map.data : owned;
			len = mapped ? run->map.len : len;
		}
		if (i > 0)
			strbuf_append_c(&s->out, ' ');
		switch (it->type) {
		case IMAP_FETCH_FLAGS:
			strbuf_append_str(&s->out, "FLAGS ");
			imap_out_flags(s, m->flags, m->keywords, s->view[seq - 1].recent);
			break;
		case IMAP_FETCH_INTERNALDATE: {
			char date[IMAP_DATETIME_SIZE];
			imap_datetime_format((time_t)m->internaldate, 0, date);
			strbuf_printf(&s->out, "INTERNALDATE \"%s\"", date);
			break;
		}
		case IMAP_FETCH_RFC822_SIZE:
			strbuf_printf(&s->out, "RFC822.SIZE %llu", (unsigned long long)m->size);
			break;
		case IMAP_FETCH_UID:
			strbuf_append(&s->out, "UID ", 4);
			imap_out_uint(s, m->uid);
			break;
		case IMAP_FETCH_MODSEQ:
			strbuf_printf(&s->out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
			break;
		case IMAP_FETCH_RFC822:
		case IMAP_FETCH_RFC822_HEADER:
		case IMAP_FETCH_RFC822_TEXT:
		case IMAP_FETCH_BODY_SECTION:
		case IMAP_FETCH_BINARY:
		case IMAP_FETCH_BINARY_SIZE:
			if (mapped && fetch_stream_item(s, run, it)) {
				run->item = i + 1;
				strbuf_free(&sec);
				return 1;
			}
			fetch_section(s, it, msg, len, &sec);
			break;
		case IMAP_FETCH_ENVELOPE:
		case IMAP_FETCH_BODY:
		case IMAP_FETCH_BODYSTRUCTURE:
			imap_fetch_structure(s, it->type, msg, len);
			break;
		}
	}
	if (run->add_flags) {
		strbuf_append_str(&s->out, f->count == 0 ? "FLAGS " : " FLAGS ");
		imap_out_flags(s, m->flags, m->keywords, s->view[seq - 1].recent);
	}
	/* with QRESYNC every FETCH response names its UID (RFC 7162 3.2.4) */
	if (run->add_uid)
		strbuf_printf(&s->out, " UID %u", m->uid);
	strbuf_append(&s->out, ")\r\n", 3);
	strbuf_free(&sec);
	free(owned);
	run->item = 0;
	fetch_map_close(&run->map);
	return 0;
}

void imap_fetch_run_free(struct imap_session *s)
{
	struct imap_fetch_run *run = s->fetch;

	if (run == NULL)
		return;
	fetch_map_close(&run->map);
	free(run->idx);
	index_view_free(&run->v);
	free(run);
	s->fetch = NULL;
}

void imap_fetch_abort(struct imap_session *s)
{
	if (s->fetch != NULL && s->fetch->item > 0)
		strbuf_append(&s->out, ")\r\n", 3);
	imap_fetch_run_free(s);
}

/* UID FETCH's VANISHED modifier (RFC 7162 3.2.6): the UIDs of the set that
 * are gone, unless nothing was expunged since CHANGEDSINCE's mod-sequence
 * (every expunge moves HIGHESTMODSEQ). */
static void fetch_vanished(struct imap_session *s, const struct imap_command *cmd,
			   const struct imap_fetch_run *run)
{
	struct imap_arena *a = imap_parser_arena(s->parser);
	struct imap_seqset set;
	uint32_t (*ranges)[2];
	size_t n;
	const char *error;

	if (run->f.changedsince >= run->v.highestmodseq ||
	    imap_seqset_parse_arg(&cmd->args[0], true, a, &set, &error) < 0 || set.searchres ||
	    imap_seqset_resolve(&set, s->view_uidnext > 0 ? s->view_uidnext - 1 : 0, a, &ranges, &n) < 0)
		return;
	imap_vanished_earlier(s, (const uint32_t (*)[2])ranges, n, 0);
}

/* Parses the command and resolves its messages; NULL when it replied. */
static struct imap_fetch_run *fetch_run_new(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_fetch_run *run;
	const char *error;

	if (cmd->count < 2) {
		imap_tagged(s, cmd, "BAD", "Syntax: FETCH set items");
		return NULL;
	}
	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return NULL;
	}
	run->map.fd = -1;
	if (imap_fetch_parse(cmd->args + 1, cmd->count - 1, cmd->uid, imap_parser_arena(s->parser), &run->f,
			     &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		free(run);
		return NULL;
	}
	if (run->f.vanished && !s->enabled_qresync) {
		imap_tagged(s, cmd, "BAD", "VANISHED needs QRESYNC (ENABLE QRESYNC first)");
		free(run);
		return NULL;
	}
	if (imap_msgs_prepare(s, cmd, &cmd->args[0], cmd->uid, cmd->uid, &run->v, &run->idx, &run->n) < 0) {
		free(run);
		return NULL;
	}
	if (run->f.vanished)
		fetch_vanished(s, cmd, run);
	run->add_uid = s->enabled_qresync;
	for (size_t k = 0; k < run->f.count; k++)
		run->add_uid &= run->f.items[k].type != IMAP_FETCH_UID;
	/* CHANGEDSINCE or the MODSEQ item turn CONDSTORE on (RFC 7162 3.1) */
	for (size_t k = 0; k < run->f.count; k++) {
		if (run->f.has_changedsince || run->f.items[k].type == IMAP_FETCH_MODSEQ)
			imap_condstore_enable(s, run->v.highestmodseq);
	}
	return run;
}

/* Sets \Seen on the unseen ones among the next FETCH_SEEN_BATCH messages
 * to send, in one index transaction (not one commit per message), and
 * notes which it changed: their replies then carry FLAGS. A client that
 * goes away mid-command may leave a few not yet sent marked read, as with
 * servers that commit a FETCH's flag changes at its end. */
static void fetch_mark_seen(struct imap_session *s, struct imap_fetch_run *run)
{
	struct index_flag_change ch[FETCH_SEEN_BATCH];
	size_t nch = 0, end = run->n - run->next > FETCH_SEEN_BATCH ? run->next + FETCH_SEEN_BATCH : run->n;

	for (size_t p = run->next; p < end; p++) {
		struct index_msg *m = (struct index_msg *)imap_index_find(&run->v, s->view[run->idx[p]].uid);

		if (m == NULL || (m->flags & INDEX_FLAG_SEEN) ||
		    (run->f.has_changedsince && m->modseq <= run->f.changedsince))
			continue;
		ch[nch++] = (struct index_flag_change){ .msg = m, .flags = m->flags | INDEX_FLAG_SEEN };
	}
	mail_index_set_flags_many(s->idx, &s->mbox, ch, nch);
	run->nmarked = 0;
	run->mcur = 0;
	for (size_t i = 0; i < nch; i++) {
		if (ch[i].result == 0)
			run->marked[run->nmarked++] = ch[i].msg->uid;
	}
	run->seen_to = end;
}

/* Sends messages from run->next on; 1 when it stopped for the loop. */
static int fetch_run_continue(struct imap_session *s, struct imap_fetch_run *run)
{
	const struct imap_fetch *f = &run->f;

	for (; run->next < run->n; run->next++) {
		size_t vi = run->idx[run->next];
		struct index_msg *m = (struct index_msg *)imap_index_find(&run->v, s->view[vi].uid);

		if (m == NULL)
			continue;	/* expunged meanwhile; announced later */
		if (run->item == 0) {
			if (f->has_changedsince && m->modseq <= f->changedsince)
				continue;
			run->add_flags = false;
			if (f->sets_seen && !s->readonly && run->next >= run->seen_to)
				fetch_mark_seen(s, run);
			if (f->sets_seen && !s->readonly && run->mcur < run->nmarked &&
			    run->marked[run->mcur] == m->uid) {
				run->mcur++;
				s->view[vi].flags = m->flags;
				s->view[vi].modseq = m->modseq;
				run->add_flags = true;
				for (size_t k = 0; k < f->count; k++)
					run->add_flags &= f->items[k].type != IMAP_FETCH_FLAGS;
			}
		}
		if (fetch_one(s, run, vi + 1, m) > 0)
			return 1;
		if (s->out.len >= FETCH_OUT_CHUNK && run->next + 1 < run->n) {
			run->next++;
			return 1;
		}
	}
	return 0;
}

/* Runs once per piece: s->fetch carries the command over between them. */
void imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	if (s->fetch == NULL && (s->fetch = fetch_run_new(s, cmd)) == NULL)
		return;
	if (fetch_run_continue(s, s->fetch) > 0)
		return;
	imap_fetch_run_free(s);
	imap_tagged(s, cmd, "OK", "%sFETCH completed", cmd->uid ? "UID " : "");
}
