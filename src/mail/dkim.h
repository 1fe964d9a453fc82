#ifndef YUBIN_MAIL_DKIM_H
#define YUBIN_MAIL_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* DKIM (RFC 6376) without cryptography or I/O: tag lists, DKIM-Signature
 * fields, key records, the two canonicalizations of header and body, the
 * choice of header fields to hash, and the DKIM-Signature field itself as
 * it is hashed (b= emptied). The signer and the verifier (policy/dkim_*)
 * feed the bytes produced here to their hashes.
 *
 * Messages may use CRLF or bare LF line ends (the queue and the Maildir
 * keep CRLF, other tools write LF): a bare LF counts as CRLF everywhere
 * here, a CR that is not followed by LF is an ordinary byte. */

#define DKIM_TAGS_MAX 32
#define DKIM_HNAMES_MAX 64		/* field names in h= */
#define DKIM_HNAME_MAX 64		/* longest field name we keep */
#define DKIM_SIG_MAX 512		/* RSA-4096 */
#define DKIM_KEY_MAX 1024		/* DER public key, RSA up to 4096 bits */

struct dkim_tag {
	const char *name, *value;	/* into the parsed text, not NUL-terminated */
	size_t name_len, value_len;	/* the value without surrounding FWS */
};

/* Parses a tag-list (RFC 6376 §3.2): "name=value; ..." with folding white
 * space allowed around names, '=' and values, and an optional final ';'.
 * A repeated name, a name that is not ALPHA *(ALPHA / DIGIT / "_"), or a
 * value with bytes outside 0x21-0x7e (other than FWS inside it, or ';')
 * is an error. Returns the number of tags, or -1 with *error_r set. */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max,
		    const char **error_r);
/* The tag called name, or NULL. */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name);

enum dkim_algo { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };

/* A parsed DKIM-Signature field (RFC 6376 §3.5). */
struct dkim_sig {
	enum dkim_algo algo;
	enum dkim_canon hcanon, bcanon;
	char algo_name[32];		/* a= as written, for reports */
	char domain[256];		/* d=, lowercased */
	char selector[64];		/* s= */
	char auid[320];			/* i=, or "@" d= when absent */
	unsigned char b[DKIM_SIG_MAX];
	size_t b_len;
	unsigned char bh[64];
	size_t bh_len;
	char header_b[16];		/* the first 12 characters of b= (RFC 6008) */
	char hnames[DKIM_HNAMES_MAX][DKIM_HNAME_MAX];
	size_t n_hnames;
	bool has_l, has_t, has_x;
	uint64_t l;
	int64_t t, x;
};

/* Parses the value of a DKIM-Signature field and checks what RFC 6376
 * §6.1.1 requires of it without DNS: version 1, the required tags, a
 * known algorithm (rsa-sha1 is refused, RFC 8301) and canonicalization,
 * q=dns/txt, From among the signed fields, i= within d=, x= not before
 * t=. Expiry is the caller's check (it knows the time). Returns 0, or -1
 * with a short reason in *error_r (a PERMFAIL). The b= prefix for
 * header_b is filled as soon as b= is parsed, even when -1 is returned. */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig, const char **error_r);

enum dkim_keytype { DKIM_KEY_RSA, DKIM_KEY_ED25519 };

/* A parsed key record (RFC 6376 §3.6.1, RFC 8463). */
struct dkim_key {
	enum dkim_keytype type;
	unsigned char p[DKIM_KEY_MAX];	/* RSA: DER SubjectPublicKeyInfo; ed25519: 32 raw bytes */
	size_t p_len;			/* 0: the key is revoked (p= empty) */
	bool testing;			/* t=y */
	bool strict;			/* t=s: i= must be exactly d= */
	bool sha256_ok;			/* h= absent or lists sha256 */
	bool email_ok;			/* s= absent, "*" or "email" */
};

/* Parses a TXT record as a DKIM key record. Returns 0, or -1 with
 * *error_r set (not a DKIM key, bad v=, unknown k=, bad p=). */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key, const char **error_r);

/* Appends one header field (name, ':', value with its folding and final
 * line end, as split by dkim_headers_split) canonicalized, ending with
 * CRLF. */
void dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct strbuf *out);

/* A streaming body canonicalizer (RFC 6376 §3.4.3, §3.4.4): feed the
 * body in chunks of any size, then finish. The canonical bytes go to out
 * in pieces; at most limit of them (l=), count holds how many were made
 * in all (so a verifier can tell an l= longer than the body). */
typedef void dkim_out_fn(void *ctx, const void *data, size_t len);

struct dkim_body {
	enum dkim_canon canon;
	dkim_out_fn *out;
	void *ctx;
	uint64_t limit, count, emitted;
	uint64_t empty_lines;		/* held back: trailing empty lines vanish */
	bool cr;			/* the last byte was a CR */
	bool wsp;			/* relaxed: white space pending in the line */
	bool line;			/* the line has content */
	unsigned char buf[2048];
	size_t buf_len;
};

void dkim_body_init(struct dkim_body *b, enum dkim_canon c, uint64_t limit, dkim_out_fn *out,
		    void *ctx);
void dkim_body_feed(struct dkim_body *b, const void *data, size_t len);
void dkim_body_finish(struct dkim_body *b);

/* One header field of a message: p points at its name, len includes the
 * continuation lines and the final line end. name_len is the name
 * without white space before the colon (0 when the line has no colon). */
struct dkim_hdr {
	const char *p;
	size_t len, name_len;
};

/* Splits the header section of msg[0..len) into fields. *body_off_r is
 * where the body starts (after the empty line), or len when there is no
 * body. Returns the number of fields, or -1 when there are more than max. */
int dkim_headers_split(const char *msg, size_t len, struct dkim_hdr *h, size_t max,
		       size_t *body_off_r);
/* true when field h is called name (case-insensitive). */
bool dkim_hdr_is(const struct dkim_hdr *h, const char *name);

/* Appends the fields named in names[0..n) canonicalized, in that order;
 * a name given k times takes the k last fields of that name from the
 * bottom up (RFC 6376 §5.4.2), a name with no field left adds nothing
 * (which is how over-signing forbids adding one). */
void dkim_headers_select(const struct dkim_hdr *h, size_t nh, const char (*names)[DKIM_HNAME_MAX],
			 size_t n, enum dkim_canon c, struct strbuf *out);

/* Appends the DKIM-Signature field (field[0..len), as split) canonicalized
 * with the value of its b= tag removed and without the final CRLF: the
 * last piece of the header hash (RFC 6376 §3.7). -1 when it has no b=. */
int dkim_sig_hash_field(enum dkim_canon c, const char *field, size_t len, struct strbuf *out);

/* Folds a tag-list for a new header field: appends "name=value;" items
 * to out, starting a new line ("\r\n\t") before an item that would pass
 * 78 columns; *col is the current column. Long values are broken with
 * FWS where the grammar allows it (fold). */
enum dkim_fold {
	DKIM_FOLD_NONE,		/* the value stays on one line */
	DKIM_FOLD_ANY,		/* base64: FWS may go anywhere */
	DKIM_FOLD_COLON,	/* h=: FWS after a ':' */
};
void dkim_fold_tag(struct strbuf *out, size_t *col, const char *name, const char *value,
		   enum dkim_fold fold, bool last);

#endif
