/* yubinctl doctor ADDRESS: why can this user not log in or get mail?
 * ops_doctor (ops/ops_doctor.c) makes the checks; this prints them, then
 * the address's recent history in plain sentences. Exit status 1 when a
 * check failed (a FAIL line), 0 when there were only warnings or none. */
#include "ctl/ctl.h"
#include "ops/ops_server.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_doctor(struct ctl *c)
{
	struct ops_doctor *d = malloc(sizeof(*d));
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	char when[40];
	int status;

	if (d == NULL)
		return ctl_fail("out of memory");
	if ((o = ctl_ops(c, &actor)) == NULL || ops_doctor(o, &actor, c->argv[0], d, &err) < 0) {
		free(d);
		return o == NULL ? 1 : ctl_ops_fail(&err);
	}
	printf("doctor: %s\n", d->address);
	for (size_t i = 0; i < d->nchecks; i++)
		printf("%s%s\n", d->checks[i].level == OPS_DOCTOR_FAIL ? "  FAIL  "
			: d->checks[i].level == OPS_DOCTOR_WARN ? "  WARN  " : "  ok    ", d->checks[i].text);
	if (d->events_unreadable)
		ctl_warn("cannot read the events of %s", d->address);
	if (d->nevents == 0) {
		printf("\nno events recorded for %s\n", d->address);
	} else {
		printf("\nlast %zu event%s for %s (newest first):\n", d->nevents, d->nevents == 1 ? "" : "s",
		       d->address);
		for (size_t i = 0; i < d->nevents; i++) {
			ctl_time_text(d->events[i].e.ts, when, sizeof(when));
			printf("  %s  %-17s %s\n", when, d->events[i].e.kind, d->events[i].text);
		}
	}
	if (d->problems == 0 && d->warnings == 0)
		printf("\nsummary: no problems found\n");
	else
		printf("\nsummary: %u problem%s, %u warning%s\n", d->problems, d->problems == 1 ? "" : "s",
		       d->warnings, d->warnings == 1 ? "" : "s");
	/* A FAIL makes the exit status 1, so scripts and monitoring see it. */
	status = d->problems > 0 ? 1 : 0;
	free(d);
	return status;
}
