#ifndef YUBIN_POLICY_GEOIP_H
#define YUBIN_POLICY_GEOIP_H

#include <stdbool.h>
#include <stddef.h>

/* Country lookups in a MaxMind DB file (DATA/geoip/country.mmdb, the CC0
 * geo-whois-asn-country database; record field `country_code`). One handle
 * is shared by every thread; a file replaced on disk (yubinctl geoip
 * update renames a new one in place) is reopened at the next lookup after
 * at most GEOIP_RECHECK seconds. */

#define GEOIP_RECHECK 30

struct geoip;

enum geoip_status {
	GEOIP_FOUND = 1,	/* cc_r holds the country */
	GEOIP_NOT_FOUND = 0,	/* the database has no country for the address */
	GEOIP_NO_DATABASE = -1,	/* missing or unreadable file */
	GEOIP_BAD_ADDRESS = -2,
};

/* Opens path; a missing file is not an error here (lookups then answer
 * GEOIP_NO_DATABASE and geoip_error() says why). */
struct geoip *geoip_new(const char *path);
void geoip_free(struct geoip *g);
/* true when the database is open and readable. */
bool geoip_is_loaded(struct geoip *g);
/* Why the database is not loaded ("" when it is). */
void geoip_error(struct geoip *g, char *buf, size_t size);
/* Looks up a textual IPv4 or IPv6 address; cc_r gets two upper-case
 * letters. */
enum geoip_status geoip_lookup(struct geoip *g, const char *ip, char cc_r[3]);
/* Checks a file without keeping it open: 0 and the record count of the
 * metadata, or -1 with a reason (for yubinctl geoip update/status). */
int geoip_check_file(const char *path, unsigned long *nodes_r, char *err, size_t errsize);

#endif
