/* The spam step of inbound delivery (see smtp_spam.h): verdict fields
 * from outside removed, allow/block lists, the classifier, the tag. */
#include "server/smtp_spam.h"
#include "server/stats.h"
#include "server/server.h"
#include "directory/directory.h"
#include "mail/header.h"
#include "mail/rfc2047.h"
#include "policy/sendas.h"
#include "policy/spam_cache.h"
#include "spam/spam_list.h"
#include "spam/spam_model.h"
#include "spam/spam_rules.h"
#include "spam/spam_tag.h"
#include "spam/spam_token.h"
#include "lib/log.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <libpsl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPAM_COPY_MEM_MAX (1024 * 1024)	/* as the DATA spool and inbound_auth */
#define SPAM_MAX_BYTES (512 * 1024)	/* the tokenizer looks at no more */
#define SPAM_MAX_TOKENS 20000
#define SPAM_SENDERS 8			/* envelope sender + From: addresses looked at */

void smtp_spam_init(struct smtp_spam *sp, const char *sid, const char *txid, const char *ip)
{
	memset(sp, 0, sizeof(*sp));
	sp->clean_fd = sp->tagged_fd = sp->tag_body_fd = -1;
	str_copy(sp->sid, sizeof(sp->sid), sid);
	str_copy(sp->txid, sizeof(sp->txid), txid);
	str_copy(sp->ip, sizeof(sp->ip), ip);
}

void smtp_spam_free(struct smtp_spam *sp)
{
	free(sp->clean);
	free(sp->tagged);
	if (sp->clean_fd >= 0)
		close(sp->clean_fd);
	if (sp->tagged_fd >= 0)
		close(sp->tagged_fd);
	sp->clean = sp->tagged = NULL;
	sp->clean_fd = sp->tagged_fd = -1;
}

const char *smtp_spam_action_name(enum spam_action a)
{
	static const char *const names[] = { "inbox", "junk", "trash", "delete" };

	return (unsigned)a < 4 ? names[a] : "inbox";
}

/* Writes the ranges of msg between the edits, and the edits' inserts, to
 * fd or into buf. */
static int spam_emit(int fd, char *buf, size_t *out, const char *p, size_t len)
{
	if (buf != NULL) {
		memcpy(buf + *out, p, len);
		*out += len;
		return 0;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
		*out += (size_t)w;
	}
	return 0;
}

/* A copy of msg with the edits made: in memory up to SPAM_COPY_MEM_MAX,
 * else an unnamed file in DATA/tmp. */
static int spam_copy(const char *msg, size_t len, const struct spam_edit *e, size_t n, char **mem_r,
		     int *fd_r, const char **body, int *body_fd, size_t *body_len)
{
	size_t size = len, pos = 0, out = 0;
	char *buf = NULL;
	int fd = -1;

	for (size_t i = 0; i < n; i++)
		size = size - e[i].remove + (e[i].insert != NULL ? strlen(e[i].insert) : 0);
	if (size <= SPAM_COPY_MEM_MAX) {
		if ((buf = malloc(size + 1)) == NULL)
			return -1;
	} else {
		char dir[4200];

		snprintf(dir, sizeof(dir), "%s/tmp", server->data_dir);
		if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
			return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		size_t end = i < n ? e[i].offset : len;

		if (spam_emit(fd, buf, &out, msg + pos, end - pos) < 0 ||
		    (i < n && e[i].insert != NULL && spam_emit(fd, buf, &out, e[i].insert, strlen(e[i].insert)) < 0))
			goto fail;
		if (i < n)
			pos = e[i].offset + e[i].remove;
	}
	*mem_r = buf;
	*fd_r = fd;
	*body = buf;
	*body_fd = fd;
	*body_len = out;
	return 0;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The edits of msg (tag or not) applied into a copy; *changed_r false and
 * nothing copied when there are none. */
static int spam_rewrite(struct smtp_spam *sp, const char *msg, size_t len, enum spam_tag_mode tag, char **mem_r,
			int *fd_r, const char **body, int *body_fd, size_t *body_len, bool *changed_r)
{
	struct spam_edit small[16], *e = small;
	bool subject;
	size_t n = spam_tag_edits(msg, len, tag, small, 16, &subject);
	int rc;

	*changed_r = n > 0;
	if (n == 0)
		return 0;
	if (n > 16) {
		if ((e = calloc(n, sizeof(*e))) == NULL)
			return -1;
		spam_tag_edits(msg, len, tag, e, n, &subject);
	}
	rc = spam_copy(msg, len, e, n, mem_r, fd_r, body, body_fd, body_len);
	if (rc < 0)
		log_error(sp->sid, "smtp: id=%s cannot copy the message for the spam filter: %s", sp->txid,
			  strerror(errno));
	if (e != small)
		free(e);
	return rc;
}

/* The sender addresses the lists look at: the envelope sender and the
 * addresses of the first From: field. */
static size_t spam_senders(const char *env_from, const char *msg, size_t len,
			   char (*out)[SENDAS_ADDR_MAX])
{
	char addrs[SENDAS_HEADER_ADDRS][SENDAS_ADDR_MAX];
	struct mail_header_field f;
	const char *error;
	size_t n = 0, got = 0;

	if (env_from[0] != '\0')
		str_copy(out[n++], SENDAS_ADDR_MAX, env_from);
	if (mail_header_find(msg, mail_header_block_size(msg, len), "from", &f) &&
	    sendas_header_addresses(f.value, f.value_len, addrs, SENDAS_HEADER_ADDRS, &got, &error) == 0) {
		for (size_t i = 0; i < got && n < SPAM_SENDERS; i++)
			str_copy(out[n++], SENDAS_ADDR_MAX, addrs[i]);
	}
	return n;
}

struct spam_list_search {
	const char (*senders)[SENDAS_ADDR_MAX];
	size_t nsenders;
	const char *scope;
	char allow[SPAM_LIST_PATTERN_MAX + 32], block[SPAM_LIST_PATTERN_MAX + 32];
};

static void spam_list_cb(const char *kind, const char *pattern, int64_t created, void *ctx)
{
	struct spam_list_search *ls = ctx;
	char *hit = strcmp(kind, "allow") == 0 ? ls->allow : ls->block;

	if (hit[0] != '\0')
		return;
	for (size_t i = 0; i < ls->nsenders; i++) {
		if (spam_list_match(pattern, ls->senders[i])) {
			snprintf(hit, SPAM_LIST_PATTERN_MAX + 32, "%s (%s)", pattern, ls->scope);
			return;
		}
	}
}

/* The lists of rcpt and of its domain: 1 allowed, 2 blocked, 0 neither;
 * the matching pattern in v->reason. */
static int spam_lists_check(struct directory *dir, const char *rcpt, const char (*senders)[SENDAS_ADDR_MAX],
			    size_t nsenders, struct spam_verdict *v)
{
	struct spam_list_search ls = { .senders = senders, .nsenders = nsenders };
	const char *at = strrchr(rcpt, '@');

	if (dir == NULL || nsenders == 0)
		return 0;
	ls.scope = "account";
	directory_spamlist_list(dir, "account", rcpt, NULL, spam_list_cb, &ls);
	if (at != NULL) {
		ls.scope = "domain";
		directory_spamlist_list(dir, "domain", at + 1, NULL, spam_list_cb, &ls);
	}
	if (ls.allow[0] != '\0') {
		snprintf(v->reason, sizeof(v->reason), "allow list: %s", ls.allow);
		return 1;
	}
	if (ls.block[0] != '\0') {
		snprintf(v->reason, sizeof(v->reason), "block list: %s", ls.block);
		return 2;
	}
	return 0;
}

/* The recipient's settings: false when its filter is off. */
static bool spam_settings(struct directory *dir, const char *rcpt, struct spam_verdict *v)
{
	char text[32];
	uint64_t level;

	if (!settings_account_bool(dir, rcpt, SETTING_SPAM))
		return false;
	settings_account_string(dir, rcpt, SETTING_SPAM_LEVEL, text, sizeof(text));
	if (str_parse_uint(text, SPAM_LEVEL_MAX, &level) < 0 || level < SPAM_LEVEL_MIN)
		level = SPAM_LEVEL_DEFAULT;
	v->level = (unsigned)level;
	v->threshold = spam_level_threshold(v->level);
	settings_account_string(dir, rcpt, SETTING_SPAM_ACTION, text, sizeof(text));
	v->action = strcmp(text, "junk") == 0 ? SPAM_ACTION_JUNK : strcmp(text, "trash") == 0 ?
		    SPAM_ACTION_TRASH : strcmp(text, "delete") == 0 ? SPAM_ACTION_DELETE : SPAM_ACTION_INBOX;
	return true;
}

/* The classifier: tokens once per message (t->count 0 until then), the
 * server's model plus the recipient's own. */
static double spam_classify(const char *rcpt, const char *msg, size_t len, const struct spam_auth *auth,
			    struct spam_tokens *t, bool *tokenized, double *rules_r)
{
	const struct spam_model *base, *own;
	struct spam_token_limits lim = { .max_bytes = SPAM_MAX_BYTES, .max_tokens = SPAM_MAX_TOKENS };
	struct spam_rule_hit hits[SPAM_RULES_MAX];

	spam_cache_get(server->data_dir, rcpt, &base, &own);
	if (!*tokenized) {
		/* the tokenizer as the server's model was trained (with none:
		 * neighbour pairs, the account models' default) */
		lim.osb_window = base != NULL ? base->hdr->osb_window : 1;
		lim.portable = base != NULL && (base->hdr->flags & SPAM_MODEL_PORTABLE) != 0;
		lim.psl = psl_builtin();
		spam_tokens_init(t, &lim, false);
		spam_tokenize(msg, len, &lim, t);
		spam_rules_eval(msg, len, auth, hits, rules_r);
		*tokenized = true;
	}
	if (base == NULL && own == NULL)
		return *rules_r;	/* no model yet: the rules alone */
	return (base != NULL ? spam_model_score(base, own, t) : spam_model_score(own, NULL, t)) + *rules_r;
}

/* One recipient's verdict. */
static void spam_decide(struct smtp_spam *sp, struct directory *dir, const char *rcpt, const char *msg,
			size_t len, const struct spam_auth *auth, const char (*senders)[SENDAS_ADDR_MAX],
			size_t nsenders, struct spam_tokens *t, bool *tokenized, double *rules,
			struct spam_verdict *v)
{
	int listed;

	if (!spam_settings(dir, rcpt, v))
		return;
	v->checked = true;
	/* scored even when a list decides: the fields tell what it would be */
	v->score = spam_classify(rcpt, msg, len, auth, t, tokenized, rules);
	listed = spam_lists_check(dir, rcpt, senders, nsenders, v);
	v->listed = listed != 0;
	if (listed == 0) {
		v->spam = v->score > v->threshold;
		snprintf(v->reason, sizeof(v->reason), "score %.2f %s %.2f (level %u)", v->score,
			 v->spam ? ">" : "<=", v->threshold, v->level);
	} else {
		v->spam = listed == 2;
	}
}

/* Records a tagged message for yubinctl doctor and the panel. */
static void spam_event(struct smtp_spam *sp, const char *rcpt, const char *env_from, const char *msg,
		       size_t len, const struct spam_verdict *v)
{
	struct mail_header_field f;
	char subject[100] = "", detail[500];	/* an event detail is read back in 512 */
	size_t k = 0;

	if (mail_header_find(msg, mail_header_block_size(msg, len), "subject", &f)) {
		struct strbuf dec;

		/* decoded to UTF-8 (doctor shows it), cut on a character boundary */
		strbuf_init(&dec);
		rfc2047_decode(f.value, f.value_len, &dec);
		for (size_t i = 0; i < dec.len && k + 1 < sizeof(subject); i++) {
			unsigned char c = (unsigned char)dec.data[i];

			if ((c & 0xc0) != 0x80 && k + 5 >= sizeof(subject))
				break;
			subject[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
		subject[k] = '\0';
		strbuf_free(&dec);
	}
	snprintf(detail, sizeof(detail), "%s, action %s, from <%.150s>, id %s, subject: %s", v->reason,
		 smtp_spam_action_name(v->action), env_from, sp->txid, subject);
	server_event(v->action == SPAM_ACTION_DELETE ? "spam-deleted" : "spam-tagged", rcpt, sp->ip, detail);
	log_info(sp->sid, "smtp: id=%s to=<%s> spam: %s, action %s", sp->txid, rcpt, v->reason,
		 smtp_spam_action_name(v->action));
}

int smtp_spam_run(struct smtp_spam *sp, const char *env_from, const struct spam_auth *auth,
		  const char **body, int *body_fd, size_t *body_len, const char *const *rcpts,
		  size_t n, struct spam_verdict *v)
{
	struct directory *dir = server_directory();
	char senders[SPAM_SENDERS][SENDAS_ADDR_MAX];
	struct spam_tokens t;
	bool tokenized = false, changed, any = false;
	double rules = 0.0;
	const char *msg = *body;
	void *map = NULL;
	size_t len = *body_len, nsenders;
	int rc = 0;

	memset(v, 0, n * sizeof(*v));
	if (*body_fd >= 0 && len > 0) {
		if ((map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, *body_fd, 0)) == MAP_FAILED)
			return -1;
		msg = map;
	}
	if (msg == NULL)
		msg = "";
	/* forged verdict fields go for every recipient, filtered or not */
	if (spam_rewrite(sp, msg, len, SPAM_TAG_KEEP, &sp->clean, &sp->clean_fd, body, body_fd, body_len,
			 &changed) < 0) {
		rc = -1;
		goto out;
	}
	if (changed) {
		log_info(sp->sid, "smtp: id=%s removed X-Spam fields that came with the message", sp->txid);
		if (map != NULL)
			munmap(map, len);
		map = NULL;
		msg = sp->clean != NULL ? sp->clean : NULL;
		len = *body_len;
		if (msg == NULL && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, *body_fd, 0)) == MAP_FAILED) {
			map = NULL;
			rc = -1;
			goto out;
		}
		if (msg == NULL)
			msg = map;
	}
	nsenders = spam_senders(env_from, msg, len, senders);
	for (size_t i = 0; i < n; i++) {
		if (rcpts[i] == NULL)
			continue;
		spam_decide(sp, dir, rcpts[i], msg, len, auth, (const char (*)[SENDAS_ADDR_MAX])senders,
			    nsenders, &t, &tokenized, &rules, &v[i]);
		if (v[i].checked)
			stats_inc(STATS_SPAM_VERDICTS, v[i].listed ? (v[i].spam ? SPAM_VERDICT_BLOCKED : SPAM_VERDICT_ALLOWED)
								 : (v[i].spam ? SPAM_VERDICT_SPAM : SPAM_VERDICT_HAM));
		if (v[i].spam) {
			any = true;
			spam_event(sp, rcpts[i], env_from, msg, len, &v[i]);
		}
	}
	sp->tag_body = *body;
	sp->tag_body_fd = *body_fd;
	sp->tag_body_len = *body_len;
	if (any && spam_rewrite(sp, msg, len, SPAM_TAG_ADD, &sp->tagged, &sp->tagged_fd, &sp->tag_body,
				&sp->tag_body_fd, &sp->tag_body_len, &changed) < 0)
		rc = -1;
out:
	if (tokenized)
		spam_tokens_free(&t);
	if (map != NULL)
		munmap(map, len);
	return rc;
}

int smtp_spam_header(const struct spam_verdict *v, char *buf, size_t size)
{
	char stars[32] = "";
	int n;

	if (!v->checked)
		return buf[0] = '\0', 0;
	/* whole points of the score as printed (hundredths), at most 25 */
	for (long i = 0; i < lround(v->score * 100.0) / 100 && i < 25; i++)
		stars[i] = '*';
	n = snprintf(buf, size, "X-Spam-Status: %s, %s%sscore=%.2f required=%.2f level=%u\r\n"
		     "X-Spam-Score: %.2f\r\nX-Spam-Level: %s\r\n", v->spam ? "Yes" : "No",
		     v->listed ? v->reason : "", v->listed ? ", " : "", v->score, v->threshold, v->level,
		     v->score, stars);
	return n < 0 || (size_t)n >= size ? -1 : n;
}
