#ifndef YUBIN_SPAM_SPAM_TAG_H
#define YUBIN_SPAM_SPAM_TAG_H

#include <stdbool.h>
#include <stddef.h>

/* What the filter changes in a message it delivers (pure): the X-Spam-*
 * fields that arrived with it are dropped (a sender must not be able to
 * claim a verdict), and a message found to be spam gets "[SPAM] " in front
 * of its Subject. The score's thresholds per level live here too, so the
 * daemon and yubinctl read the same scale. */

#define SPAM_TAG "[SPAM]"
#define SPAM_LEVEL_MIN 1
#define SPAM_LEVEL_MAX 6
#define SPAM_LEVEL_DEFAULT 3

/* The log-odds a message's score must exceed to be spam at level (1..6;
 * out-of-range levels are clamped). Level 3, the default, is 2.0 (P(spam)
 * 0.88), the threshold of the benchmark's false-positive target. */
double spam_level_threshold(unsigned level);

/* One change to the message: remove bytes [offset, offset + remove), then
 * put insert (NUL-terminated, or NULL) there. Edits come in offset order
 * and never overlap. */
struct spam_edit {
	size_t offset;
	size_t remove;
	const char *insert;
};

/* True for the verdict fields the filter writes (X-Spam-Status,
 * X-Spam-Score, X-Spam-Level, X-Spam-Flag), any case. */
bool spam_tag_is_verdict_field(const char *name, size_t len);

enum spam_tag_mode {
	SPAM_TAG_KEEP,		/* the Subject as it is */
	SPAM_TAG_ADD,		/* "[SPAM] " in front of it, once */
	SPAM_TAG_REMOVE,	/* a leading "[SPAM] " taken off (before learning) */
};

/* The edits for msg's header: every verdict field removed, and the
 * Subject changed as mode says. The tag goes after the value's leading
 * blanks, so an RFC 2047 encoded word stays whole, and not when the value
 * already starts with "[SPAM]"; a header without a Subject gets
 * "Subject: [SPAM]" after its last field. Writes at most max edits; returns how many
 * there are (more than max: call again with room for them). *subject_r
 * tells whether the header has a Subject field at all. */
size_t spam_tag_edits(const char *msg, size_t len, enum spam_tag_mode mode, struct spam_edit *out,
		      size_t max, bool *subject_r);
/* Applies edits made by spam_tag_edits for msg into out (room for len
 * plus the inserts); returns the new length. */
size_t spam_tag_apply(const char *msg, size_t len, const struct spam_edit *e, size_t n, char *out);

#endif
