/* The header edits of the spam filter: forged verdict fields out, the
 * Subject tag in. */
#include "spam/spam_tag.h"

#include "mail/header.h"

#include <string.h>
#include <strings.h>

/* Level 1 takes only what the model is sure of; every level below it
 * halves the odds it needs, roughly; 6 tags anything leaning to spam. */
static const double spam_thresholds[SPAM_LEVEL_MAX] = { 6.0, 4.0, 2.0, 1.0, 0.0, -1.0 };

double spam_level_threshold(unsigned level)
{
	if (level < SPAM_LEVEL_MIN)
		level = SPAM_LEVEL_MIN;
	if (level > SPAM_LEVEL_MAX)
		level = SPAM_LEVEL_MAX;
	return spam_thresholds[level - 1];
}

bool spam_tag_is_verdict_field(const char *name, size_t len)
{
	static const char *const names[] = { "x-spam-status", "x-spam-score", "x-spam-level",
					     "x-spam-flag", NULL };

	for (size_t i = 0; names[i] != NULL; i++) {
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return true;
	}
	return false;
}

/* Whether value (raw, after the colon) starts with the tag after blanks
 * and folding. */
static size_t spam_tag_value_start(const struct mail_header_field *f)
{
	size_t i = 0;

	while (i < f->value_len && (f->value[i] == ' ' || f->value[i] == '\t' || f->value[i] == '\r' ||
				    f->value[i] == '\n'))
		i++;
	return i;
}

size_t spam_tag_edits(const char *msg, size_t len, enum spam_tag_mode mode, struct spam_edit *out,
		      size_t max, bool *subject_r)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t hsize = mail_header_block_size(msg, len), n = 0, end = 0;
	bool subject = false, ended = false;

	mail_header_iter_init(&it, msg, hsize);
	while (mail_header_iter_next(&it, &f)) {
		struct spam_edit e = { f.offset, 0, NULL };

		end = f.offset + f.size;

		/* what the copy holds just before end: a line end is needed there */
		ended = spam_tag_is_verdict_field(f.name, f.name_len) ? f.offset == 0 || msg[f.offset - 1] == '\n'
								     : f.size > 0 && msg[end - 1] == '\n';
		if (spam_tag_is_verdict_field(f.name, f.name_len)) {
			e.remove = f.size;
		} else if (!subject && mail_header_field_is(&f, "subject")) {
			size_t start = spam_tag_value_start(&f), tlen = strlen(SPAM_TAG);
			bool tagged = f.value_len - start >= tlen && memcmp(f.value + start, SPAM_TAG, tlen) == 0;

			subject = true;
			e.offset = (size_t)(f.value - msg) + start;
			if (mode == SPAM_TAG_REMOVE && tagged) {
				e.remove = tlen;
				if (f.value_len - start > tlen && f.value[start + tlen] == ' ')
					e.remove++;
			} else if (mode == SPAM_TAG_ADD && !tagged) {
				/* "Subject:" with no blank before the value gets one */
				e.insert = start == 0 ? " " SPAM_TAG " " : SPAM_TAG " ";
			} else {
				continue;
			}
		} else {
			continue;
		}
		if (n < max)
			out[n] = e;
		n++;
	}
	/* no Subject at all: the tag gets one, after the last field */
	if (mode == SPAM_TAG_ADD && !subject && end > 0) {
		struct spam_edit e = { end, 0, ended ? "Subject: " SPAM_TAG "\r\n" : "\r\nSubject: " SPAM_TAG "\r\n" };

		if (n < max)
			out[n] = e;
		n++;
	}
	*subject_r = subject;
	return n;
}

size_t spam_tag_apply(const char *msg, size_t len, const struct spam_edit *e, size_t n, char *out)
{
	size_t pos = 0, o = 0;

	for (size_t i = 0; i <= n; i++) {
		size_t end = i < n ? e[i].offset : len;

		memcpy(out + o, msg + pos, end - pos);
		o += end - pos;
		if (i == n)
			break;
		if (e[i].insert != NULL) {
			memcpy(out + o, e[i].insert, strlen(e[i].insert));
			o += strlen(e[i].insert);
		}
		pos = e[i].offset + e[i].remove;
	}
	return o;
}
