/* yubinctl tlsrpt send [DAY|today]: asks the running yubind for the TLS
 * reports (RFC 8460) of DAY now (default yesterday, UTC) — the daily job,
 * on demand: DATA/tlsrpt/request names the day, SIGHUP wakes the report
 * thread (server/tlsrpt.c), which sends only when tlsrpt.enabled is on. */
#include "ctl/ctl.h"
#include "lib/fsutil.h"
#include "settings/settings.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cmd_tlsrpt_send(struct ctl *c)
{
	char dir[4200], path[4300], day[16];
	time_t t = time(NULL);
	struct tm tm;
	const char *end;

	if (c->argc == 0 || strcmp(c->argv[0], "today") != 0)
		t -= 86400;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (c->argc == 1 && strcmp(c->argv[0], "today") != 0) {
		memset(&tm, 0, sizeof(tm));
		end = strlen(c->argv[0]) == 10 ? strptime(c->argv[0], "%Y-%m-%d", &tm) : NULL;
		if (end == NULL || *end != '\0') {
			fprintf(stderr, "yubinctl: %s: not a day (YYYY-MM-DD or today)\n", c->argv[0]);
			return 2;
		}
		snprintf(day, sizeof(day), "%s", c->argv[0]);
	}
	snprintf(dir, sizeof(dir), "%s/tlsrpt", c->data);
	snprintf(path, sizeof(path), "%s/request", dir);
	if (fs_mkdir_p(dir, 0700) < 0 || fs_write_file_atomic(path, day, strlen(day), 0600) < 0) {
		fprintf(stderr, "yubinctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!ctl_daemon_signal(c->data, SIGHUP)) {
		printf("the reports of %s go when yubind next starts (%s on)\n", day, settings_key(SETTING_CONF_TLSRPT));
		return 0;
	}
	printf("yubind told to send the TLS reports of %s (when %s is on)\n", day, settings_key(SETTING_CONF_TLSRPT));
	return 0;
}
