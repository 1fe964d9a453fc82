/* policy/tlsrpt.c: the RFC 8460 report of one policy domain from the
 * day's journal of TLS results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/tlsrpt.h"

static const char journal[] =
	"a.example\tsts\tenforce\t86400\tmx.a.example,*.b.example\tsuccess\tmx.a.example\t192.0.2.1\n"
	"a.example\tsts\tenforce\t86400\tmx.a.example,*.b.example\tsuccess\tmx.a.example\t192.0.2.1\n"
	"other.example\tno-policy-found\t\t0\t\tsuccess\tmx.other.example\t192.0.2.9\n"
	"a.example\tsts\tenforce\t86400\tmx.a.example,*.b.example\tcertificate-expired\tmx.a.example\t192.0.2.1\n"
	"a.example\tsts\tenforce\t86400\tmx.a.example,*.b.example\tcertificate-expired\tmx.a.example\t192.0.2.1\n"
	"a.example\tsts\tenforce\t86400\tmx.a.example,*.b.example\tvalidation-failure\tevil.example\t\n"
	"a.example\tsts\t\t0\t\tsts-policy-fetch-error\t\t\n"
	"broken line without tabs\n"
	"a.example\ttoo\tfew\n"
	"\n";

static const struct tlsrpt_meta meta = { "mail.example.jp", "tls@example.jp", "2026-12-05.a.example@mail.example.jp",
					 "2026-12-05T00:00:00Z", "2026-12-05T23:59:59Z" };

static void seen_cb(const char *domain, void *ctx)
{
	char *out = ctx;

	strcat(out, domain);
	strcat(out, ";");
}

static void test_domains(void **state)
{
	char out[256] = "";

	(void)state;
	tlsrpt_journal_domains(journal, strlen(journal), 10, seen_cb, out);
	assert_string_equal(out, "a.example;other.example;");
	out[0] = '\0';
	tlsrpt_journal_domains(journal, strlen(journal), 1, seen_cb, out);
	assert_string_equal(out, "a.example;");
}

static void test_report(void **state)
{
	struct json j;
	const char *text;
	size_t len;

	(void)state;
	json_init(&j);
	assert_int_equal(tlsrpt_report_json(journal, strlen(journal), "a.example", &meta, &j), 1);
	text = json_result(&j, &len);
	assert_non_null(text);
	assert_string_equal(text,
		"{\"organization-name\":\"mail.example.jp\",\"date-range\":{\"start-datetime\":\"2026-12-05T00:00:00Z\","
		"\"end-datetime\":\"2026-12-05T23:59:59Z\"},\"contact-info\":\"tls@example.jp\","
		"\"report-id\":\"2026-12-05.a.example@mail.example.jp\",\"policies\":["
		"{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
		"\"mx: mx.a.example\",\"mx: *.b.example\",\"max_age: 86400\"],\"policy-domain\":\"a.example\","
		"\"mx-host\":[\"mx.a.example\",\"*.b.example\"]},\"summary\":{\"total-successful-session-count\":2,"
		"\"total-failure-session-count\":3},\"failure-details\":[{\"result-type\":\"certificate-expired\","
		"\"receiving-mx-hostname\":\"mx.a.example\",\"receiving-ip\":\"192.0.2.1\",\"failed-session-count\":2},"
		"{\"result-type\":\"validation-failure\",\"receiving-mx-hostname\":\"evil.example\","
		"\"failed-session-count\":1}]},"
		"{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.example\"},\"summary\":"
		"{\"total-successful-session-count\":0,\"total-failure-session-count\":1},\"failure-details\":"
		"[{\"result-type\":\"sts-policy-fetch-error\",\"failed-session-count\":1}]}]}");
	json_free(&j);
	/* a domain without lines: nothing */
	json_init(&j);
	assert_int_equal(tlsrpt_report_json(journal, strlen(journal), "none.example", &meta, &j), 0);
	json_free(&j);
	/* no-policy-found has no policy-string and no mx-host */
	json_init(&j);
	assert_int_equal(tlsrpt_report_json(journal, strlen(journal), "other.example", &meta, &j), 1);
	text = json_result(&j, &len);
	assert_non_null(strstr(text, "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
				     "\"other.example\"},\"summary\":{\"total-successful-session-count\":1,"));
	json_free(&j);
}

static void test_bounds(void **state)
{
	static char big[200000];
	size_t len = 0;
	struct json j;
	const char *text;

	(void)state;
	/* more policies and failure rows than the tables hold: cut, never overrun */
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len,
					"d.example\tsts\tenforce\t%d\tmx.d.example\tvalidation-failure\tmx%d.d.example\t\n",
					i, i);
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len,
					"d.example\tsts\tenforce\t0\tmx.d.example\tcertificate-expired\tmx%d.d.example\t\n", i);
	/* a field longer than the journal allows: the line is skipped */
	memset(big + len, 'x', 3000);
	len += 3000;
	big[len++] = '\n';
	json_init(&j);
	assert_int_equal(tlsrpt_report_json(big, len, "d.example", &meta, &j), 1);
	text = json_result(&j, NULL);
	assert_non_null(text);
	assert_null(strstr(text, "\"max_age: 16\""));
	assert_non_null(strstr(text, "\"max_age: 15\""));
	/* the first policy: its validation-failure row and 63 of the others */
	assert_non_null(strstr(text, "\"certificate-expired\",\"receiving-mx-hostname\":\"mx62.d.example\""));
	assert_null(strstr(text, "mx63.d.example"));
	assert_non_null(strstr(text, "\"total-failure-session-count\":101"));
	json_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
