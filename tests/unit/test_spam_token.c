/* Unit tests for src/spam/spam_token.c, spam_text.c and spam_html.c: words
 * and header prefixes, Japanese text in four charsets giving the same
 * features, HTML, URLs, structure, attachments and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <iconv.h>
#include <libpsl.h>

#include "spam/spam_token.h"

static struct spam_token_limits limits = { 512 * 1024, 20000, 1, NULL, false };

static bool has(const struct spam_tokens *t, const char *prefix, const char *text)
{
	uint32_t h = spam_hash(prefix, text, strlen(text));

	for (size_t i = 0; i < t->count; i++) {
		if (t->hash[i] == h)
			return true;
	}
	return false;
}

static void tokenize(const char *msg, struct spam_tokens *t)
{
	spam_tokenize(msg, strlen(msg), &limits, t);
}

static void test_words_and_headers(void **state)
{
	struct spam_tokens t;

	spam_tokens_init(&t, &limits, true);
	tokenize("From: Alice <alice@example.org>\r\nSubject: Cheap WATCHES, today only\r\n"
		 "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\n"
		 "Hello Bob, the meeting is at 10am. Don't be late... x\r\n", &t);
	assert_true(has(&t, "subject:", "cheap"));
	assert_true(has(&t, "subject:", "watches"));
	assert_true(has(&t, NULL, "watches"));	/* the subject is text too */
	assert_true(has(&t, "from:", "alice"));
	assert_true(has(&t, NULL, "hello"));
	assert_true(has(&t, NULL, "don't"));
	assert_true(has(&t, NULL, "late"));	/* trailing dots trimmed */
	assert_true(has(&t, NULL, "10am"));
	assert_false(has(&t, NULL, "x"));	/* one letter: no word */
	assert_false(has(&t, NULL, "Hello"));	/* lowercased */
	assert_false(has(&t, "_f:", "no-date"));
	assert_false(has(&t, "_f:", "no-message-id"));
	/* neighbouring words are paired; the texts come back */
	bool pair = false;
	for (size_t i = 0; i < t.count; i++)
		pair |= strcmp(spam_tokens_text(&t, i), "hello bob") == 0;
	assert_true(pair);
	spam_tokens_free(&t);
}

static void test_structure(void **state)
{
	struct spam_tokens t;

	spam_tokens_init(&t, &limits, false);
	tokenize("Received: from a\r\nReceived: from b\r\nReceived: from c\r\n"
		 "From: x@shop.example\r\nReply-To: y@elsewhere.example\r\n"
		 "To: a@x.example, b@x.example, c@x.example\r\n\r\nbody\r\n", &t);
	assert_true(has(&t, "_f:", "no-date"));
	assert_true(has(&t, "_f:", "no-message-id"));
	assert_true(has(&t, "_f:", "no-subject"));
	assert_true(has(&t, "_f:", "reply-to-other-domain"));
	assert_true(has(&t, "_f:", "received:3-4"));
	assert_true(has(&t, "_f:", "rcpts:3-4"));
	tokenize("From: x@shop.example\r\nReply-To: z@SHOP.example\r\n\r\nbody\r\n", &t);
	assert_false(has(&t, "_f:", "reply-to-other-domain"));
	assert_true(has(&t, "_f:", "received:0"));
	spam_tokens_free(&t);
}

static void test_portable_headers(void **state)
{
	struct spam_token_limits l = limits;
	struct spam_tokens t;
	static const char msg[] = "Received: from relay.site.example\r\nTo: someone@site.example\r\n"
				  "Subject: cheap offer\r\nFrom: Shop <deals@shop.example>\r\n"
				  "X-Mailer: BulkMailer 3\r\n\r\nbody words\r\n";

	l.portable = true;
	spam_tokens_init(&t, &l, false);
	spam_tokenize(msg, sizeof(msg) - 1, &l, &t);
	assert_false(has(&t, "received:", "relay.site.example"));
	assert_false(has(&t, "to:", "someone"));
	assert_false(has(&t, "_h:", "received:"));
	assert_true(has(&t, "_f:", "received:1"));	/* the structure stays */
	assert_true(has(&t, "subject:", "cheap"));
	assert_true(has(&t, "from:", "shop"));
	assert_true(has(&t, "x-mailer:", "bulkmailer"));
	assert_true(has(&t, NULL, "body"));
	spam_tokenize(msg, sizeof(msg) - 1, &limits, &t);
	assert_true(has(&t, "received:", "relay.site.example"));
	assert_true(has(&t, "to:", "someone"));
	spam_tokens_free(&t);
}

static void test_html(void **state)
{
	struct spam_tokens t;
	struct spam_token_limits l = limits;

	l.psl = psl_builtin();
	spam_tokens_init(&t, &l, false);
	static const char html[] = "Subject: hi\r\nContent-Type: text/html\r\n\r\n"
		      "<html><head><style>.secretstyle{}</style><script>var hiddenscript;</script></head>"
		      "<body><p>Fan&#116;astic&nbsp;off&#x65;r &amp; more</p>"
		      "<div style=\"display: block; DISPLAY:none\">invisible</div><!-- comment -->"
		      "<a href=\"http://user@Click.Shop.example.co.uk:8080/x?y\">here</a>"
		      "<img src='https://img.cdn.example.com/a.gif'></body></html>\r\n";

	spam_tokenize(html, sizeof(html) - 1, &l, &t);
	assert_true(has(&t, NULL, "fantastic"));
	assert_true(has(&t, NULL, "offer"));
	assert_true(has(&t, NULL, "here"));
	assert_false(has(&t, NULL, "secretstyle"));
	assert_false(has(&t, NULL, "hiddenscript"));
	assert_false(has(&t, NULL, "comment"));
	assert_true(has(&t, "_f:", "html-only"));
	assert_true(has(&t, "_f:", "html-hidden-text"));
	assert_true(has(&t, "html:", "div"));
	assert_true(has(&t, "url:", "click.shop.example.co.uk"));
	assert_true(has(&t, "urld:", "example.co.uk"));
	assert_true(has(&t, "urld:", "example.com"));
	assert_true(has(&t, "_f:", "links:1"));
	spam_tokens_free(&t);
}

static void test_html_lone_brackets(void **state)
{
	struct spam_tokens t;

	spam_tokens_init(&t, &limits, false);
	tokenize("Subject: x\r\nContent-Type: text/html\r\n\r\n<p>prices < 5 dollars, 3<4 and"
		 " then <b>bold</b> words after <unclosed tail words\r\n", &t);
	assert_true(has(&t, NULL, "dollars"));
	assert_true(has(&t, NULL, "bold"));
	assert_true(has(&t, NULL, "words"));
	assert_true(has(&t, NULL, "tail"));	/* an unclosed tag does not eat the rest */
	assert_true(has(&t, "_f:", "html-bad-markup"));
	spam_tokens_free(&t);
}

static void test_urls_in_text(void **state)
{
	struct spam_tokens t;

	spam_tokens_init(&t, &limits, false);
	tokenize("Subject: x\r\n\r\nsee www.Example.NET/page and http://192.0.2.7/x and "
		 "https://a.b.example.org.\r\n", &t);
	assert_true(has(&t, "url:", "www.example.net"));
	assert_true(has(&t, "urld:", "example.net"));
	assert_true(has(&t, "url:", "a.b.example.org"));
	assert_true(has(&t, "urld:", "example.org"));	/* no psl: the last two labels */
	assert_true(has(&t, "_f:", "url-ip"));
	spam_tokens_free(&t);
}

static void test_attachments(void **state)
{
	struct spam_tokens t;

	spam_tokens_init(&t, &limits, false);
	tokenize("Subject: invoice\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		 "--b\r\nContent-Type: text/plain\r\n\r\nplease see the attached invoice for the work"
		 " we did in March and in April of this year on the two sites; pay by the end of the"
		 " month to the usual account, with the number of the invoice as the reference.\r\n"
		 "--b\r\nContent-Type: application/octet-stream; name=\"Invoice 2024.EXE\"\r\n"
		 "Content-Disposition: attachment; filename=\"Invoice 2024.EXE\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n"
		 "--b\r\nContent-Type: image/gif\r\n\r\nR0lGODlh\r\n--b--\r\n", &t);
	assert_true(has(&t, "att-type:", "application/octet-stream"));
	assert_true(has(&t, "att-ext:", "EXE"));
	assert_true(has(&t, "att-name:", "invoice"));
	assert_true(has(&t, "att-type:", "image/gif"));
	assert_true(has(&t, "_f:", "attachments:1"));
	assert_true(has(&t, NULL, "attached"));
	assert_true(has(&t, "part-content-type:", "application"));
	assert_false(has(&t, "_f:", "image-only"));	/* there is text */
	tokenize("Subject: x\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
		 "--b\r\nContent-Type: image/jpeg\r\n\r\n/9j/\r\n--b--\r\n", &t);
	assert_true(has(&t, "_f:", "image-only"));
	spam_tokens_free(&t);
}

/* ---- Japanese: the same mail in ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8 */

static const char ja_spam_subject[] = "【重要】今すぐ無料で高収入！副業で月収１００万円";
static const char ja_spam_body[] =
	"お客様各位\n今だけ限定のご案内です。誰でも簡単に稼げる副業をご紹介します。\n"
	"登録は無料、今すぐクリックしてください。\nhttp://kasegeru.example.jp/touroku\n"
	"配信停止はこちら\n";
static const char ja_ham_subject[] = "来週の打ち合わせについて";
static const char ja_ham_body[] =
	"田中さん\nお疲れさまです。来週火曜日の打ち合わせですが、会議室が取れましたので"
	"十四時からでお願いします。資料は前日までに共有します。\nよろしくお願いいたします。\n佐藤\n";

static size_t to_charset(const char *cs, const char *in, char *out, size_t size)
{
	iconv_t cd = iconv_open(cs, "UTF-8");
	char *ip = (char *)in, *op = out;
	size_t il = strlen(in), ol = size;

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
	assert_true(iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1);
	iconv_close(cd);
	return (size_t)(op - out);
}

static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

/* The message in charset cs: the subject and sender's name as RFC 2047
 * B words, the body raw (7bit/8bit) or in base64. */
static char *ja_message(const char *cs, const char *subject, const char *body, bool b64)
{
	char conv[4096], enc[8192], name[256], nenc[512];
	size_t n;
	char *msg = malloc(32768);

	assert_non_null(msg);
	n = to_charset(cs, subject, conv, sizeof(conv));
	base64((unsigned char *)conv, n, enc);
	n = to_charset(cs, "山田 太郎", name, sizeof(name));
	base64((unsigned char *)name, n, nenc);
	n = (size_t)snprintf(msg, 32768,
			     "From: =?%s?B?%s?= <yamada@example.jp>\r\nSubject: =?%s?B?%s?=\r\n"
			     "Date: Mon, 1 Jan 2024 09:00:00 +0900\r\nMessage-ID: <1@example.jp>\r\n"
			     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=%s\r\n"
			     "Content-Transfer-Encoding: %s\r\n\r\n",
			     cs, nenc, cs, enc, cs, b64 ? "base64" : "8bit");
	size_t bl = to_charset(cs, body, conv, sizeof(conv));
	if (b64) {
		base64((unsigned char *)conv, bl, enc);
		memcpy(msg + n, enc, strlen(enc) + 1);
	} else {
		memcpy(msg + n, conv, bl);
		msg[n + bl] = '\0';
	}
	return msg;
}

/* Features of a that b lacks must all come from the labels (charset,
 * Content-Type, Content-Transfer-Encoding), never from the text. */
static void same_text_features(const struct spam_tokens *a, const struct spam_tokens *b)
{
	for (size_t i = 0; i < a->count; i++) {
		const char *text = spam_tokens_text(a, i);
		bool found = false;

		for (size_t j = 0; j < b->count && !found; j++)
			found = a->hash[i] == b->hash[j];
		if (found)
			continue;
		if (strncmp(text, "charset:", 8) != 0 && strncmp(text, "content-type:", 13) != 0 &&
		    strncmp(text, "content-transfer-encoding:", 26) != 0 &&
		    strncmp(text, "_h:content-", 11) != 0)
			fail_msg("feature '%s' differs between charsets", text);
	}
}

static void check_ja(const char *subject, const char *body)
{
	static const char *const cs[] = { "ISO-2022-JP", "SHIFT_JIS", "CP932", "EUC-JP" };
	struct spam_tokens utf8, other;
	char *msg = ja_message("UTF-8", subject, body, false);

	spam_tokens_init(&utf8, &limits, true);
	spam_tokens_init(&other, &limits, true);
	tokenize(msg, &utf8);
	free(msg);
	assert_true(has(&utf8, "from:", "山田"));
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		for (int b64 = 0; b64 < 2; b64++) {
			msg = ja_message(cs[i], subject, body, b64 != 0);
			tokenize(msg, &other);
			free(msg);
			same_text_features(&utf8, &other);
			same_text_features(&other, &utf8);
		}
	}
	spam_tokens_free(&utf8);
	spam_tokens_free(&other);
}

static void test_japanese_charsets(void **state)
{
	struct spam_tokens t;
	char *msg;

	check_ja(ja_spam_subject, ja_spam_body);
	check_ja(ja_ham_subject, ja_ham_body);
	/* the features themselves: bigrams, fullwidth digits, the URL */
	spam_tokens_init(&t, &limits, false);
	msg = ja_message("ISO-2022-JP", ja_spam_subject, ja_spam_body, false);
	tokenize(msg, &t);
	free(msg);
	assert_true(has(&t, NULL, "副業"));
	assert_true(has(&t, NULL, "今す"));
	assert_true(has(&t, NULL, "すぐ"));
	assert_true(has(&t, "subject:", "無料"));
	assert_true(has(&t, "subject:", "100"));	/* fullwidth digits */
	assert_true(has(&t, "subject:", "万円"));
	assert_false(has(&t, NULL, "【重"));	/* brackets separate */
	assert_true(has(&t, "url:", "kasegeru.example.jp"));
	assert_true(has(&t, "urld:", "example.jp"));
	msg = ja_message("EUC-JP", ja_ham_subject, ja_ham_body, true);
	tokenize(msg, &t);
	free(msg);
	assert_true(has(&t, NULL, "会議"));
	assert_true(has(&t, NULL, "議室"));
	assert_true(has(&t, NULL, "佐藤"));	/* a lone run of two: one bigram */
	spam_tokens_free(&t);
}

static void test_limits(void **state)
{
	struct spam_token_limits l = limits;
	struct spam_tokens t;
	char msg[4096];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "Subject: many\r\n\r\n");

	for (int i = 0; n + 16 < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "w%d ", i);
	l.max_tokens = 50;
	spam_tokens_init(&t, &l, false);
	spam_tokenize(msg, n, &l, &t);
	assert_int_equal(t.count, 50);
	assert_true(t.truncated);
	/* max_bytes: nothing past it is read */
	l.max_tokens = 20000;
	spam_tokens_free(&t);
	spam_tokens_init(&t, &l, false);
	l.max_bytes = 40;
	spam_tokenize(msg, n, &l, &t);
	assert_true(has(&t, NULL, "w0"));
	assert_false(has(&t, NULL, "w100"));
	assert_true(has(&t, "_f:", "big"));
	/* reset between messages */
	spam_tokenize("Subject: one\r\n\r\ntwo\r\n", 21, &limits, &t);
	assert_false(has(&t, NULL, "w0"));
	assert_true(has(&t, NULL, "two"));
	spam_tokens_free(&t);
	spam_tokens_free(NULL);
}

/* The set grows as it fills: features past its first size are kept once
 * each, in the order added, also after a reset, up to max_tokens. */
static void test_set_growth(void **state)
{
	struct spam_token_limits lim = { 512 * 1024, 5000, 1, NULL, false };
	struct spam_tokens t;
	char word[32];

	spam_tokens_init(&t, &lim, false);
	for (int round = 0; round < 2; round++) {
		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < 6000; i++) {
				snprintf(word, sizeof(word), "w%d", i);
				assert_int_equal(spam_tokens_add(&t, NULL, word, strlen(word)), i < 5000);
			}
		}
		assert_int_equal(t.count, 5000);
		assert_true(t.truncated);
		for (int i = 0; i < 5000; i += 499) {
			snprintf(word, sizeof(word), "w%d", i);
			assert_int_equal(t.hash[i], spam_hash(NULL, word, strlen(word)));
		}
		spam_tokens_reset(&t);
		assert_int_equal(t.count, 0);
	}
	spam_tokens_free(&t);
}

static void test_hostile(void **state)
{
	struct spam_tokens t;
	static const char *const inputs[] = {
		"", "\r\n", "Subject: =?utf-8?B?????", "Content-Type: text/html\r\n\r\n<<<<&#xffffffff;&#0;<a href=",
		"Content-Type: text/html\r\n\r\n<!--", "Content-Type: text/html\r\n\r\n<script>",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--", "\xff\xfe\xc3\x28\xe2\x82",
		"Subject: http://", "\r\n\r\nwww.", "\r\n\r\n\xe3\x81", "\r\n\r\n://@@@:",
	};

	spam_tokens_init(&t, &limits, true);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		tokenize(inputs[i], &t);
	spam_tokens_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_and_headers),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_portable_headers),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_lone_brackets),
		cmocka_unit_test(test_urls_in_text),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_japanese_charsets),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_set_growth),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
