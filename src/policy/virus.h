#ifndef YUBIN_POLICY_VIRUS_H
#define YUBIN_POLICY_VIRUS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/clamd.h"

/* A blocking clamd client (ClamAV): one INSTREAM scan of a message held in
 * memory, over clamd's Unix socket or TCP on loopback, with one deadline
 * for connecting, sending and reading the reply. Meant for a worker
 * thread. */

enum virus_verdict {
	VIRUS_CLEAN,
	VIRUS_FOUND,		/* name holds the signature */
	VIRUS_UNAVAILABLE,	/* no verdict: why holds the reason */
	VIRUS_TOO_LARGE,	/* clamd refused the stream as too long (its StreamMaxLength) */
};

struct virus_result {
	enum virus_verdict verdict;
	char name[CLAMD_NAME_MAX];
	char why[160];
	bool timed_out;		/* the deadline passed (clamd stalled) */
};

/* Scans msg[0..len) within timeout_ms: returns the verdict (also in r). */
enum virus_verdict virus_scan(const struct clamd_address *a, unsigned timeout_ms, const char *msg, size_t len,
			      struct virus_result *r);

#endif
