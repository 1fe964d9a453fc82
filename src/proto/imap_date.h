#ifndef YUBIN_PROTO_IMAP_DATE_H
#define YUBIN_PROTO_IMAP_DATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* IMAP dates (RFC 3501 date: "1-Feb-2024" / "01-Feb-2024") and date-times
 * ("01-Feb-2024 13:05:09 +0900", day also " 1"). Pure; no locale, no TZ. */

struct imap_date {
	int year;	/* 1..9999 */
	int month;	/* 1..12 */
	int day;	/* 1..31, valid for the month */
};

struct imap_datetime {
	struct imap_date date;
	int hour, min, sec;
	int zone_minutes;	/* +0900 -> 540 */
	time_t utc;		/* the instant, seconds since the epoch */
};

/* IMAP_DATE_SIZE: "dd-Mon-yyyy" + NUL; IMAP_DATETIME_SIZE: the date-time. */
#define IMAP_DATE_SIZE 12
#define IMAP_DATETIME_SIZE 27

int imap_date_parse(const char *s, size_t len, struct imap_date *date_r);
int imap_datetime_parse(const char *s, size_t len, struct imap_datetime *dt_r);
/* Writes "dd-Mon-yyyy hh:mm:ss +zzzz" for t seen from zone_minutes east of
 * UTC (-1439..1439). Returns 0, or -1 for a time outside years 1..9999. */
int imap_datetime_format(time_t t, int zone_minutes, char out[IMAP_DATETIME_SIZE]);
void imap_date_format(const struct imap_date *date, char out[IMAP_DATE_SIZE]);
/* Days since 1970-01-01 of a (valid) calendar date; negative before. */
int64_t imap_date_days(const struct imap_date *date);
/* The UTC midnight starting the date. */
time_t imap_date_to_time(const struct imap_date *date);
/* -1, 0 or 1. */
int imap_date_cmp(const struct imap_date *a, const struct imap_date *b);

#endif
