/* The delivery journal's record format (journal_record.h). */
#include "store/journal_record.h"

#include <stdbool.h>
#include <string.h>
#include <zlib.h>

static const uint8_t head_magic[4] = { 'Y', 'B', 'J', '1' };
static const uint8_t tail_magic[4] = { '1', 'J', 'B', 'Y' };

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > JOURNAL_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '/' || s[i] == ':' || s[i] == '\0')
			return false;
	}
	return true;
}

static bool valid_folder(const char *s, size_t n)
{
	if (n < 2 || n > JOURNAL_FOLDER_MAX || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			return false;
		/* no "/../" or "/./" component: the folder is used as it is */
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '.' &&
		    (i + 2 == n || s[i + 2] == '/' || (s[i + 2] == '.' && (i + 3 == n || s[i + 3] == '/'))))
			return false;
	}
	return true;
}

static bool valid_flags(const char *s, size_t n)
{
	if (n > JOURNAL_FLAGS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 'A' || s[i] > 'Z' || (i > 0 && s[i] <= s[i - 1]))
			return false;
	}
	return true;
}

size_t journal_record_head(uint8_t *buf, const char *folder, const char *name, const char *flags,
			   uint64_t content_len)
{
	size_t fl = strlen(folder), nl = strlen(name), gl = strlen(flags), k = JOURNAL_HEAD_FIXED;

	if (!valid_folder(folder, fl) || !valid_name(name, nl) || !valid_flags(flags, gl))
		return 0;
	memcpy(buf, head_magic, 4);
	put_le(buf + 4, fl, 2);
	put_le(buf + 6, nl, 2);
	put_le(buf + 8, gl, 1);
	memset(buf + 9, 0, 3);
	put_le(buf + 12, content_len, 8);
	memcpy(buf + k, folder, fl);
	k += fl;
	memcpy(buf + k, name, nl);
	k += nl;
	memcpy(buf + k, flags, gl);
	return k + gl;
}

void journal_record_tail(uint8_t out[JOURNAL_TAIL_LEN], uint32_t crc)
{
	put_le(out, crc, 4);
	memcpy(out + 4, tail_magic, 4);
}

int journal_record_parse(const uint8_t *buf, size_t len, struct journal_record *rec, size_t *used_r,
			 const char **error_r)
{
	size_t fl, nl, gl, head;
	uint64_t cl, total;
	uLong crc;

	if (len < JOURNAL_HEAD_FIXED)
		return 0;
	if (memcmp(buf, head_magic, 4) != 0 || buf[9] != 0 || buf[10] != 0 || buf[11] != 0) {
		*error_r = "no record head";
		return -1;
	}
	fl = (size_t)get_le(buf + 4, 2);
	nl = (size_t)get_le(buf + 6, 2);
	gl = buf[8];
	cl = get_le(buf + 12, 8);
	head = JOURNAL_HEAD_FIXED + fl + nl + gl;
	if (fl > JOURNAL_FOLDER_MAX || nl > JOURNAL_NAME_MAX || gl > JOURNAL_FLAGS_MAX ||
	    cl > UINT64_MAX / 2) {
		*error_r = "record field too long";
		return -1;
	}
	total = head + cl + JOURNAL_TAIL_LEN;
	if (total > len)
		return 0;
	rec->folder = (const char *)buf + JOURNAL_HEAD_FIXED;
	rec->folder_len = fl;
	rec->name = rec->folder + fl;
	rec->name_len = nl;
	rec->flags = rec->name + nl;
	rec->flags_len = gl;
	rec->content = buf + head;
	rec->content_len = cl;
	if (!valid_folder(rec->folder, fl) || !valid_name(rec->name, nl) || !valid_flags(rec->flags, gl)) {
		*error_r = "record names a path that is not valid";
		return -1;
	}
	if (memcmp(buf + head + cl + 4, tail_magic, 4) != 0) {
		*error_r = "no record tail";
		return -1;
	}
	crc = crc32(0L, buf, (uInt)head);
	for (uint64_t off = 0; off < cl;) {
		uInt n = cl - off > (1u << 30) ? (1u << 30) : (uInt)(cl - off);

		crc = crc32(crc, rec->content + off, n);
		off += n;
	}
	if ((uint32_t)crc != (uint32_t)get_le(buf + head + cl, 4)) {
		*error_r = "record checksum mismatch";
		return -1;
	}
	*used_r = (size_t)total;
	return 1;
}
