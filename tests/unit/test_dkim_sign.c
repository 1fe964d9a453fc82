/* Unit tests for DKIM keys, signing and verification (policy/dkim_keys.c,
 * dkim_sign.c, dkim_verify.c): keys made on disk, messages signed with
 * rsa-sha256 and ed25519-sha256 and verified with keys served by a fake
 * TXT lookup, tampering, key errors, a rotation seen by a running signer,
 * and signing through the queue file hook. (Interoperability with another
 * implementation, and real DNS, are in tests/integration/test_dkim.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/dns.h"
#include "lib/fsutil.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_sign.h"
#include "policy/dkim_verify.h"
#include "store/queue_file.h"

#define DOMAIN "example.test"

static char data_dir[64];

/* The fake DNS: name -> record. */
static struct {
	char name[300];
	char *txt;
} zone[16];
static size_t nzone;
static int lookup_fail;		/* DNS_TEMPFAIL etc. for every lookup when set */

static void zone_add(const char *name, const char *txt)
{
	assert_true(nzone < 16);
	snprintf(zone[nzone].name, sizeof(zone[nzone].name), "%s", name);
	zone[nzone].txt = strdup(txt);
	nzone++;
}

static void zone_clear(void)
{
	for (size_t i = 0; i < nzone; i++)
		free(zone[i].txt);
	nzone = 0;
	lookup_fail = 0;
}

static int fake_lookup(void *ctx, const char *name, char ***txt_r, size_t *n_r,
		       const char **error_r)
{
	*txt_r = NULL;
	*n_r = 0;
	if (lookup_fail != 0) {
		*error_r = "timeout";
		return lookup_fail;
	}
	for (size_t i = 0; i < nzone; i++) {
		if (strcmp(zone[i].name, name) == 0) {
			*txt_r = calloc(1, sizeof(char *));
			(*txt_r)[0] = strdup(zone[i].txt);
			*n_r = 1;
			return DNS_OK;
		}
	}
	*error_r = "no such name";
	return DNS_NXDOMAIN;
}

/* Publishes the records of every key of DOMAIN. */
static void publish(void)
{
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n;
	const char *error;

	assert_int_equal(dkim_keys_list(data_dir, DOMAIN, k, DKIM_KEYS_MAX, &n, &error), 0);
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY *key = dkim_keys_load(data_dir, DOMAIN, &k[i], &error);
		struct strbuf rec = STRBUF_INIT;
		char name[300];

		assert_non_null(key);
		assert_int_equal(dkim_keys_record(key, &rec), 0);
		snprintf(name, sizeof(name), "%s._domainkey.%s", k[i].selector, DOMAIN);
		zone_add(name, strbuf_cstr(&rec));
		strbuf_free(&rec);
		EVP_PKEY_free(key);
	}
}

static int setup(void **state)
{
	struct dkim_keyinfo k[2];
	const char *error = "";

	snprintf(data_dir, sizeof(data_dir), "/tmp/yubin-dkim-test.XXXXXX");
	assert_non_null(mkdtemp(data_dir));
	memset(k, 0, sizeof(k));
	dkim_keys_selector_new(k[0].selector, sizeof(k[0].selector), k, 0, DKIM_KEY_RSA, 1772323200);
	assert_string_equal(k[0].selector, "y20260301r");
	k[0].type = DKIM_KEY_RSA;
	k[1].type = DKIM_KEY_ED25519;
	dkim_keys_selector_new(k[1].selector, sizeof(k[1].selector), k, 1, DKIM_KEY_ED25519, 1772323200);
	assert_string_equal(k[1].selector, "y20260301e");
	for (int i = 0; i < 2; i++) {
		k[i].state = DKIM_STATE_ACTIVE;
		k[i].since = 1772323200;
		assert_int_equal(dkim_keys_generate(data_dir, DOMAIN, &k[i], &error), 0);
	}
	assert_int_equal(dkim_keys_save(data_dir, DOMAIN, k, 2, &error), 0);
	publish();
	return 0;
}

static int teardown(void **state)
{
	zone_clear();
	fs_remove_tree(data_dir);
	return 0;
}

static const char body_text[] =
	"Hello,  world \r\n"
	"\tindented line\r\n"
	".dot\r\n"
	"\r\n\r\n";

static void msg_init(struct maildir_msg *m, const char *headers_and_body)
{
	memset(m, 0, sizeof(*m));
	m->prefix = "Received: from client by mail.example.test;\r\n\tSat, 28 Nov 2026 10:00:00 +0000\r\n";
	m->prefix_len = strlen(m->prefix);
	m->body = headers_and_body;
	m->body_len = strlen(headers_and_body);
	m->body_fd = -1;
}

/* signatures + prefix + body, as the queue file holds them */
static char *assemble(const struct strbuf *sigs, const struct maildir_msg *m, size_t *len_r)
{
	struct strbuf all = STRBUF_INIT;

	strbuf_append(&all, sigs->data, sigs->len);
	strbuf_append(&all, m->prefix, m->prefix_len);
	strbuf_append(&all, m->body, m->body_len);
	*len_r = all.len;
	return all.data;
}

static size_t verify(const char *msg, size_t len, struct dkim_verdict *v)
{
	return dkim_verify_with(fake_lookup, NULL, msg, len, v, DKIM_VERIFY_MAX, 1800000000);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	assert_non_null(p);
	r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	memcpy(r, s, (size_t)(p - s));
	strcpy(r + (p - s), to);
	strcat(r, p + strlen(from));
	return r;
}

static void test_sign_and_verify(void **state)
{
	struct dkim_signer *s = dkim_signer_new(data_dir);
	struct strbuf sigs = STRBUF_INIT;
	struct maildir_msg m;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	char domain[256], *msg, *bad;
	const char *error = "";
	size_t len;
	char text[1024];

	snprintf(text, sizeof(text), "From: Alice <alice@" DOMAIN ">\r\nTo: bob@remote.test\r\n"
		 "Subject: hello\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n%s", body_text);
	msg_init(&m, text);
	assert_int_equal(dkim_signer_sign(s, "alice@" DOMAIN, &m, &sigs, domain, &error), 2);
	assert_string_equal(domain, DOMAIN);
	assert_non_null(strstr(sigs.data, "a=rsa-sha256"));
	assert_non_null(strstr(sigs.data, "a=ed25519-sha256"));
	assert_non_null(strstr(sigs.data, "h=from:from:subject:date:to;"));
	msg = assemble(&sigs, &m, &len);
	assert_int_equal(verify(msg, len, v), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i].result, DKIM_PASS);
		assert_string_equal(v[i].reason, "");
		assert_string_equal(v[i].domain, DOMAIN);
		assert_true(strlen(v[i].header_b) >= 8);
	}
	assert_string_equal(v[0].algo, "rsa-sha256");
	assert_string_equal(v[0].selector, "y20260301r");
	assert_string_equal(v[1].algo, "ed25519-sha256");
	assert_string_equal(dkim_res_name(v[0].result), "pass");

	/* the body changed */
	bad = replace(msg, "Hello,", "Hullo,");
	assert_int_equal(verify(bad, strlen(bad), v), 2);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].reason, "body hash did not verify");
	assert_int_equal(v[1].result, DKIM_FAIL);
	free(bad);
	/* a signed header changed */
	bad = replace(msg, "Subject: hello", "Subject: HELLO");
	assert_int_equal(verify(bad, strlen(bad), v), 2);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].reason, "signature did not verify");
	assert_int_equal(v[1].result, DKIM_FAIL);
	free(bad);
	/* an unsigned header changed, and white space changes: relaxed passes */
	bad = replace(msg, "Received: from client", "Received:   from  client");
	assert_int_equal(verify(bad, strlen(bad), v), 2);
	assert_int_equal(v[0].result, DKIM_PASS);
	free(bad);
	/* a second From added: over-signing catches it */
	bad = replace(msg, "To: bob", "From: mallory@evil.test\r\nTo: bob");
	assert_int_equal(verify(bad, strlen(bad), v), 2);
	assert_int_equal(v[0].result, DKIM_FAIL);
	free(bad);

	/* DNS failures */
	lookup_fail = DNS_TEMPFAIL;
	assert_int_equal(verify(msg, len, v), 2);
	assert_int_equal(v[0].result, DKIM_TEMPERROR);
	assert_string_equal(dkim_res_name(v[0].result), "temperror");
	lookup_fail = DNS_NXDOMAIN;
	assert_int_equal(verify(msg, len, v), 2);
	assert_int_equal(v[0].result, DKIM_PERMERROR);
	assert_string_equal(v[0].reason, "no key for signature");
	lookup_fail = 0;
	/* max limits the verdicts */
	assert_int_equal(dkim_verify_with(fake_lookup, NULL, msg, len, v, 1, 1800000000), 1);
	/* no signature */
	assert_int_equal(verify(text, strlen(text), v), 0);

	free(msg);
	strbuf_free(&sigs);
	dkim_signer_free(s);
}

/* The body in a file with LF line ends: signed in pieces; the CRLF form
 * verifies too. */
static void test_sign_file_body_lf(void **state)
{
	struct dkim_signer *s = dkim_signer_new(data_dir);
	struct strbuf sigs = STRBUF_INIT, crlf = STRBUF_INIT, lf = STRBUF_INIT;
	struct maildir_msg m;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	const char *error = "";
	FILE *f = tmpfile();

	strbuf_append_str(&lf, "From: x@" DOMAIN "\nSubject: big\n\n");
	for (int i = 0; i < 20000; i++)
		strbuf_printf(&lf, "line %d  with  spaces \n", i);
	assert_non_null(f);
	assert_int_equal(fwrite(lf.data, 1, lf.len, f), lf.len);
	fflush(f);
	memset(&m, 0, sizeof(m));
	m.body_fd = fileno(f);
	m.body_len = lf.len;
	assert_int_equal(dkim_signer_sign(s, "", &m, &sigs, NULL, &error), 2);
	strbuf_append(&crlf, sigs.data, sigs.len);
	for (size_t i = 0; i < lf.len; i++) {
		if (lf.data[i] == '\n')
			strbuf_append_c(&crlf, '\r');
		strbuf_append_c(&crlf, lf.data[i]);
	}
	assert_int_equal(verify(crlf.data, crlf.len, v), 2);
	assert_int_equal(v[0].result, DKIM_PASS);
	assert_int_equal(v[1].result, DKIM_PASS);
	fclose(f);
	strbuf_free(&sigs);
	strbuf_free(&crlf);
	strbuf_free(&lf);
	dkim_signer_free(s);
}

static void test_which_domain(void **state)
{
	struct dkim_signer *s = dkim_signer_new(data_dir);
	struct strbuf sigs = STRBUF_INIT;
	struct maildir_msg m;
	char domain[256];
	const char *error = "";

	/* From: a domain without keys: the envelope sender's domain */
	msg_init(&m, "From: someone@elsewhere.test\r\nSubject: x\r\n\r\nhi\r\n");
	assert_int_equal(dkim_signer_sign(s, "bounce@" DOMAIN, &m, &sigs, domain, &error), 2);
	assert_string_equal(domain, DOMAIN);
	strbuf_truncate(&sigs, 0);
	/* neither has keys */
	assert_int_equal(dkim_signer_sign(s, "a@elsewhere.test", &m, &sigs, domain, &error), 0);
	assert_int_equal(sigs.len, 0);
	assert_string_equal(domain, "");
	/* hostile From: values never reach the file system */
	msg_init(&m, "From: <x@../../etc>\r\n\r\nhi\r\n");
	assert_int_equal(dkim_signer_sign(s, "", &m, &sigs, domain, &error), 0);
	msg_init(&m, "From: \"Name, with comma\" <A@EXAMPLE.TEST>\r\n\r\nhi\r\n");
	assert_int_equal(dkim_signer_sign(s, "", &m, &sigs, domain, &error), 2);
	assert_string_equal(domain, DOMAIN);
	strbuf_free(&sigs);
	dkim_signer_free(s);
}

/* A rotation on disk is picked up by a signer that already cached keys. */
static void test_rotation_reload(void **state)
{
	struct dkim_signer *s = dkim_signer_new(data_dir);
	struct strbuf sigs = STRBUF_INIT;
	struct maildir_msg m;
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n;
	const char *error = "";

	msg_init(&m, "From: a@" DOMAIN "\r\n\r\nhi\r\n");
	assert_int_equal(dkim_signer_sign(s, "", &m, &sigs, NULL, &error), 2);
	assert_non_null(strstr(sigs.data, "s=y20260301r;"));
	assert_int_equal(dkim_keys_list(data_dir, DOMAIN, k, DKIM_KEYS_MAX, &n, &error), 0);
	assert_int_equal(n, 2);
	k[0].state = DKIM_STATE_RETIRED;
	k[1].state = DKIM_STATE_RETIRED;
	k[2].type = DKIM_KEY_RSA;
	k[2].state = DKIM_STATE_ACTIVE;
	k[2].since = 1772323200;
	dkim_keys_selector_new(k[2].selector, sizeof(k[2].selector), k, 2, DKIM_KEY_RSA, 1772323200);
	assert_string_equal(k[2].selector, "y20260301br");
	assert_int_equal(dkim_keys_generate(data_dir, DOMAIN, &k[2], &error), 0);
	assert_int_equal(dkim_keys_save(data_dir, DOMAIN, k, 3, &error), 0);
	strbuf_truncate(&sigs, 0);
	assert_int_equal(dkim_signer_sign(s, "", &m, &sigs, NULL, &error), 1);
	assert_non_null(strstr(sigs.data, "s=y20260301br;"));
	/* and back, for the other tests */
	k[0].state = k[1].state = DKIM_STATE_ACTIVE;
	assert_int_equal(dkim_keys_save(data_dir, DOMAIN, k, 2, &error), 0);
	strbuf_free(&sigs);
	dkim_signer_free(s);
}

static void test_key_errors(void **state)
{
	struct strbuf sigs = STRBUF_INIT, rec = STRBUF_INIT;
	struct maildir_msg m;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	const char *error = "";
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	char *msg;
	size_t len;

	msg_init(&m, "From: a@" DOMAIN "\r\n\r\nhi\r\n");
	assert_non_null(small);
	assert_int_equal(dkim_sign_one(small, DOMAIN, "small", 1772323200, &m, &sigs, &error), 0);
	assert_int_equal(dkim_keys_record(small, &rec), 0);
	zone_add("small._domainkey." DOMAIN, strbuf_cstr(&rec));
	zone_add("revoked._domainkey." DOMAIN, "v=DKIM1; p=");
	zone_add("ed._domainkey." DOMAIN, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	zone_add("strict._domainkey." DOMAIN, strbuf_cstr(&rec));
	msg = assemble(&sigs, &m, &len);
	assert_int_equal(verify(msg, len, v), 1);
	assert_int_equal(v[0].result, DKIM_PERMERROR);
	assert_string_equal(v[0].reason, "RSA key shorter than 1024 bits");
	free(msg);
	{
		char *r = replace(strbuf_cstr(&sigs), "s=small;", "s=revoked;");
		struct strbuf t = STRBUF_INIT;
		strbuf_append_str(&t, r);
		msg = assemble(&t, &m, &len);
		assert_int_equal(verify(msg, len, v), 1);
		assert_int_equal(v[0].result, DKIM_PERMERROR);
		assert_string_equal(v[0].reason, "key revoked");
		free(msg);
		free(r);
		r = replace(strbuf_cstr(&sigs), "s=small;", "s=ed;");
		strbuf_truncate(&t, 0);
		strbuf_append_str(&t, r);
		msg = assemble(&t, &m, &len);
		assert_int_equal(verify(msg, len, v), 1);
		assert_int_equal(v[0].result, DKIM_PERMERROR);
		assert_string_equal(v[0].reason, "key type does not match a=");
		free(msg);
		free(r);
		strbuf_free(&t);
	}
	EVP_PKEY_free(small);
	strbuf_free(&sigs);
	strbuf_free(&rec);
}

/* Decoded keys are cached by their DER bytes: a selector whose record
 * changes to another key is verified against the new key, never the one
 * decoded before. */
static void test_key_change_not_cached(void **state)
{
	struct strbuf sigs = STRBUF_INIT, reca = STRBUF_INIT, recb = STRBUF_INIT;
	struct maildir_msg m;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	const char *error = "";
	EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	char *msg;
	size_t len;

	assert_non_null(a);
	assert_non_null(b);
	msg_init(&m, "From: a@" DOMAIN "\r\n\r\nhi\r\n");
	assert_int_equal(dkim_sign_one(a, DOMAIN, "sel", 1772323200, &m, &sigs, &error), 0);
	assert_int_equal(dkim_keys_record(a, &reca), 0);
	assert_int_equal(dkim_keys_record(b, &recb), 0);
	msg = assemble(&sigs, &m, &len);
	zone_add("sel._domainkey." DOMAIN, strbuf_cstr(&reca));
	for (int round = 0; round < 2; round++) {
		free(zone[nzone - 1].txt);
		zone[nzone - 1].txt = strdup(strbuf_cstr(&reca));
		assert_int_equal(verify(msg, len, v), 1);
		assert_int_equal(v[0].result, DKIM_PASS);	/* decoded, then cached */
		free(zone[nzone - 1].txt);
		zone[nzone - 1].txt = strdup(strbuf_cstr(&recb));
		assert_int_equal(verify(msg, len, v), 1);
		assert_int_equal(v[0].result, DKIM_FAIL);
		assert_string_equal(v[0].reason, "signature did not verify");
	}
	free(zone[--nzone].txt);	/* the group's zone as it was */
	free(msg);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	strbuf_free(&sigs);
	strbuf_free(&reca);
	strbuf_free(&recb);
}

static char *hook_sign(void *ctx, const char *from, const struct maildir_msg *msg, size_t *len_r)
{
	struct strbuf out = STRBUF_INIT;
	const char *error;

	if (dkim_signer_sign(ctx, from, msg, &out, NULL, &error) <= 0) {
		strbuf_free(&out);
		return NULL;
	}
	*len_r = out.len;
	return out.data;
}

/* queue_file_create puts the signatures first; the stored message verifies. */
static void test_queue_file_hook(void **state)
{
	struct dkim_signer *s = dkim_signer_new(data_dir);
	char dir[128], id[QUEUE_ID_MAX], path[256], *data;
	const char *rcpt = "bob@remote.test", *error = "";
	struct maildir_msg m;
	struct queue_env env;
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	size_t len;

	snprintf(dir, sizeof(dir), "%s/queue", data_dir);
	msg_init(&m, "From: a@" DOMAIN "\r\nSubject: queued\r\n\r\nhi\r\n");
	queue_file_set_signer(hook_sign, s);
	assert_int_equal(queue_file_create(dir, "a@" DOMAIN, &rcpt, 1, &m, id, sizeof(id), &error), 0);
	queue_file_set_signer(NULL, NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	data = fs_read_file(path, 1 << 20, &len);
	assert_non_null(data);
	assert_int_equal(queue_file_parse(data, len, &env, &error), 0);
	assert_int_equal(memcmp(data + env.body_off, "DKIM-Signature:", 15), 0);
	assert_int_equal(verify(data + env.body_off, env.body_len, v), 2);
	assert_int_equal(v[0].result, DKIM_PASS);
	assert_int_equal(v[1].result, DKIM_PASS);
	queue_env_free(&env);
	free(data);
	/* without a signer: as before */
	assert_int_equal(queue_file_create(dir, "a@" DOMAIN, &rcpt, 1, &m, id, sizeof(id), &error), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	data = fs_read_file(path, 1 << 20, &len);
	assert_int_equal(queue_file_parse(data, len, &env, &error), 0);
	assert_int_equal(env.body_len, m.prefix_len + m.body_len);
	queue_env_free(&env);
	free(data);
	dkim_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_sign_file_body_lf),
		cmocka_unit_test(test_which_domain),
		cmocka_unit_test(test_rotation_reload),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_key_change_not_cached),
		cmocka_unit_test(test_queue_file_hook),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
