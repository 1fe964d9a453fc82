#ifndef YUBIN_SERVER_SMTP_SENDAS_H
#define YUBIN_SERVER_SMTP_SENDAS_H

struct directory;

/* Whether login may use address ("" for the null sender) as a sender, and
 * whether its mail may be DKIM-signed for domain, under its domain's
 * `sender-policy` and its `send-as` list (policy/sendas.h).
 * 1 allowed, 0 refused, -1 lookup error. */
int sendas_check(struct directory *dir, const char *login, const char *address);
int sendas_may_sign(struct directory *dir, const char *login, const char *domain);

#endif
