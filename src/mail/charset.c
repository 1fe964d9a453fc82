#include "mail/charset.h"
#include "lib/str.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#define UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Mail labels and the iconv name that decodes them best. */
static const struct {
	const char *label;
	const char *iconv_name;
} charset_aliases[] = {
	{ "shift_jis", "CP932" },
	{ "shift-jis", "CP932" },
	{ "sjis", "CP932" },
	{ "x-sjis", "CP932" },
	{ "ms_kanji", "CP932" },
	{ "csshiftjis", "CP932" },
	{ "windows-31j", "CP932" },
	{ "cp932", "CP932" },
	{ "ms932", "CP932" },
	{ "euc-jp", "EUC-JP-MS" },
	{ "x-euc-jp", "EUC-JP-MS" },
	{ "eucjp", "EUC-JP-MS" },
	{ "cseucpkdfmtjapanese", "EUC-JP-MS" },
	/* WHATWG: Latin-1 labels are read as windows-1252 */
	{ "iso-8859-1", "WINDOWS-1252" },
	{ "iso8859-1", "WINDOWS-1252" },
	{ "latin1", "WINDOWS-1252" },
	{ "ks_c_5601-1987", "CP949" },
	{ "euc-kr", "CP949" },
	{ "gb2312", "GB18030" },
	{ "gbk", "GB18030" },
	{ "x-gbk", "GB18030" },
	{ "big5", "BIG5-HKSCS" },
	{ "tis-620", "CP874" },
};

static bool is_label(const char *charset, const char *const *names)
{
	for (; *names != NULL; names++) {
		if (strcasecmp(charset, *names) == 0)
			return true;
	}
	return false;
}

bool charset_is_utf8_compatible(const char *charset)
{
	static const char *const names[] = {
		"utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "us",
		"iso646-us", "csascii", "x-unknown", "unknown-8bit", NULL
	};

	return charset == NULL || charset[0] == '\0' || is_label(charset, names);
}

static bool is_iso2022jp(const char *charset)
{
	static const char *const names[] = {
		"iso-2022-jp", "csiso2022jp", "iso-2022-jp-ms", "x-iso-2022-jp", NULL
	};

	return is_label(charset, names);
}

static const char *iconv_name(const char *charset)
{
	for (size_t i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++) {
		if (strcasecmp(charset, charset_aliases[i].label) == 0)
			return charset_aliases[i].iconv_name;
	}
	return charset;
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The length of the longest valid UTF-8 prefix of p[0..len): ASCII, the
 * bulk of most text, eight bytes at a time. */
static size_t utf8_valid_prefix(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n;

		while (len - i >= 8 && (load64(p + i) & 0x8080808080808080u) == 0)
			i += 8;
		if (i == len)
			break;
		n = str_utf8_char_len(p + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	return i;
}

bool charset_utf8_is_valid(const void *in, size_t len)
{
	return utf8_valid_prefix(in, len) == len;
}

void charset_utf8_append_valid(struct strbuf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i = 0;

	strbuf_reserve(out, len);
	while (i < len) {
		size_t k = utf8_valid_prefix(p + i, len - i);

		strbuf_append(out, p + i, k);
		i += k;
		if (i < len) {
			strbuf_append_str(out, UTF8_REPLACEMENT);
			i++;
		}
	}
}

/* Runs the iconv conversion of in through cd, appending UTF-8 to out. */
static void iconv_run(iconv_t cd, const char *in, size_t len, struct strbuf *out)
{
	char chunk[4096];
	char *inp = (char *)in;
	size_t inleft = len;

	while (inleft > 0) {
		char *outp = chunk;
		size_t outleft = sizeof(chunk);
		size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
		int err = errno;

		strbuf_append(out, chunk, sizeof(chunk) - outleft);
		if (r != (size_t)-1)
			break;
		if (err == E2BIG)
			continue;
		strbuf_append_str(out, UTF8_REPLACEMENT);
		if (err == EINVAL)
			break;	/* truncated sequence at the end */
		/* EILSEQ (or anything else): skip one byte and go on */
		inp++;
		inleft--;
	}
	for (;;) {
		char *outp = chunk;
		size_t outleft = sizeof(chunk);
		size_t r = iconv(cd, NULL, NULL, &outp, &outleft);

		strbuf_append(out, chunk, sizeof(chunk) - outleft);
		if (r != (size_t)-1 || errno != E2BIG)
			break;
	}
}

/* Converts ISO-2022-JP (RFC 1468, with the JIS X 0201 katakana and
 * Microsoft extensions mail clients send) into CP932 bytes in sjis. */
static void iso2022jp_to_cp932(const unsigned char *p, size_t len, struct strbuf *sjis)
{
	enum { ASCII, KANJI, KATAKANA } mode = ASCII;
	bool shifted = false;	/* SO ... SI half-width katakana */
	size_t i = 0;
	unsigned char *o;

	/* every byte out stands for at least one byte in */
	strbuf_reserve(sjis, len);
	o = (unsigned char *)sjis->data + sjis->len;
	while (i < len) {
		unsigned char c = p[i];

		if (c == 0x1B) {
			if (i + 2 < len && p[i + 1] == '$' && (p[i + 2] == 'B' || p[i + 2] == '@')) {
				mode = KANJI;
				i += 3;
			} else if (i + 2 < len && p[i + 1] == '(' &&
				   (p[i + 2] == 'B' || p[i + 2] == 'J' || p[i + 2] == 'H')) {
				mode = ASCII;
				i += 3;
			} else if (i + 2 < len && p[i + 1] == '(' && p[i + 2] == 'I') {
				mode = KATAKANA;
				i += 3;
			} else {
				*o++ = 0xFF;
				i++;
			}
			continue;
		}
		if (c == 0x0E || c == 0x0F) {
			shifted = c == 0x0E;
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			/* a line end resets to ASCII (RFC 1468 requires it anyway) */
			mode = ASCII;
			shifted = false;
			*o++ = c;
			i++;
			continue;
		}
		if ((mode == KATAKANA || shifted) && c >= 0x21 && c <= 0x5F) {
			*o++ = (unsigned char)(c + 0x80);
			i++;
			continue;
		}
		if (mode == KANJI && c >= 0x21 && c <= 0x7E) {
			unsigned char c2, s1, s2;

			if (i + 1 >= len || p[i + 1] < 0x21 || p[i + 1] > 0x7E) {
				*o++ = 0xFF;
				i++;
				continue;
			}
			c2 = p[i + 1];
			s1 = (unsigned char)(((c + 1) >> 1) + (c <= 0x5E ? 0x70 : 0xB0));
			if (c & 1)
				s2 = (unsigned char)(c2 + (c2 >= 0x60 ? 0x20 : 0x1F));
			else
				s2 = (unsigned char)(c2 + 0x7E);
			*o++ = s1;
			*o++ = s2;
			i += 2;
			continue;
		}
		*o++ = c;
		i++;
	}
	sjis->len = (size_t)(o - (unsigned char *)sjis->data);
	sjis->data[sjis->len] = '\0';
}

static iconv_t open_to_utf8(const char *charset)
{
	return iconv_open("UTF-8", iconv_name(charset));
}

bool charset_is_known(const char *charset)
{
	iconv_t cd;

	if (charset_is_utf8_compatible(charset) || is_iso2022jp(charset))
		return true;
	cd = open_to_utf8(charset);
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

int charset_to_utf8(const char *charset, const void *in, size_t len, struct strbuf *out)
{
	iconv_t cd;

	if (charset_is_utf8_compatible(charset)) {
		charset_utf8_append_valid(out, in, len);
		return 0;
	}
	if (is_iso2022jp(charset)) {
		struct strbuf sjis = STRBUF_INIT;

		iso2022jp_to_cp932(in, len, &sjis);
		cd = iconv_open("UTF-8", "CP932");
		if (cd == (iconv_t)-1) {
			strbuf_free(&sjis);
			charset_utf8_append_valid(out, in, len);
			return -1;
		}
		iconv_run(cd, sjis.data != NULL ? sjis.data : "", sjis.len, out);
		iconv_close(cd);
		strbuf_free(&sjis);
		return 0;
	}
	cd = open_to_utf8(charset);
	if (cd == (iconv_t)-1) {
		charset_utf8_append_valid(out, in, len);
		return -1;
	}
	iconv_run(cd, in, len, out);
	iconv_close(cd);
	return 0;
}
