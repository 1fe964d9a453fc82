/* Forwarding of delivered mail (see smtp_forward.h). */
#include "server/smtp_forward.h"
#include "server/smtp_session.h"
#include "server/queue.h"
#include "server/sendguard.h"
#include "server/server.h"
#include "directory/directory.h"
#include "policy/forward.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "mail/header.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FORWARD_HEADER_SCAN (64 * 1024)

/* true when the header block of the message has "Delivered-To: account". */
static bool forward_seen(const struct forward_msg *m, const char *account)
{
	size_t len = m->body_len < FORWARD_HEADER_SCAN ? m->body_len : FORWARD_HEADER_SCAN;
	char *copy = NULL;
	const char *data = m->body;
	struct mail_header_iter it;
	struct mail_header_field f;
	bool seen = false;

	if (data == NULL) {
		ssize_t r;
		copy = malloc(len + 1);
		if (copy == NULL)
			return false;
		r = pread(m->body_fd, copy, len, 0);
		len = r > 0 ? (size_t)r : 0;
		data = copy;
	}
	mail_header_iter_init(&it, data, mail_header_block_size(data, len));
	while (!seen && mail_header_iter_next(&it, &f)) {
		if (mail_header_field_is(&f, "Delivered-To")) {
			struct strbuf v = STRBUF_INIT;
			mail_header_unfold(f.value, f.value_len, &v);
			seen = str_eq_ci(strbuf_cstr(&v), account);
			strbuf_free(&v);
		}
	}
	free(copy);
	return seen;
}

static void forward_body(struct maildir_msg *msg, const struct forward_msg *m, const char *prefix,
			 int plen)
{
	msg->prefix = prefix;
	msg->prefix_len = (size_t)plen;
	msg->body = m->body;
	msg->body_fd = m->body_fd;
	msg->body_len = m->body_len;
}

/* A copy into the Maildir of a local account: 0, or -1. */
static int forward_local(const struct forward_msg *m, const char *account, const char *target)
{
	struct directory *dir = server_directory();
	struct dir_account acct;
	struct maildir_msg msg;
	char maildir[4200], prefix[2048], name[MAILDIR_NAME_MAX];
	const char *error;
	uint64_t usage, limit;
	size_t size;
	int plen;

	if (dir == NULL || directory_account_get(dir, target, &acct) <= 0 || !acct.enabled) {
		log_warn(m->sid, "smtp: forward of %s to %s: no such enabled account", account, target);
		return -1;
	}
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) < 0 ||
	    (access(maildir, F_OK) < 0 && maildir_create(maildir) < 0) ||
	    quota_usage(maildir, &usage) < 0)
		return -1;
	plen = snprintf(prefix, sizeof(prefix), "Return-Path: <%s>\r\nDelivered-To: %s\r\nDelivered-To: %s\r\n",
			m->from, acct.address, account);
	plen = smtp_trace_append(prefix, sizeof(prefix), plen, m->received, acct.address, m->tls_suite,
				 m->date);
	if (plen < 0)
		return -1;
	size = (size_t)plen + m->body_len;
	limit = (uint64_t)acct.quota_mb * 1024 * 1024;
	if (!quota_reserve(maildir, size, limit)) {
		log_warn(m->sid, "smtp: forward of %s to %s: mailbox full", account, target);
		return -1;
	}
	forward_body(&msg, m, prefix, plen);
	if (maildir_deliver(maildir, &msg, name, sizeof(name), &error) < 0) {
		log_error(m->sid, "smtp: forward of %s to %s failed: %s", account, target, error);
		quota_release(maildir, size);
		return -1;
	}
	store_changed(maildir);
	return 0;
}

/* One queue file for the remote targets: 0, or -1. */
static int forward_queue(const struct forward_msg *m, const char *account, const char *const *rcpts,
			 size_t n)
{
	char prefix[2048], id[64];
	struct maildir_msg msg;
	const char *error = "";
	int plen = smtp_trace_append(prefix, sizeof(prefix),
				     snprintf(prefix, sizeof(prefix), "Delivered-To: %s\r\n", account),
				     m->received, account, m->tls_suite, m->date);

	if (plen < 0)
		return -1;
	forward_body(&msg, m, prefix, plen);
	if (queue_submit(NULL, m->from, rcpts, n, &msg, id, sizeof(id), &error) < 0) {
		log_error(m->sid, "smtp: forward of %s: cannot queue: %s", account, error);
		return -1;
	}
	log_info(m->sid, "smtp: forwarded id=%s for=<%s> queue=%s nrcpt=%zu", m->txid, account, id, n);
	return 0;
}

int smtp_forward(const struct forward_msg *m, const char *account, const char *list)
{
	char targets[FORWARD_MAX][FORWARD_ADDR_MAX], reply[512];
	char detail[FORWARD_MAX * (FORWARD_ADDR_MAX + 2) + 8];
	const char *remote[FORWARD_MAX];
	struct directory *dir = server_directory();
	const char *error;
	size_t n = 0, nremote = 0, len = 0;
	int copies = 0;

	if (forward_list_parse(list, account, targets, &n, &error) < 0 || n == 0)
		return -1;
	if (forward_seen(m, account)) {
		log_warn(m->sid, "smtp: not forwarding id=%s for %s again: it already carries"
			 " Delivered-To: %s (a forwarding loop)", m->txid, account, account);
		server_event("forward-loop", account, m->ip, "a forwarded message came back; kept here");
		return -1;
	}
	switch (sendguard_count_forward(account, (unsigned)n, reply, sizeof(reply))) {
	case SENDGUARD_OK:
		break;
	case SENDGUARD_ERROR:
		str_copy(reply, sizeof(reply), "the sending limits could not be checked");
		/* fall through */
	default:
		log_warn(m->sid, "smtp: not forwarding id=%s for %s: %s", m->txid, account, reply);
		server_event("forward-limited", account, m->ip, reply);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *at = strrchr(targets[i], '@');

		if (dir != NULL && at != NULL && directory_domain_exists(dir, at + 1) > 0) {
			if (forward_local(m, account, targets[i]) == 0)
				copies++;
		} else {
			remote[nremote++] = targets[i];
		}
	}
	if (nremote > 0 && forward_queue(m, account, remote, nremote) == 0)
		copies += (int)nremote;
	if (copies == 0)
		return -1;
	/* an event names at most 5 of them */
	for (size_t i = 0; i < n && i < 5; i++)
		len += (size_t)snprintf(detail + len, sizeof(detail) - len, "%s%s", i > 0 ? ", " : "to ",
					targets[i]);
	if (n > 5)
		snprintf(detail + len, sizeof(detail) - len, " and %zu more (%zu addresses)", n - 5, n);
	server_event("forwarded", account, m->ip, detail);
	return copies;
}
