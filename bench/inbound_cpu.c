/* The inbound CPU micro-benchmark's driver (bench/inbound-cpu builds it
 * once against each libyubin.a it compares).
 *
 *   inbound_cpu [-i ITER] [--digest] KEY.pem MSGFILE...
 *
 * Each message is signed first (rsa-sha256, relaxed/relaxed, with the RSA
 * key of KEY.pem and the library's own signer), then every stage runs
 * ITER times over the whole corpus, stage after stage:
 *
 *   tokenize     the spam tokenizer as the SMTP server runs it per message
 *                (set made, message tokenized, set freed; OSB window 1)
 *   dkim-relaxed the body canonicalized relaxed and hashed (SHA-256), as
 *                the verifier's body check does
 *   dkim-simple  the same with simple canonicalization
 *   dkim-verify  the whole verification of the signed message (header
 *                parse, body hash, RSA) with the key served from memory
 *
 * Output: one line per stage, "STAGE NS_ALL NS_FIRST": nanoseconds of CPU
 * per message over the corpus, and for the first file alone (the
 * smtp-inbound bench's message). With --digest, instead, one line per
 * message with what the stages produce (token count and a checksum of the
 * token hashes in their order, both body hashes, the verdict), for
 * comparing two builds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpsl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/dns.h"
#include "mail/dkim.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_sign.h"
#include "policy/dkim_verify.h"
#include "spam/spam_token.h"

#define SELECTOR "bench"
#define DOMAIN "sender.test"
#define NOW 1780000000

struct msg {
	const char *name;
	char *data;
	size_t len;
};

static char *key_record;

static void die(const char *what)
{
	fprintf(stderr, "inbound_cpu: %s\n", what);
	exit(1);
}

static char *file_read(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct strbuf b = STRBUF_INIT;
	char buf[65536];
	size_t n;

	if (f == NULL)
		die(path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append(&b, buf, n);
	fclose(f);
	*len_r = b.len;
	return b.data != NULL ? b.data : strdup("");
}

static EVP_PKEY *key_read(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f != NULL)
		fclose(f);
	if (key == NULL)
		die("cannot read the key");
	return key;
}

/* Puts a DKIM-Signature made with key in front of m. */
static void msg_sign(struct msg *m, EVP_PKEY *key)
{
	struct maildir_msg mm = { .prefix = m->data, .prefix_len = m->len, .body_fd = -1 };
	struct strbuf out = STRBUF_INIT;
	const char *error;

	if (dkim_sign_one(key, DOMAIN, SELECTOR, NOW, &mm, &out, &error) < 0)
		die(error);
	strbuf_append(&out, m->data, m->len);
	free(m->data);
	m->len = out.len;
	m->data = out.data;
}

static int lookup(void *ctx, const char *name, char ***txt_r, size_t *n_r, const char **error_r)
{
	if (strcmp(name, SELECTOR "._domainkey." DOMAIN) != 0) {
		*error_r = "no such name";
		return DNS_NXDOMAIN;
	}
	*txt_r = calloc(1, sizeof(char *));
	(*txt_r)[0] = strdup(key_record);
	*n_r = 1;
	return DNS_OK;
}

static size_t body_offset(const struct msg *m)
{
	const char *p = memmem(m->data, m->len, "\r\n\r\n", 4);
	const char *q = memmem(m->data, p != NULL ? (size_t)(p - m->data) : m->len, "\n\n", 2);

	if (q != NULL)
		return (size_t)(q + 2 - m->data);
	return p != NULL ? (size_t)(p + 4 - m->data) : m->len;
}

static void hash_update(void *ctx, const void *data, size_t len)
{
	EVP_DigestUpdate(ctx, data, len);
}

static void body_hash(const struct msg *m, enum dkim_canon c, unsigned char h[32])
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	struct dkim_body b;
	size_t off = body_offset(m);

	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	dkim_body_init(&b, c, UINT64_MAX, hash_update, sha);
	dkim_body_feed(&b, m->data + off, m->len - off);
	dkim_body_finish(&b);
	EVP_DigestFinal_ex(sha, h, NULL);
	EVP_MD_CTX_free(sha);
}

static void tokenize(const struct msg *m, struct spam_tokens *t)
{
	struct spam_token_limits lim = { .max_bytes = 512 * 1024, .max_tokens = 20000,
					 .osb_window = 1, .psl = psl_builtin() };

	spam_tokens_init(t, &lim, false);
	spam_tokenize(m->data, m->len, &lim, t);
}

static size_t verify(const struct msg *m, struct dkim_verdict *v)
{
	return dkim_verify_with(lookup, NULL, m->data, m->len, v, DKIM_VERIFY_MAX, NOW + 60);
}

static void hex_print(const unsigned char *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", h[i]);
}

static void digest(const struct msg *m)
{
	struct spam_tokens t;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	unsigned char h[32];
	uint64_t sum = 1469598103934665603u;
	size_t nv;

	tokenize(m, &t);
	for (size_t i = 0; i < t.count; i++)
		sum = (sum ^ t.hash[i]) * 1099511628211u;
	printf("%s tokens=%zu%s sum=%016" PRIx64, m->name, t.count, t.truncated ? "+" : "", sum);
	spam_tokens_free(&t);
	body_hash(m, DKIM_RELAXED, h);
	printf(" relaxed=");
	hex_print(h, 16);
	body_hash(m, DKIM_SIMPLE, h);
	printf(" simple=");
	hex_print(h, 16);
	nv = verify(m, v);
	printf(" dkim=%s\n", nv > 0 ? dkim_res_name(v[0].result) : "none");
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One stage over msgs[0..n), iter times: CPU ns per message. */
static double stage_run(int stage, const struct msg *msgs, size_t n, int iter)
{
	uint64_t t0 = cpu_ns();

	for (int it = 0; it < iter; it++) {
		for (size_t i = 0; i < n; i++) {
			struct spam_tokens t;
			struct dkim_verdict v[DKIM_VERIFY_MAX];
			unsigned char h[32];

			if (stage == 0) {
				tokenize(&msgs[i], &t);
				spam_tokens_free(&t);
			} else if (stage == 1) {
				body_hash(&msgs[i], DKIM_RELAXED, h);
			} else if (stage == 2) {
				body_hash(&msgs[i], DKIM_SIMPLE, h);
			} else if (verify(&msgs[i], v) == 0 || v[0].result != DKIM_PASS) {
				die("a signature did not verify");
			}
		}
	}
	return (double)(cpu_ns() - t0) / ((double)iter * (double)n);
}

int main(int argc, char **argv)
{
	static const char *const stages[] = { "tokenize", "dkim-relaxed", "dkim-simple", "dkim-verify" };
	struct msg *msgs;
	struct strbuf rec = STRBUF_INIT;
	EVP_PKEY *key;
	int iter = 20, first = 1;
	bool want_digest = false;
	size_t n = 0;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "--digest") == 0)
			want_digest = true;
		else if (strcmp(argv[first], "-i") == 0 && first + 1 < argc)
			iter = atoi(argv[++first]);
		else
			die("usage: inbound_cpu [-i ITER] [--digest] KEY.pem MSGFILE...");
	}
	if (argc - first < 2 || iter < 1)
		die("usage: inbound_cpu [-i ITER] [--digest] KEY.pem MSGFILE...");
	key = key_read(argv[first++]);
	if (dkim_keys_record(key, &rec) < 0)
		die("no DKIM key record");
	key_record = rec.data;
	msgs = calloc((size_t)(argc - first), sizeof(*msgs));
	for (int a = first; a < argc; a++, n++) {
		const char *slash = strrchr(argv[a], '/');

		msgs[n].name = slash != NULL ? slash + 1 : argv[a];
		msgs[n].data = file_read(argv[a], &msgs[n].len);
		msg_sign(&msgs[n], key);
	}
	for (size_t i = 0; i < n && want_digest; i++)
		digest(&msgs[i]);
	for (int s = 0; s < 4 && !want_digest; s++) {
		double all = stage_run(s, msgs, n, iter);
		double one = stage_run(s, msgs, 1, iter * 4);

		printf("%s %.0f %.0f\n", stages[s], all, one);
	}
	for (size_t i = 0; i < n; i++)
		free(msgs[i].data);
	free(msgs);
	EVP_PKEY_free(key);
	strbuf_free(&rec);
	return 0;
}
