#ifndef YUBIN_SIEVE_SIEVE_RUN_INT_H
#define YUBIN_SIEVE_SIEVE_RUN_INT_H

/* The state of one run (sieve_run.c, sieve_test.c, sieve_action.c,
 * sieve_msg.c). Not for use outside src/sieve/. */

#include "mail/mime.h"
#include "sieve/sieve_int.h"

#define SIEVE_VAR_NAME_MAX 32
#define SIEVE_SCOPE_GLOBAL 0xffffffffu

struct sieve_var {
	char name[SIEVE_VAR_NAME_MAX + 1];
	uint32_t scope;
	struct strbuf value;
};

/* One header field of the message, parsed once per run; the decoded and
 * unfolded values are made on first use. */
struct sieve_hdr {
	const char *name, *value;
	size_t name_len, value_len;
	struct strbuf decoded, unfolded;
	bool has_decoded, has_unfolded;
};

struct sieve_run {
	const struct sieve_script *s;	/* the script being run now */
	const struct sieve_message *msg;
	const struct sieve_env *env;
	const struct sieve_limits *lim;
	struct sieve_result *res;
	unsigned int action_cap;
	uint64_t work;			/* matching work left (limits.max_work) */
	unsigned int redirects;
	bool stopped, returned, implicit_keep, failed;
	uint32_t scope;			/* this invocation (0 main, n include) */
	unsigned int invocations, include_depth;
	char **globals;			/* names declared global in this invocation */
	unsigned int global_count;
	char **included;		/* names of :once scripts already run */
	unsigned int included_count;
	struct sieve_var *vars;
	unsigned int var_count;
	struct sieve_matchvars mv;
	struct strbuf flags;		/* imap4flags' internal variable */
	size_t header_size;
	struct sieve_hdr *hdrs;
	unsigned int hdr_count;
	bool hdrs_parsed;
	struct mime_message *mime;
};

/* run-time error: records it once and stops the run */
void sieve_run_fail(struct sieve_run *r, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Expands string i of the current script (variables) into out. */
void sieve_run_expand(struct sieve_run *r, uint32_t i, struct strbuf *out);
/* Variables by name (case-insensitive); NULL when unset. */
struct sieve_var *sieve_run_var(struct sieve_run *r, const char *name, bool create);
bool sieve_run_test(struct sieve_run *r, uint32_t ni);
int sieve_run_block(struct sieve_run *r, uint32_t from, uint32_t to);
void sieve_run_command(struct sieve_run *r, uint32_t ni);

/* actions (sieve_action.c): adds one, checking conflicts and limits;
 * extra carries vacation's data; arg is copied */
void sieve_action_add(struct sieve_run *r, const struct sieve_node *nd, enum sieve_action_kind kind,
		      const char *arg, struct sieve_action *extra);
void sieve_action_vacation(struct sieve_run *r, const struct sieve_node *nd);
/* Adds the implicit keep, or leaves only it after a run-time error. */
void sieve_result_finish(struct sieve_run *r);

/* flags lists: space separated, deduplicated case-insensitively */
void sieve_flags_add(struct strbuf *set, const char *flags, size_t len);
void sieve_flags_remove(struct strbuf *set, const char *flags, size_t len);

/* message access (sieve_msg.c) */
typedef bool sieve_value_cb(struct sieve_run *r, const char *v, size_t len, void *ctx);
/* Calls cb with each decoded value of header name (or only the :index'th
 * one), until cb returns true; returns whether it did. */
bool sieve_msg_headers(struct sieve_run *r, const char *name, bool decode, int32_t index,
		       bool last, sieve_value_cb *cb, void *ctx);
unsigned int sieve_msg_header_count(struct sieve_run *r, const char *name);
/* Each address of the header's fields in part, until cb returns true. */
bool sieve_msg_addresses(struct sieve_run *r, const char *name, enum sieve_part part,
			 int32_t index, bool last, sieve_value_cb *cb, void *ctx);
/* The address part of one "local@domain"; false when it has none. */
bool sieve_addr_part(const char *addr, enum sieve_part part, struct strbuf *out);
/* Frees the run's cached header fields and MIME structure. */
void sieve_msg_free(struct sieve_run *r);
/* Each body text per the transform, until cb returns true. */
bool sieve_msg_body(struct sieve_run *r, enum sieve_body how, uint32_t types_list,
		    sieve_value_cb *cb, void *ctx);

#endif
