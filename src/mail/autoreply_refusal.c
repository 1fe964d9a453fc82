/* Refusal notices for Sieve reject (an MDN, RFC 8098 with the "deleted"
 * disposition, as RFC 5429 2.2 asks) and ereject (a DSN, RFC 3464) when
 * the refusal cannot be the SMTP reply itself (see autoreply.h). */
#include "mail/autoreply.h"
#include "mail/charset.h"
#include "mail/compose.h"
#include "mail/header.h"
#include "mail/rfc2047.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool field_starts(const char *header, size_t len, const char *name, const char *word)
{
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	const char *p;
	bool yes;

	if (!mail_header_find(header, mail_header_block_size(header, len), name, &f))
		return false;
	mail_header_unfold(f.value, f.value_len, &v);
	p = strbuf_cstr(&v);
	while (*p == ' ' || *p == '\t')
		p++;
	yes = strncasecmp(p, word, strlen(word)) == 0;
	strbuf_free(&v);
	return yes;
}

const char *autoreply_refusal_refused(const char *header, size_t len, const char *env_from,
				      const char *account)
{
	struct mail_header_field f;
	const char *at;

	if (env_from == NULL || env_from[0] == '\0')
		return "the sender is the null path <>";
	if ((at = strrchr(env_from, '@')) == NULL || strpbrk(env_from, "\r\n\"<> ") != NULL)
		return "the sender is not a plain address";
	if ((size_t)(at - env_from) == strlen("mailer-daemon") &&
	    strncasecmp(env_from, "mailer-daemon", (size_t)(at - env_from)) == 0)
		return "the sender is a mail system (MAILER-DAEMON)";
	if (account != NULL && strcasecmp(env_from, account) == 0)
		return "the sender is the recipient itself";
	if (mail_header_find(header, mail_header_block_size(header, len), "Auto-Submitted", &f) &&
	    !field_starts(header, len, "Auto-Submitted", "no"))
		return "the message is auto-submitted (Auto-Submitted)";
	if (field_starts(header, len, "Content-Type", "multipart/report"))
		return "the message is a report itself (multipart/report)";
	return NULL;
}

int autoreply_refusal_line(const char *reason, char *out, size_t size)
{
	size_t n = 0, max = size - 1 < REFUSAL_REASON_MAX ? size - 1 : REFUSAL_REASON_MAX;
	bool space = true;

	for (const unsigned char *p = (const unsigned char *)reason; *p != '\0'; p++) {
		if (*p >= 0x80) {
			str_copy(out, size, "Message refused by the recipient's mail filter");
			return 0;
		}
	}
	for (const char *p = reason; *p != '\0' && n < max; p++) {
		bool blank = (unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ';
		if (blank && space)
			continue;	/* runs of blanks and controls become one space */
		out[n++] = blank ? ' ' : *p;
		space = blank;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (n == 0)
		str_copy(out, size, "Message refused by the recipient's mail filter");
	return 1;
}

static void write_date(struct strbuf *out, const char *name, int64_t t, int tz_minutes)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)tz_minutes * 60);
	int off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	struct tm tm;

	gmtime_r(&local, &tm);
	strbuf_printf(out, "%s: %s, %d %s %d %02d:%02d:%02d %c%02d%02d\r\n", name, days[tm.tm_wday],
		      tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		      tz_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

/* The original's first <id> of field name into out, or "". */
static void original_id(const struct refusal_in *in, const char *name, struct strbuf *out)
{
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	const char *lt, *gt;

	if (mail_header_find(in->header, mail_header_block_size(in->header, in->header_len), name, &f)) {
		mail_header_unfold(f.value, f.value_len, &v);
		lt = strchr(strbuf_cstr(&v), '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		if (gt != NULL && gt - lt > 2 && gt - lt < 250 && memchr(lt, ' ', (size_t)(gt - lt)) == NULL)
			strbuf_append(out, lt, (size_t)(gt - lt + 1));
	}
	strbuf_free(&v);
}

static int write_header(const struct refusal_in *in, const char *mid, const char *boundary,
			struct strbuf *out)
{
	struct strbuf subj = STRBUF_INIT, raw = STRBUF_INIT, clean = STRBUF_INIT;
	struct mail_header_field f;
	size_t col;
	int r;

	write_date(out, "Date", in->date, in->tz_minutes);
	if (in->mdn)
		strbuf_printf(out, "From: <%s>\r\n", in->account);
	else
		strbuf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", in->hostname);
	strbuf_printf(out, "To: <%s>\r\n", in->to);
	if (mail_header_find(in->header, mail_header_block_size(in->header, in->header_len), "Subject", &f))
		mail_header_unfold(f.value, f.value_len, &raw);
	rfc2047_decode(strbuf_cstr(&raw), raw.len, &subj);
	if (subj.len > 200)
		strbuf_truncate(&subj, 200);
	/* valid UTF-8 (a character cut above is dropped), controls as spaces */
	for (size_t i = 0; i < subj.len; i++)
		if ((unsigned char)subj.data[i] < 0x20 || subj.data[i] == 0x7f)
			subj.data[i] = ' ';
	charset_utf8_append_valid(&clean, subj.data != NULL ? subj.data : "", subj.len);
	strbuf_append_str(out, "Subject: ");
	col = strlen("Subject: ");
	r = compose_header_text(out, &col, in->mdn ? "Rejected: " : "Undeliverable: ",
				strlen(in->mdn ? "Rejected: " : "Undeliverable: "), COMPOSE_UTF8, false);
	if (r == 0)
		r = compose_header_text(out, &col, strbuf_cstr(&clean), clean.len, COMPOSE_UTF8, false);
	strbuf_append_str(out, "\r\n");
	strbuf_printf(out, "Message-ID: %s\r\n", in->message_id);
	if (mid[0] != '\0')
		strbuf_printf(out, "In-Reply-To: %s\r\nReferences: %s\r\n", mid, mid);
	strbuf_printf(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
		      "Content-Type: multipart/report; report-type=%s;\r\n\tboundary=\"%s\"\r\n\r\n",
		      in->mdn ? "disposition-notification" : "delivery-status", boundary);
	strbuf_free(&subj);
	strbuf_free(&raw);
	strbuf_free(&clean);
	return r;
}

/* The human-readable part: the reason as UTF-8 quoted-printable. */
static void write_text(const struct refusal_in *in, const char *boundary, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;

	strbuf_printf(&text, "Your message to <%s> was %s by the recipient's mail filter.\r\n\r\n",
		      in->account, in->mdn ? "rejected" : "refused");
	for (const char *p = in->reason; *p != '\0' && text.len < 16384; p++) {
		if (*p == '\n' && (p == in->reason || p[-1] != '\r'))
			strbuf_append_c(&text, '\r');
		strbuf_append_c(&text, *p);
	}
	strbuf_append_str(&text, "\r\n");
	strbuf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
	compose_qp(out, strbuf_cstr(&text), text.len);
	if (out->len > 0 && strbuf_cstr(out)[out->len - 1] != '\n')
		strbuf_append_str(out, "\r\n");
	strbuf_free(&text);
}

int autoreply_refusal_build(const struct refusal_in *in, struct strbuf *out, const char **error_r)
{
	struct strbuf mid = STRBUF_INIT;
	char boundary[80], line[REFUSAL_REASON_MAX + 1];
	size_t hs = mail_header_block_size(in->header, in->header_len);

	if (in->to == NULL || strchr(in->to, '@') == NULL || strpbrk(in->to, "\r\n<> ") != NULL) {
		*error_r = "the envelope sender is not a plain address";
		return -1;
	}
	snprintf(boundary, sizeof(boundary), "=_refusal_%.40s", in->boundary_seed);
	original_id(in, "Message-ID", &mid);
	if (write_header(in, strbuf_cstr(&mid), boundary, out) < 0) {
		strbuf_free(&mid);
		*error_r = "the subject cannot be encoded";
		return -1;
	}
	write_text(in, boundary, out);
	autoreply_refusal_line(in->reason, line, sizeof(line));
	if (in->mdn) {
		strbuf_printf(out, "--%s\r\nContent-Type: message/disposition-notification\r\n\r\n"
			      "Reporting-UA: %s; Yubin\r\nFinal-Recipient: rfc822; %s\r\n", boundary,
			      in->hostname, in->account);
		if (mid.len > 0)
			strbuf_printf(out, "Original-Message-ID: %s\r\n", strbuf_cstr(&mid));
		strbuf_append_str(out, "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n");
	} else {
		strbuf_printf(out, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n"
			      "Reporting-MTA: dns; %s\r\n", boundary, in->hostname);
		write_date(out, "Arrival-Date", in->date, in->tz_minutes);
		strbuf_printf(out, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.7.1\r\n"
			      "Diagnostic-Code: smtp; 550 5.7.1 %s\r\n\r\n", in->account, line);
	}
	strbuf_printf(out, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
	/* the original's header as it came (bounded by the caller), line ends made CRLF */
	for (size_t i = 0; i < hs; i++) {
		char c = in->header[i];
		if (c == '\n' && (i == 0 || in->header[i - 1] != '\r'))
			strbuf_append_c(out, '\r');
		strbuf_append_c(out, c);
	}
	if (out->len < 2 || strbuf_cstr(out)[out->len - 1] != '\n')
		strbuf_append_str(out, "\r\n");
	strbuf_printf(out, "\r\n--%s--\r\n", boundary);
	strbuf_free(&mid);
	return 0;
}
