/* ops/ops_rules_gen: the panel's rules read from JSON, checked, and
 * generated into a Sieve script that compiles and acts as the rules say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops/ops_rules.h"
#include "sieve/sieve.h"

static struct rules_set set;

static void parse_ok(const char *json)
{
	const char *error = NULL;

	if (rules_parse(json, strlen(json), &set, &error) < 0)
		fail_msg("%s: %s", json, error);
}

static struct sieve_script *compile(const struct rules_autoreply *ar)
{
	struct strbuf out = STRBUF_INIT;
	struct sieve_script *s = NULL;
	struct sieve_limits lim;
	struct sieve_error err;

	rules_generate(&set, ar, &out);
	sieve_limits_default(&lim);
	if (sieve_compile(out.data, out.len, &lim, &s, &err) < 0)
		fail_msg("%s\n%s", err.msg, out.data);
	strbuf_free(&out);
	return s;
}

/* The actions of a run as "kind:arg kind:arg". */
static void run(struct sieve_script *s, const char *msgtext, char *buf, size_t size)
{
	struct sieve_message m = { msgtext, strlen(msgtext), "x@b.test", "me@example.jp", NULL, NULL };
	struct sieve_env env;
	struct sieve_limits lim;
	struct sieve_result res;
	size_t o = 0;

	memset(&env, 0, sizeof(env));
	env.now = 1796544000;	/* 2026-12-05 */
	env.spam_score = env.spam_percent = env.virus_score = -1;
	sieve_limits_default(&lim);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), 0);
	buf[0] = '\0';
	for (unsigned i = 0; i < res.count; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s:%s%s", i ? " " : "", sieve_action_name(res.actions[i].kind),
				      res.actions[i].kind == SIEVE_ACT_VACATION ? "" :
				      res.actions[i].arg ? res.actions[i].arg : "",
				      res.actions[i].flags && *res.actions[i].flags ? "+seen" : "");
	sieve_result_free(&res);
}

static void test_rules_generate_and_act(void **state)
{
	struct sieve_script *s;
	char got[512];

	(void)state;
	parse_ok("{\"rules\":["
		 "{\"name\":\"reports\",\"conditions\":[{\"field\":\"subject\",\"match\":\"contains\",\"value\":\"報告\"}],"
		 "\"actions\":[{\"type\":\"read\"},{\"type\":\"move\",\"arg\":\"Work/報告\"}]},"
		 "{\"name\":\"stars\",\"conditions\":[{\"field\":\"subject\",\"match\":\"starts\",\"value\":\"*a?\\\"\"}],"
		 "\"actions\":[{\"type\":\"delete\"}]},"
		 "{\"name\":\"off\",\"enabled\":false,\"conditions\":[{\"field\":\"sender\",\"match\":\"is\",\"value\":\"x@b.test\"}],"
		 "\"actions\":[{\"type\":\"trash\"}]},"
		 "{\"name\":\"boss\",\"conditions\":[{\"field\":\"sender\",\"match\":\"ends\",\"value\":\"@b.test\"},"
		 "{\"field\":\"header\",\"header\":\"X-Prio\",\"match\":\"not-contains\",\"value\":\"low\"}],"
		 "\"actions\":[{\"type\":\"forward\",\"arg\":\"me2@example.jp\"},{\"type\":\"copy\",\"arg\":\"Boss\"}]}]}");
	assert_int_equal(set.count, 4);
	s = compile(NULL);
	run(s, "From: x@b.test\r\nSubject: 週次報告\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "fileinto:Work/報告+seen");
	/* a literal * and ? in a "starts with" value match only themselves */
	run(s, "From: y@c.test\r\nSubject: *a?\" yes\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "discard:");
	run(s, "From: y@c.test\r\nSubject: xxa\" no\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "keep:");
	/* the disabled rule is skipped; the last one forwards and copies */
	run(s, "From: Boss <x@b.test>\r\nSubject: hi\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "redirect:me2@example.jp fileinto:Boss keep:");
	run(s, "From: Boss <x@b.test>\r\nX-Prio: low\r\nSubject: hi\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "keep:");
	sieve_script_free(s);
}

static void test_autoreply_dates(void **state)
{
	struct rules_autoreply ar = { true, "不在 \"x\"", "line1\nline2 \\ end", "2026-12-01", "2026-12-31", 2,
				      false };
	struct strbuf gen = STRBUF_INIT;
	struct sieve_script *s;
	char got[512];

	(void)state;
	memset(&set, 0, sizeof(set));
	s = compile(&ar);
	run(s, "From: x@b.test\r\nTo: me@example.jp\r\nSubject: hi\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "vacation: keep:");
	sieve_script_free(s);
	ar.end = "2026-12-04";	/* over before the run's date */
	s = compile(&ar);
	run(s, "From: x@b.test\r\nTo: me@example.jp\r\nSubject: hi\r\n\r\nbody\r\n", got, sizeof(got));
	assert_string_equal(got, "keep:");
	sieve_script_free(s);
	/* quoting: the handle delivery recognises, and it still compiles */
	ar.quote = true;
	rules_generate(&set, &ar, &gen);
	assert_non_null(strstr(strbuf_cstr(&gen), ":handle \"yubin-autoreply-quote\""));
	strbuf_free(&gen);
	sieve_script_free(compile(&ar));
}

static void test_rejected(void **state)
{
	static const char *const bad[] = {
		"[]", "{\"rules\":{}}", "{\"rules\":[{\"name\":\"\",\"conditions\":[{\"field\":\"subject\","
		"\"match\":\"is\",\"value\":\"x\"}],\"actions\":[{\"type\":\"delete\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[],\"actions\":[{\"type\":\"delete\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[{\"field\":\"subject\",\"match\":\"like\",\"value\":\"x\"}],"
		"\"actions\":[{\"type\":\"delete\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[{\"field\":\"subject\",\"match\":\"is\",\"value\":\"x\"}],"
		"\"actions\":[{\"type\":\"move\",\"arg\":\"../x\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[{\"field\":\"subject\",\"match\":\"is\",\"value\":\"x\"}],"
		"\"actions\":[{\"type\":\"forward\",\"arg\":\"not an address\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[{\"field\":\"header\",\"header\":\"Bad:Name\",\"match\":\"is\","
		"\"value\":\"x\"}],\"actions\":[{\"type\":\"delete\"}]}]}",
		"{\"rules\":[{\"name\":\"a\\n\",\"conditions\":[{\"field\":\"subject\",\"match\":\"is\",\"value\":\"x\"}],"
		"\"actions\":[{\"type\":\"delete\"}]}]}",
		"{\"rules\":[{\"name\":\"a\",\"conditions\":[{\"field\":\"subject\",\"match\":\"is\",\"value\":\"x\"}],"
		"\"actions\":[{\"type\":\"delete\"},{\"type\":\"trash\"}]}]}",
	};
	const char *error;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (rules_parse(bad[i], strlen(bad[i]), &set, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(error);
		assert_int_equal(set.count, 0);
	}
}

static void test_roundtrip(void **state)
{
	struct strbuf out = STRBUF_INIT;
	static struct rules_set again;
	const char *error;

	(void)state;
	parse_ok("{\"rules\":[{\"name\":\"r\",\"enabled\":false,\"conditions\":[{\"field\":\"header\",\"header\":"
		 "\"X-A\",\"match\":\"ends\",\"value\":\"v\"}],\"actions\":[{\"type\":\"copy\",\"arg\":\"F\"}]}]}");
	rules_write_json(&set, &out);
	assert_int_equal(rules_parse(out.data, out.len, &again, &error), 0);
	assert_int_equal(again.count, 1);
	assert_false(again.rules[0].enabled);
	assert_string_equal(again.rules[0].conds[0].header, "X-A");
	assert_int_equal(again.rules[0].conds[0].match, RULES_ENDS);
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_generate_and_act),
		cmocka_unit_test(test_autoreply_dates),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
