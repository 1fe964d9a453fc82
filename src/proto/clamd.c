/* ClamAV's clamd protocol (pure): addresses, INSTREAM framing, replies. */
#include "proto/clamd.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clamd_port_parse(const char *s, uint16_t *port_r)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port_r = (uint16_t)v;
	return 0;
}

int clamd_address_parse(const char *s, struct clamd_address *a, const char **error_r)
{
	const char *colon;
	size_t hostlen;
	unsigned char bin[16];

	memset(a, 0, sizeof(*a));
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(a->path)) {
			*error_r = "the socket path is too long (at most 107 bytes)";
			return -1;
		}
		a->transport = CLAMD_UNIX;
		memcpy(a->path, s, strlen(s) + 1);
		return 0;
	}
	a->transport = CLAMD_TCP;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = "an IPv6 address is written [ADDRESS]:PORT";
			return -1;
		}
		hostlen = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*error_r = "expected an absolute socket path or ADDRESS:PORT";
			return -1;
		}
		hostlen = (size_t)(colon - s);
	}
	if (hostlen == 0 || hostlen >= sizeof(a->ip)) {
		*error_r = "expected an absolute socket path or ADDRESS:PORT";
		return -1;
	}
	memcpy(a->ip, s, hostlen);
	a->ip[hostlen] = '\0';
	if (clamd_port_parse(colon + 1, &a->port) < 0) {
		*error_r = "the port must be a number from 1 to 65535";
		return -1;
	}
	if (inet_pton(AF_INET, a->ip, bin) == 1) {
		if (bin[0] != 127) {
			*error_r = "clamd over TCP must be on a loopback address (127.0.0.0/8 or ::1): the"
				   " message travels in clear";
			return -1;
		}
		return 0;
	}
	if (inet_pton(AF_INET6, a->ip, bin) == 1) {
		static const unsigned char loop6[16] = { [15] = 1 };
		if (memcmp(bin, loop6, 16) != 0) {
			*error_r = "clamd over TCP must be on a loopback address (127.0.0.0/8 or ::1): the"
				   " message travels in clear";
			return -1;
		}
		return 0;
	}
	*error_r = "the address must be an IP address (no host names) or an absolute socket path";
	return -1;
}

/* Copies [s, s+len) into out as printable ASCII (others become '?'). */
static void clamd_copy_text(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && n + 1 < size; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
}

static bool clamd_ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

int clamd_reply_parse(const char *reply, size_t len, char *name_r, size_t namesize, const char **error_r)
{
	static const char prefix[] = "stream: ";
	const size_t plen = sizeof(prefix) - 1;

	if (namesize > 0)
		name_r[0] = '\0';
	if (len > CLAMD_REPLY_MAX) {
		*error_r = "the reply from clamd is too long";
		return -1;
	}
	while (len > 0 && (reply[len - 1] == '\0' || reply[len - 1] == '\n'))
		len--;
	if (memchr(reply, '\0', len) != NULL || memchr(reply, '\n', len) != NULL) {
		*error_r = "the reply from clamd has more than one line";
		return -1;
	}
	/* An error may come without the "stream: " prefix, e.g.
	 * "INSTREAM size limit exceeded. ERROR". */
	if (clamd_ends_with(reply, len, " ERROR")) {
		size_t end = len - 6;	/* "stream: ERROR": the prefix's blank is the separator */
		size_t from = end >= plen && memcmp(reply, prefix, plen) == 0 ? plen : 0;
		clamd_copy_text(reply + from, end - from, name_r, namesize);
		return CLAMD_ERROR;
	}
	if (len < plen || memcmp(reply, prefix, plen) != 0) {
		*error_r = "the reply from clamd does not start with \"stream: \"";
		return -1;
	}
	reply += plen;
	len -= plen;
	if (len == 2 && memcmp(reply, "OK", 2) == 0)
		return CLAMD_CLEAN;
	if (clamd_ends_with(reply, len, " FOUND") && len > 6) {
		size_t nlen = len - 6;
		for (size_t i = 0; i < nlen; i++) {
			if (reply[i] == ' ' || reply[i] < 0x21 || reply[i] > 0x7e) {
				*error_r = "the virus name in the reply from clamd is not one word";
				return -1;
			}
		}
		clamd_copy_text(reply, nlen, name_r, namesize);
		return CLAMD_FOUND;
	}
	*error_r = "the reply from clamd is neither OK, FOUND nor ERROR";
	return -1;
}

void clamd_chunk_header(uint32_t len, unsigned char out[4])
{
	out[0] = (unsigned char)(len >> 24);
	out[1] = (unsigned char)(len >> 16);
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
}
