#ifndef YUBIN_SIEVE_SIEVE_H
#define YUBIN_SIEVE_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Sieve engine (RFC 5228 and extensions): a script is compiled once
 * into a flat array of nodes (sieve_compile), then run against a message
 * held in memory (sieve_run) into an explicit list of actions. Pure: no
 * I/O, no globals; the little the engine needs from the outside (does a
 * mailbox exist, has this message been seen before, the text of an
 * included script) comes through callbacks in struct sieve_env. Every
 * input is bounded by struct sieve_limits. */

struct sieve_limits {
	size_t max_script;		/* bytes of script text */
	unsigned int max_depth;		/* nesting of blocks and tests */
	unsigned int max_commands;	/* commands and tests in a script */
	unsigned int max_string;	/* bytes of one string (and one variable value) */
	unsigned int max_list;		/* strings in one string list */
	unsigned int max_actions;	/* actions one run may take */
	unsigned int max_redirects;	/* redirects per message */
	unsigned int max_steps;		/* commands and tests evaluated per run */
	unsigned int max_variables;	/* distinct variables per run */
	unsigned int max_includes;	/* include nesting */
	size_t max_body;		/* bytes of body text a body test looks at */
	uint64_t max_work;		/* bytes and pattern steps matching may spend per run */
};

/* Sensible defaults for a hosting server. */
void sieve_limits_default(struct sieve_limits *lim);

struct sieve_script;

struct sieve_error {
	unsigned int line;	/* 0 when not tied to a line */
	char msg[200];
};

/* Compiles script text. Returns 0 with *script_r set, or -1 with err
 * filled ("line N: ..."). The script does not point into src. */
int sieve_compile(const char *src, size_t len, const struct sieve_limits *lim,
		  struct sieve_script **script_r, struct sieve_error *err);
void sieve_script_free(struct sieve_script *script);
/* The extensions the script requires, as a bit set of SIEVE_EXT_*. */
uint32_t sieve_script_extensions(const struct sieve_script *script);
/* Number of nodes in the compiled form (for tests and doctor). */
unsigned int sieve_script_size(const struct sieve_script *script);

enum sieve_ext {
	SIEVE_EXT_FILEINTO = 1u << 0,
	SIEVE_EXT_REJECT = 1u << 1,
	SIEVE_EXT_EREJECT = 1u << 2,
	SIEVE_EXT_ENVELOPE = 1u << 3,
	SIEVE_EXT_ENCODED_CHAR = 1u << 4,
	SIEVE_EXT_IMAP4FLAGS = 1u << 5,
	SIEVE_EXT_COPY = 1u << 6,
	SIEVE_EXT_BODY = 1u << 7,
	SIEVE_EXT_VARIABLES = 1u << 8,
	SIEVE_EXT_VACATION = 1u << 9,
	SIEVE_EXT_VACATION_SECONDS = 1u << 10,
	SIEVE_EXT_RELATIONAL = 1u << 11,
	SIEVE_EXT_SUBADDRESS = 1u << 12,
	SIEVE_EXT_DATE = 1u << 13,
	SIEVE_EXT_INDEX = 1u << 14,
	SIEVE_EXT_REGEX = 1u << 15,
	SIEVE_EXT_MAILBOX = 1u << 16,
	SIEVE_EXT_INCLUDE = 1u << 17,
	SIEVE_EXT_DUPLICATE = 1u << 18,
	SIEVE_EXT_SPAMTEST = 1u << 19,
	SIEVE_EXT_SPAMTESTPLUS = 1u << 20,
	SIEVE_EXT_VIRUSTEST = 1u << 21,
	SIEVE_EXT_CMP_NUMERIC = 1u << 22,
	SIEVE_EXT_CMP_UNICODE = 1u << 23,
	SIEVE_EXT_CMP_BASE = 1u << 24,	/* comparator-i;octet, -i;ascii-casemap (always there) */
};

/* The space separated list of capabilities (ManageSieve's SIEVE line). */
const char *sieve_capabilities(void);

/* What the outside world tells a run. Callbacks may be NULL. */
struct sieve_env {
	void *ctx;
	/* mailbox extension: does the folder exist? */
	bool (*mailbox_exists)(void *ctx, const char *name);
	/* duplicate extension: has this id been seen within seconds? When
	 * the run succeeds the caller records the returned tracking ids
	 * (struct sieve_result.dup_ids), not before (RFC 7352 3). */
	bool (*duplicate_seen)(void *ctx, const char *handle, const char *id, uint64_t seconds);
	/* include extension: the text of script name (personal or global),
	 * or NULL when there is none. The returned text is only read. */
	const char *(*include_text)(void *ctx, const char *name, bool global, size_t *len_r);
	int64_t now;		/* current time, seconds since the epoch (currentdate) */
	int zone_minutes;	/* the local zone's offset from UTC */
	int spam_score;		/* spamtest: 0 unknown, 1..10 (RFC 5235), -1 not tested */
	int spam_percent;	/* spamtestplus :percent: 0..100, -1 not tested */
	int virus_score;	/* virustest: 0 unknown, 1..5, -1 not tested */
	const char *default_mailbox;	/* "INBOX" when NULL */
};

/* The message, held in memory (raw RFC 5322 with CRLF or LF). */
struct sieve_message {
	const char *data;
	size_t size;
	const char *env_from;	/* envelope sender, "" for <> */
	const char *env_to;	/* envelope recipient (final) */
	const char *env_orig_to;	/* original recipient, or NULL */
	const char *auth_user;	/* envelope "auth", or NULL */
};

enum sieve_action_kind {
	SIEVE_ACT_KEEP,
	SIEVE_ACT_FILEINTO,
	SIEVE_ACT_REDIRECT,
	SIEVE_ACT_DISCARD,
	SIEVE_ACT_REJECT,
	SIEVE_ACT_EREJECT,
	SIEVE_ACT_VACATION,
};

/* The decision data for an auto-reply; sending it, and remembering whom
 * it was sent to for seconds, is delivery's job. */
struct sieve_vacation {
	uint64_t seconds;	/* :days converted, or :seconds */
	char *subject;		/* NULL: "Auto: " + the original subject */
	char *from;		/* NULL: the recipient */
	char *handle;		/* identifies this reply for the once-per-period rule */
	char **addresses;	/* the user's other addresses (:addresses) */
	unsigned int address_count;
	bool mime;		/* reason is a MIME entity */
	bool reply;		/* false when a vacation rule says not to reply to this sender */
};

struct sieve_action {
	enum sieve_action_kind kind;
	char *arg;		/* folder, address or reason (vacation: the reason) */
	char *flags;		/* imap4flags, space separated, or NULL */
	bool copy;		/* :copy */
	bool create;		/* fileinto :create */
	bool has_flags;		/* flags were given or set (even when empty) */
	unsigned int line;	/* the script line that asked for it */
	unsigned int script;	/* 0 the main script, n the n-th include */
	struct sieve_vacation vacation;
};

struct sieve_result {
	struct sieve_action *actions;
	unsigned int count;
	bool implicit_keep;	/* an INBOX keep was added because nothing cancelled it */
	bool error;		/* a run-time error: the actions are just the implicit keep */
	struct sieve_error err;
	char **dup_ids;		/* duplicate: ids to record once delivered ("handle\0id") */
	unsigned int dup_count;
	uint64_t *dup_seconds;
	unsigned int steps;	/* commands and tests evaluated */
};

/* Runs the script on the message. Always fills result (at least one
 * action: a run-time error or a limit gives the implicit keep alone with
 * result->error set). Returns 0, or -1 on a run-time error. */
int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
	      const struct sieve_env *env, const struct sieve_limits *lim,
	      struct sieve_result *result);
void sieve_result_free(struct sieve_result *result);

const char *sieve_action_name(enum sieve_action_kind kind);

#endif
