#ifndef YUBIN_OPS_OPS_DOCTOR_H
#define YUBIN_OPS_OPS_DOCTOR_H

/* Inside doctor (ops_doctor*.c): adding findings, and the questions
 * answered from events (ops_doctor_events.c) and by live checks
 * (ops_doctor_live.c). */
#include "ops/ops_server.h"

#define DOCTOR_MIB (1024ULL * 1024)

/* Adds a finding to d->group: fmt in English, ja_fmt in Japanese with
 * the same arguments in the same order (%.0s skips one). Returns the
 * finding (d->spare when the list is full), for doctor_fix. */
struct ops_doctor_check *doctor_add(struct ops_doctor *d, enum ops_doctor_level level, const char *fmt,
				    const char *ja_fmt, ...) __attribute__((format(printf, 3, 5)));
/* The fix of c: the setting (panel field) and the yubinctl command. */
void doctor_fix(struct ops_doctor_check *c, const char *setting, const char *cmd_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The start of the window: now - days. */
int64_t doctor_since(const struct ops_doctor *d);

void doctor_send(struct ops *o, struct ops_doctor *d, const struct dir_account *a);
void doctor_rejections(struct ops *o, struct ops_doctor *d, const char *address);
void doctor_password(struct ops *o, struct ops_doctor *d, const struct dir_account *a);
void doctor_cert(struct ops *o, struct ops_doctor *d, const char *domain, const char *hostname);
void doctor_bounces(struct ops *o, struct ops_doctor *d, const struct dir_account *a);
void doctor_dns(struct ops *o, struct ops_doctor *d, const char *domain, const struct ops_doctor_opts *opts);
void doctor_filters(struct ops *o, struct ops_doctor *d, const struct dir_account *a);
void doctor_messages(struct ops *o, struct ops_doctor *d, const struct dir_account *a, const char *path);

#endif
