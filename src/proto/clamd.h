#ifndef YUBIN_PROTO_CLAMD_H
#define YUBIN_PROTO_CLAMD_H

#include <stddef.h>
#include <stdint.h>

/* ClamAV's clamd protocol, pure: the address of a clamd, the INSTREAM
 * chunk framing and the reply to a scan. No I/O. */

#define CLAMD_REPLY_MAX 1024	/* longest reply read from clamd */
#define CLAMD_NAME_MAX 256	/* longest signature name kept */
#define CLAMD_PATH_MAX 108	/* sun_path */

enum clamd_transport { CLAMD_UNIX, CLAMD_TCP };

struct clamd_address {
	enum clamd_transport transport;
	char path[CLAMD_PATH_MAX];	/* CLAMD_UNIX */
	char ip[64];			/* CLAMD_TCP: a loopback address */
	uint16_t port;
};

/* "/run/clamav/clamd.ctl" (a Unix socket, an absolute path) or
 * "127.0.0.1:3310", "[::1]:3310" (TCP on loopback only: the message goes
 * to clamd in clear). 0, or -1 with *error_r. */
int clamd_address_parse(const char *s, struct clamd_address *a, const char **error_r);

enum clamd_verdict {
	CLAMD_CLEAN,	/* "stream: OK" */
	CLAMD_FOUND,	/* "stream: NAME FOUND": name_r holds NAME */
	CLAMD_ERROR,	/* "... ERROR" (size limit, clamd trouble): name_r holds the text */
};

/* Parses one reply to INSTREAM, without its terminator (the NUL of the
 * z-prefixed command; a final NUL or newline is ignored). len at most
 * CLAMD_REPLY_MAX. The name or error text is cut to namesize - 1 bytes and
 * keeps only printable ASCII. Returns the verdict, or -1 when the reply is
 * none of the three (*error_r says why). */
int clamd_reply_parse(const char *reply, size_t len, char *name_r, size_t namesize, const char **error_r);

/* The 4-byte big-endian length that precedes each INSTREAM chunk (0 ends
 * the stream). */
void clamd_chunk_header(uint32_t len, unsigned char out[4]);

#endif
