#ifndef YUBIN_SERVER_IMAP_SESSION_H
#define YUBIN_SERVER_IMAP_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/strbuf.h"
#include "proto/imap_parser.h"
#include "server/auth.h"
#include "server/conn.h"
#include "store/index.h"

/* The IMAP server session (RFC 3501 / RFC 9051). The loop side reads and
 * parses commands; each command that touches the store runs whole on a
 * worker (imap_cmd_*.c), writing its responses into a buffer that the loop
 * then sends. The connection is paused meanwhile, so commands of one
 * session never overlap and the parsed command stays valid. */

enum imap_state { IMAP_S_NOTAUTH, IMAP_S_AUTH, IMAP_S_SELECTED, IMAP_S_LOGOUT };

/* The session's view of the selected mailbox: message sequence numbers
 * are positions in this array. */
struct imap_view_msg {
	uint32_t uid;
	uint32_t flags : 31;
	uint32_t recent : 1;
	uint64_t modseq;
};

struct imap_session {
	struct conn *conn;
	char sid[12];		/* the connection's, for log lines written on a worker */
	/* the settings it needs, read at accept (a whole struct config is
	 * kilobytes, and idle sessions are many) */
	unsigned timeout, idle_timeout;
	uint64_t append_limit;	/* imap.append_limit */
	unsigned command_timeout;	/* imap.command_total_timeout */
	bool search_index;	/* imap.search_index: SEARCH uses store/fts.c */
	struct imap_parser_limits limits;
	struct imap_parser *parser;	/* NULL during IDLE (made again at DONE) */
	enum imap_state state;
	bool busy;		/* a job or an auth check runs */
	bool conn_gone;
	bool logout;		/* close after this reply */
	bool starttls;		/* upgrade after this reply */
	uint64_t cmd_started;	/* the running command's start (stats_now), 0: not timed */

	/* after login */
	char user[320];
	char *root;		/* the account's Maildir++ (malloc'd) */
	uint64_t quota_bytes;
	struct mail_index *idx;	/* borrowed from the pool while a job runs, else NULL */
	bool enabled_condstore, enabled_qresync, enabled_utf8, rev2;
	const char *name_error;	/* why imap_mailbox_name refused the last name */
	bool mover;		/* an account move's session (ID "x-yubin-move" from a trusted peer) */
	bool moved;		/* the mailbox moved away meanwhile: BYE */
	bool deleted;		/* the account was deleted meanwhile: BYE */
	char *move_claim;	/* the account this move's session holds (one per account) */

	/* SELECTED */
	struct index_mailbox mbox;
	bool readonly;
	struct imap_view_msg *view;
	size_t nview;
	uint32_t view_uidnext;
	uint64_t view_version;	/* the index state it shows (0: unknown) */
	struct strbuf keywords;	/* announced in FLAGS: " kw1 kw2 " */

	/* IDLE */
	bool idling;
	char idle_tag[64];
	struct imap_session *idle_prev, *idle_next;	/* on conn->loop->idle_head */
	bool idle_linked;
	uint64_t idle_gen;

	/* APPEND literal streamed to a spool file */
	int spool_fd;
	uint64_t spool_len;

	/* A FETCH sent in pieces (imap_cmd_fetch.c): the job stops when its
	 * output passes a bound or at a big literal, which the loop then
	 * streams from stream_fd while the output drains; then the job runs
	 * again. */
	struct imap_fetch_run *fetch;
	bool streaming;		/* the loop is sending; no job runs */
	struct imap_job *stream_job;	/* to run again after it */
	int stream_fd;
	uint64_t stream_off, stream_left;

	/* the running command */
	const struct imap_command *cmd;
	struct strbuf out;
	struct auth_request *auth_req;	/* during LOGIN/AUTHENTICATE only */
	struct auth_result *auth_res;
	char sasl_tag[64];	/* AUTHENTICATE waiting for its response line */
	unsigned bad_commands;
};

/* Handlers run on a worker; they write untagged and tagged responses to
 * s->out and may change the session's state. */
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_command *cmd);

struct imap_cmd_def {
	const char *name;
	unsigned states;	/* bit per enum imap_state */
	bool worker;		/* runs on a worker (store access) */
	imap_cmd_fn *run;
};

#define IMAP_BIT(st) (1u << (st))

const struct imap_cmd_def *imap_cmd_find(const char *name);

/* Response helpers (on s->out). */
void imap_out(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_tagged(struct imap_session *s, const struct imap_command *cmd, const char *status,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An IMAP string: atom-safe text quoted, anything else as a literal. */
void imap_out_string(struct imap_session *s, const char *str, size_t len);
void imap_out_astring(struct imap_session *s, const char *str);
void imap_out_flags(struct imap_session *s, uint32_t flags, const char *keywords, bool recent);
/* A number in decimal. */
void imap_out_uint(struct imap_session *s, uint64_t n);
const char *imap_capabilities(const struct imap_session *s);

/* Brings the selected mailbox's view up to date, writing EXISTS, RECENT,
 * FETCH (FLAGS) and, when allowed, EXPUNGE responses. */
int imap_view_sync(struct imap_session *s, bool allow_expunge);
void imap_view_free(struct imap_session *s);
/* Before a FETCH response shows these keywords (space-separated): any the
 * client has not seen in FLAGS are announced with FLAGS and
 * PERMANENTFLAGS first (RFC 3501 7.2.6). */
void imap_keywords_check(struct imap_session *s, const char *keywords);
/* When a command's mailbox argument raw is there (any astring is
 * syntactically a mailbox name) but names no mailbox we can hold
 * (imap_mailbox_name gave NULL), answers NO [CANNOT] with the reason and
 * returns true; false when raw is missing (the caller's BAD). */
bool imap_mailbox_refuse(struct imap_session *s, const struct imap_command *cmd, const char *raw);
/* A CONDSTORE enabling command (RFC 7162 3.1): from now on FETCH responses
 * carry MODSEQ; with a mailbox selected, its HIGHESTMODSEQ is sent. */
void imap_condstore_enable(struct imap_session *s, uint64_t highestmodseq);

/* imap_cmd_*.c */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_enable, imap_cmd_id,
	imap_cmd_namespace, imap_cmd_select, imap_cmd_create, imap_cmd_delete, imap_cmd_rename,
	imap_cmd_subscribe, imap_cmd_unsubscribe, imap_cmd_list, imap_cmd_lsub, imap_cmd_status,
	imap_cmd_append, imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge, imap_cmd_check,
	imap_cmd_getquotaroot, imap_cmd_getquota, imap_cmd_fetch, imap_cmd_store, imap_cmd_copy,
	imap_cmd_move, imap_cmd_uid_expunge, imap_cmd_search, imap_cmd_sort, imap_cmd_thread,
	imap_cmd_xmove;

/* One STATUS response for m with the items asked (also LIST-STATUS);
 * *ok_r false when the mailbox could not be read. */
void imap_status_items(struct imap_session *s, struct index_mailbox *m, const struct imap_arg *items,
		       bool *ok_r);

/* Frees a FETCH's state between pieces; _abort also ends a response cut
 * by a streamed literal. */
struct imap_fetch_run;
void imap_fetch_run_free(struct imap_session *s);
void imap_fetch_abort(struct imap_session *s);

/* imap_cmd_xmove.c, before a login opens the mailbox at root (a worker):
 * a mailbox moved away (its tombstone, store/mail_move.h) is refused with
 * -1, except in an account move's session: on the source (the home node
 * still) root becomes the frozen copy it reads, on the target an earlier
 * move's tombstone is cleared. 0 go on. */
int imap_xmove_open_root(struct imap_session *s, const char *address, char *root, size_t size);
/* Lets go of the account a move's session held (at the session's end). */
void imap_xmove_release(struct imap_session *s);
/* The BYE a session gets when its mailbox moved to another node. */
#define IMAP_BYE_MOVED "* BYE [UNAVAILABLE] This mailbox has moved to another server: connect again"
/* The BYE a session gets when its account was deleted (the mailbox gone). */
#define IMAP_BYE_DELETED "* BYE This account has been deleted"

/* After a successful login (on a worker): open the index. */
int imap_session_open_store(struct imap_session *s, const char *address);

#endif
