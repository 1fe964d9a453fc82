#ifndef YUBIN_HTTP_HTTP_METRICS_H
#define YUBIN_HTTP_HTTP_METRICS_H

#include <stdbool.h>

/* true for a loopback client address as evhttp gives it: 127.0.0.0/8,
 * ::1, and 127.0.0.0/8 mapped into IPv6 (::ffff:127.0.0.1). Pure. */
bool http_addr_is_loopback(const char *ip);

#endif
