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
#include <sys/stat.h>
#include <unistd.h>

/* ---- message sets ---------------------------------------------------------- */

static size_t view_index_of_uid(const struct imap_session *s, uint32_t uid, bool *found)
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
			from = view_index_of_uid(s, ranges[r][0], &found);
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

const struct index_msg *imap_index_find(const struct index_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->msgs[mid].uid == uid)
			return &v->msgs[mid];
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int imap_msgs_prepare(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *set,
		      bool uid, bool allow_expunge, struct index_view *v, size_t **idx_r, size_t *count_r)
{
	const char *error;

	if (mail_index_sync(s->idx, &s->mbox, v) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return -1;
	}
	imap_view_update(s, v, allow_expunge);
	if (imap_msgset_resolve(s, set, uid, idx_r, count_r, &error) < 0) {
		index_view_free(v);
		imap_tagged(s, cmd, "BAD", "%s", error);
		return -1;
	}
	return 0;
}

/* ---- message bodies --------------------------------------------------------- */

char *imap_msg_read(const struct imap_session *s, const struct index_msg *m, size_t *len_r)
{
	char path[4096 + 256];

	if (mail_index_msg_path(&s->mbox, m, path, sizeof(path)) < 0)
		return NULL;
	return fs_read_file(path, (size_t)s->max_message_size * 2, len_r);
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

/* One message's FETCH response. Returns -1 when the message is gone. */
static int fetch_one(struct imap_session *s, size_t seq, const struct index_msg *m,
		     const struct imap_fetch *f, bool add_flags)
{
	char *msg = NULL;
	size_t len = 0;
	struct strbuf sec = STRBUF_INIT;
	bool first = true, whole_file, header_only = true;
	size_t start;

	imap_keywords_check(s, m->keywords);
	start = s->out.len;

	/* Items that need no more than the header (a client's message list)
	 * read only the start of the file. */
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

	strbuf_printf(&s->out, "* %zu FETCH (", seq);
	for (size_t i = 0; i < f->count; i++) {
		const struct imap_fetch_item *it = &f->items[i];
		bool needs_body = it->type == IMAP_FETCH_RFC822 || it->type == IMAP_FETCH_RFC822_HEADER ||
				  it->type == IMAP_FETCH_RFC822_TEXT || it->type == IMAP_FETCH_BODY_SECTION ||
				  it->type == IMAP_FETCH_BINARY || it->type == IMAP_FETCH_BINARY_SIZE ||
				  it->type == IMAP_FETCH_ENVELOPE || it->type == IMAP_FETCH_BODY ||
				  it->type == IMAP_FETCH_BODYSTRUCTURE;

		if (needs_body && msg == NULL && (msg = imap_msg_load(s, m, header_only, &len, &whole_file)) == NULL) {
			/* Expunged meanwhile: no partial response. */
			strbuf_truncate(&s->out, start);
			strbuf_free(&sec);
			return -1;
		}
		if (!first)
			strbuf_append_c(&s->out, ' ');
		first = false;
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
			strbuf_printf(&s->out, "UID %u", m->uid);
			break;
		case IMAP_FETCH_MODSEQ:
			strbuf_printf(&s->out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
			break;
		case IMAP_FETCH_RFC822:
		case IMAP_FETCH_RFC822_HEADER:
		case IMAP_FETCH_RFC822_TEXT:
		case IMAP_FETCH_BODY_SECTION:
		case IMAP_FETCH_BINARY:
		case IMAP_FETCH_BINARY_SIZE: {
			struct imap_fetch_section whole = { NULL, 0, IMAP_SECTION_NONE, NULL, 0 };
			const struct imap_fetch_section *sp = &it->section;
			int r;

			if (it->type == IMAP_FETCH_RFC822)
				sp = &whole;
			else if (it->type == IMAP_FETCH_RFC822_HEADER)
				whole.text = IMAP_SECTION_HEADER, sp = &whole;
			else if (it->type == IMAP_FETCH_RFC822_TEXT)
				whole.text = IMAP_SECTION_TEXT, sp = &whole;
			strbuf_truncate(&sec, 0);
			r = sp->nparts > 0 ? imap_fetch_part(msg, len, sp, it->type != IMAP_FETCH_BODY_SECTION, &sec)
					   : section_bytes(msg, len, sp, &sec);
			if (r < 0) {
				/* A part that does not exist is empty (RFC 9051 6.4.5). */
				strbuf_truncate(&sec, 0);
			}
			if (it->type == IMAP_FETCH_BINARY_SIZE)
				strbuf_printf(&s->out, "%s %zu", it->response_name, sec.len);
			else if (it->type == IMAP_FETCH_RFC822 || it->type == IMAP_FETCH_RFC822_HEADER ||
				 it->type == IMAP_FETCH_RFC822_TEXT) {
				strbuf_printf(&s->out, "%s ", it->response_name);
				out_literal(s, sec.data != NULL ? sec.data : "", sec.len, false);
			} else {
				out_section(s, it, sec.data != NULL ? sec.data : "", sec.len);
			}
			break;
		}
		case IMAP_FETCH_ENVELOPE:
		case IMAP_FETCH_BODY:
		case IMAP_FETCH_BODYSTRUCTURE:
			imap_fetch_structure(s, it->type, msg, len);
			break;
		}
	}
	if (add_flags) {
		strbuf_append_str(&s->out, first ? "FLAGS " : " FLAGS ");
		imap_out_flags(s, m->flags, m->keywords, s->view[seq - 1].recent);
	}
	strbuf_append(&s->out, ")\r\n", 3);
	strbuf_free(&sec);
	free(msg);
	return 0;
}

void imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_fetch f;
	struct index_view v;
	const char *error;
	size_t *idx, n;

	if (cmd->count < 2) {
		imap_tagged(s, cmd, "BAD", "Syntax: FETCH set items");
		return;
	}
	if (imap_fetch_parse(cmd->args + 1, cmd->count - 1, cmd->uid, imap_parser_arena(s->parser), &f,
			     &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	if (imap_msgs_prepare(s, cmd, &cmd->args[0], cmd->uid, cmd->uid, &v, &idx, &n) < 0)
		return;
	/* CHANGEDSINCE or the MODSEQ item turn CONDSTORE on (RFC 7162 3.1) */
	for (size_t k = 0; k < f.count; k++) {
		if (f.has_changedsince || f.items[k].type == IMAP_FETCH_MODSEQ)
			imap_condstore_enable(s, v.highestmodseq);
	}
	for (size_t i = 0; i < n; i++) {
		struct index_msg *m = (struct index_msg *)imap_index_find(&v, s->view[idx[i]].uid);
		bool add_flags = false;

		if (m == NULL)
			continue;	/* expunged meanwhile; announced later */
		if (f.has_changedsince && m->modseq <= f.changedsince)
			continue;
		if (f.sets_seen && !s->readonly && !(m->flags & INDEX_FLAG_SEEN)) {
			if (mail_index_set_flags(s->idx, &s->mbox, m, m->flags | INDEX_FLAG_SEEN, NULL) == 0) {
				s->view[idx[i]].flags = m->flags;
				s->view[idx[i]].modseq = m->modseq;
				add_flags = true;
				for (size_t k = 0; k < f.count; k++)
					add_flags &= f.items[k].type != IMAP_FETCH_FLAGS;
			}
		}
		fetch_one(s, idx[i] + 1, m, &f, add_flags);
	}
	free(idx);
	index_view_free(&v);
	imap_tagged(s, cmd, "OK", "%sFETCH completed", cmd->uid ? "UID " : "");
}
