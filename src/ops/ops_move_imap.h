#ifndef YUBIN_OPS_MOVE_IMAP_H
#define YUBIN_OPS_MOVE_IMAP_H

/* The mover's IMAP client (ops_move_imap.c): blocking, one command at a
 * time, on a plain TCP connection to a node (the operator's network, as
 * the proxies' own links). Only what the mover needs: untagged responses
 * with at most one literal each, APPEND with a synchronising literal. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOVE_IMAP_LINE_MAX (256 * 1024)
#define MOVE_IMAP_LITERAL_MAX (1024ull * 1024 * 1024)

struct move_imap {
	int fd;
	unsigned tag;
	char *buf;		/* bytes read, not yet used */
	size_t len;
	char where[160];	/* "node n1 (127.0.0.11:143)", for errors */
	char err[512];		/* the last failure */
};

/* line: the response after "* "; lit: its literal (NULL: none) and rest:
 * what followed the literal. Returns 0, or -1 to fail the command. */
typedef int move_untagged_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest);

/* Connects from source_ip (NULL or "": any) with timeout seconds for
 * each step and reads the greeting. 0, or -1 with m->err. */
int move_imap_open(struct move_imap *m, const char *name, const char *hostport, const char *source_ip,
		   unsigned timeout);
void move_imap_close(struct move_imap *m);
/* The move's login: ID ("x-yubin-move" "1"), then the proxy login of
 * user (SASL PLAIN, authzid user, authcid proxy_user). 0, or -1. */
int move_imap_login(struct move_imap *m, const char *user, const char *proxy_user, const char *secret);
/* Runs one command (fmt without tag and CRLF); untagged responses go to
 * cb (NULL: ignored). 0 tagged OK, -1 otherwise (m->err: the reply). The
 * tagged line's text goes to ok_r when given. */
int move_imap_run(struct move_imap *m, move_untagged_cb *cb, void *ctx, char *ok_r, size_t ok_size,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* APPEND of data to the quoted mailbox with flags (their inside) and
 * the internal date; *uid_r from APPENDUID. 0, or -1. */
/* One message of move_imap_append_many. */
struct move_imap_msg {
	const char *flags, *date, *data;
	size_t len;
};
/* MULTIAPPEND of n messages into qmailbox with LITERAL+ (the server stores
 * them together); *first_r..*last_r: the UIDs its APPENDUID gave them (one
 * range, else a failure). */
int move_imap_append_many(struct move_imap *m, const char *qmailbox, const struct move_imap_msg *v, size_t n,
			  uint32_t *first_r, uint32_t *last_r);
int move_imap_append(struct move_imap *m, const char *qmailbox, const char *flags, const char *date,
		     const char *data, size_t len, uint32_t *uid_r);

#endif
