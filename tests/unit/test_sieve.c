/* Unit tests for src/sieve/: the parser's errors and limits, the core
 * language and each extension, mostly from the RFCs' own examples. The
 * result is compared in the normalised one-line form "action arg; ...". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sieve/sieve.h"

static const char MSG[] =
	"Received: from a by b; Tue, 14 Nov 2023 20:00:00 +0000\r\n"
	"Received: from c by a; Tue, 14 Nov 2023 19:00:00 +0000\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: Bob <bob+lists@example.com>, carol@example.net\r\n"
	"Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= Meeting\r\n"
	"List-ID: Sieve <sieve.example.org>\r\n"
	"Date: Tue, 14 Nov 2023 21:13:20 +0900\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"\r\n"
	"Hello, the invoice is attached.\r\n";

struct cb_state {
	int dup_calls;
	bool seen;
};

static bool mailbox_exists(void *ctx, const char *name)
{
	return strcmp(name, "INBOX") == 0 || strcmp(name, "Work") == 0;
}

static bool duplicate_seen(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	struct cb_state *st = ctx;

	st->dup_calls++;
	return st->seen;
}

static const char *include_text(void *ctx, const char *name, bool global, size_t *len_r)
{
	static const char spam[] = "require [\"fileinto\", \"include\"];\n"
				   "if header :contains \"subject\" \"Meeting\" { fileinto \"Inc\"; return; }\n"
				   "fileinto \"Never\";\n";
	static const char vars[] = "require [\"variables\", \"include\"];\nglobal \"box\";\nset \"box\" \"G\";\n";

	if (strcmp(name, "spam") == 0) {
		*len_r = sizeof(spam) - 1;
		return spam;
	}
	if (strcmp(name, "vars") == 0) {
		*len_r = sizeof(vars) - 1;
		return vars;
	}
	return NULL;
}

/* Runs script on msg; returns the actions as "kind arg[ flags]" joined by
 * "; " ("ERROR: ..." for a compile error, "+error" after a run-time one). */
static char *run_msg(const char *script, const char *msg, struct cb_state *st)
{
	static char out[2048];
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_message m = { msg, strlen(msg), "sender@example.org", "bob+lists@example.com",
				   NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;
	size_t n = 0;

	env.ctx = st;
	env.mailbox_exists = mailbox_exists;
	env.duplicate_seen = duplicate_seen;
	env.include_text = include_text;
	env.now = 1700000000;	/* Tue, 14 Nov 2023 22:13:20 UTC */
	env.spam_score = 7;
	env.spam_percent = 66;
	env.virus_score = 1;
	sieve_limits_default(&lim);
	lim.max_redirects = 3;
	if (sieve_compile(script, strlen(script), &lim, &s, &err) < 0) {
		snprintf(out, sizeof(out), "ERROR: %s", err.msg);
		return out;
	}
	sieve_run(s, &m, &env, &lim, &res);
	out[0] = '\0';
	for (unsigned int i = 0; i < res.count; i++) {
		const struct sieve_action *a = &res.actions[i];

		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%s%s%s%s", i ? "; " : "",
				      sieve_action_name(a->kind), a->arg ? " " : "", a->arg ? a->arg : "",
				      a->flags && *a->flags ? " " : "", a->flags ? a->flags : "");
	}
	if (res.error)
		snprintf(out + n, sizeof(out) - n, " +error(%s)", res.err.msg);
	sieve_result_free(&res);
	sieve_script_free(s);
	return out;
}

static char *run(const char *script)
{
	struct cb_state st = { 0, false };

	return run_msg(script, MSG, &st);
}

static void test_implicit_keep(void **state)
{
	assert_string_equal(run(""), "keep");
	assert_string_equal(run("# comment only\n/* and\n this */"), "keep");
	assert_string_equal(run("discard;"), "discard");
	assert_string_equal(run("keep; discard;"), "keep; discard");
	assert_string_equal(run("require \"fileinto\"; fileinto \"A\";"), "fileinto A");
	assert_string_equal(run("require [\"fileinto\",\"copy\"]; fileinto :copy \"A\";"),
			    "fileinto A; keep");
	assert_string_equal(run("redirect \"x@example.com\"; redirect \"x@example.com\";"),
			    "redirect x@example.com");
	assert_string_equal(run("stop; discard;"), "keep");
	assert_string_equal(run("redirect \"<X@Example.COM>\"; redirect \"x@example.com\";"),
			    "redirect X@example.com");
	assert_string_equal(run("redirect \"a@b.example, c@d.example\";"),
			    "ERROR: line 1: redirect: invalid address \"a@b.example, c@d.example\"");
	assert_string_equal(run("require [\"fileinto\",\"copy\"]; fileinto :copy \"INBOX\";"), "fileinto INBOX");
}

static void test_parse_errors(void **state)
{
	assert_string_equal(run("keep;\n\nfrobnicate;"), "ERROR: line 3: unknown command 'frobnicate'");
	assert_string_equal(run("fileinto \"x\";"), "ERROR: line 1: command 'fileinto' needs a require");
	assert_string_equal(run("require \"nosuch\";"), "ERROR: line 1: unsupported extension \"nosuch\"");
	assert_string_equal(run("keep;\nrequire \"fileinto\";"),
			    "ERROR: line 2: require must come before other commands");
	assert_string_equal(run("if true { keep;"), "ERROR: line 1: missing '}' at end of script");
	assert_string_equal(run("keep"), "ERROR: line 1: expected ';'");
	assert_string_equal(run("else { keep; }"), "ERROR: line 1: else without a preceding if");
	assert_string_equal(run("if header :is \"subject\" { keep; }"), "ERROR: line 1: header takes 2 arguments");
	assert_string_equal(run("if header :foo \"a\" \"b\" { keep; }"), "ERROR: line 1: unknown tag :foo");
	assert_string_equal(run("if header :is :contains \"a\" \"b\" { keep; }"),
			    "ERROR: line 1: more than one match type");
	assert_string_equal(run("if size 10 { keep; }"), "ERROR: line 1: size needs :over or :under");
	assert_string_equal(run("keep; \"unterminated"), "ERROR: line 1: unterminated string");
	assert_string_equal(run("/* open"), "ERROR: line 1: unterminated comment");
	assert_string_equal(run("if size :over 99999999999999999999 { keep; }"),
			    "ERROR: line 1: number too large");
	assert_string_equal(run("redirect \"no-at-sign\";"), "ERROR: line 1: redirect: invalid address \"no-at-sign\"");
	assert_string_equal(run("if header :comparator \"i;nope\" :is \"a\" \"b\" { keep; }"),
			    "ERROR: line 1: unknown comparator \"i;nope\"");
}

static void test_limits(void **state)
{
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	char deep[4096];
	size_t n = 0;

	sieve_limits_default(&lim);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "if true {");
	assert_int_equal(sieve_compile(deep, n, &lim, &s, &err), -1);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	lim.max_script = 10;
	assert_int_equal(sieve_compile("keep; keep; keep;", 17, &lim, &s, &err), -1);
	assert_non_null(strstr(err.msg, "script too large"));
	sieve_limits_default(&lim);
	lim.max_string = 4;
	assert_int_equal(sieve_compile("redirect \"abcdef@x\";", 20, &lim, &s, &err), -1);
	assert_non_null(strstr(err.msg, "string too long"));
	/* redirects per message: 3 in these tests */
	assert_string_equal(run("redirect \"a@x.org\"; redirect \"b@x.org\"; redirect \"c@x.org\"; "
				"redirect \"d@x.org\";"),
			    "keep +error(line 1: too many redirects (limit 3))");
	/* every prefix of a script is an error or a script, never a crash */
	{
		const char *full = "require [\"fileinto\",\"variables\"];\nif anyof (header :matches "
				   "\"subject\" \"*a*\", not exists \"x\") { set \"v\" text:\nhi\n.\n; "
				   "fileinto \"${v}\"; } elsif true { discard; }";

		for (size_t i = 0; i <= strlen(full); i++) {
			memset(&err, 0, sizeof(err));
			if (sieve_compile(full, i, &lim, &s, &err) == 0)
				sieve_script_free(s);
			else
				assert_true(err.msg[0] != '\0');
		}
	}
}

static void test_match_types(void **state)
{
	assert_string_equal(run("if header :contains \"subject\" \"meeting\" { discard; }"), "discard");
	assert_string_equal(run("if header :comparator \"i;octet\" :contains \"subject\" \"meeting\" "
				"{ discard; }"), "keep");
	assert_string_equal(run("if header :matches \"from\" \"Alice <*@example.?\?\?>\" { discard; }"),
			    "discard");
	assert_string_equal(run("if header :matches \"subject\" \"*\\\\*\" { discard; }"), "keep");
	assert_string_equal(run("if header :matches \"from\" \"?X*\" { discard; }"), "keep");
	assert_string_equal(run("if header :matches \"from\" \"?L*\" { discard; }"), "discard");
	assert_string_equal(run("if header :is \"x-missing\" \"\" { discard; }"), "keep");
	assert_string_equal(run("if not exists \"x-missing\" { discard; }"), "discard");
	assert_string_equal(run("if allof(exists \"from\", exists [\"to\", \"x-no\"]) { discard; }"), "keep");
	assert_string_equal(run("if size :over 100 { discard; }"), "discard");
	assert_string_equal(run("if size :under 100 { discard; }"), "keep");
}

static void test_address(void **state)
{
	assert_string_equal(run("if address :is \"from\" \"ALICE@example.org\" { discard; }"), "discard");
	assert_string_equal(run("if address :domain :is \"to\" \"example.net\" { discard; }"), "discard");
	assert_string_equal(run("if address :localpart :is \"to\" \"bob+lists\" { discard; }"), "discard");
	assert_string_equal(run("require \"subaddress\"; if address :user :is \"to\" \"bob\" { discard; }"),
			    "discard");
	assert_string_equal(run("require \"subaddress\"; if address :detail :is \"to\" \"lists\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require \"envelope\"; if envelope :domain :is \"from\" \"example.org\" "
				"{ discard; }"), "discard");
}

/* RFC 5229 examples: modifiers and match variables */
static void test_variables(void **state)
{
	assert_string_equal(run("require [\"variables\",\"fileinto\"]; set \"a\" \"juMBlEd lETteRS\";"
				"set :length \"b\" \"${a}\"; fileinto \"${b}\";"), "fileinto 15");
	assert_string_equal(run("require [\"variables\",\"fileinto\"]; set \"a\" \"juMBlEd lETteRS\";"
				"set :lower \"b\" \"${a}\"; fileinto \"${b}\";"), "fileinto jumbled letters");
	assert_string_equal(run("require [\"variables\",\"fileinto\"]; set \"a\" \"juMBlEd lETteRS\";"
				"set :upperfirst :lower \"b\" \"${a}\"; fileinto \"${b}\";"),
			    "fileinto Jumbled letters");
	assert_string_equal(run("require [\"variables\",\"fileinto\"]; set :quotewildcard \"b\" \"Rock*\";"
				"fileinto \"${b}\";"), "fileinto Rock\\*");
	assert_string_equal(run("require [\"variables\",\"fileinto\"];"
				"if header :matches \"List-ID\" \"*<*@*\" { fileinto \"INBOX.lists.${2}\"; }"),
			    "keep");
	assert_string_equal(run("require [\"variables\",\"fileinto\"];"
				"if header :matches \"List-ID\" \"*<*.*>\" { fileinto \"lists.${2}\"; }"),
			    "fileinto lists.sieve");
	assert_string_equal(run("require [\"variables\",\"fileinto\"]; set \"x\" \"1\";"
				"fileinto \"${X}-${unknown}-${ bad }\";"), "fileinto 1--${ bad }");
}

static void test_japanese(void **state)
{
	/* "会議" decoded from ISO-2022-JP */
	assert_string_equal(run("if header :contains \"subject\" \"会議\" { discard; }"), "discard");
	assert_string_equal(run("if header :matches \"subject\" \"会議 *\" { discard; }"), "discard");
	/* '?' is one octet under i;ascii-casemap, one character under
	 * i;unicode-casemap (会 is three octets in UTF-8) */
	assert_string_equal(run("if header :matches \"subject\" \"?議*\" { discard; }"), "keep");
	assert_string_equal(run("if header :matches \"subject\" \"???議*\" { discard; }"), "discard");
	assert_string_equal(run("require \"comparator-i;unicode-casemap\"; if header :comparator "
				"\"i;unicode-casemap\" :matches \"subject\" \"?議*\" { discard; }"), "discard");
	/* half a character is no folder name: a run-time error */
	assert_string_equal(run("require [\"variables\", \"fileinto\"];\nif header :matches \"subject\" "
				"\"?*\" { fileinto \"${1}\"; }"),
			    "keep +error(line 2: fileinto: invalid folder name \"\xe4\")");
	assert_string_equal(run("require \"comparator-i;unicode-casemap\";"
				"if header :comparator \"i;unicode-casemap\" :contains \"subject\" \"ＭＥＥＴＩＮＧ\" "
				"{ discard; }"), "discard");	/* NFKD: fullwidth is plain Latin */
	assert_string_equal(run("require [\"comparator-i;unicode-casemap\", \"variables\"];"
				"set \"s\" \"ＡＢＣ\"; if string :comparator \"i;unicode-casemap\" :is \"${s}\" "
				"\"ａｂｃ\" { discard; }"), "discard");
}

static void test_encoded_character(void **state)
{
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"]; fileinto \"${hex: 40 41}\";"),
			    "fileinto @A");
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"]; fileinto \"${unicode:4f1a}\";"),
			    "fileinto 会");
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"]; fileinto \"${hex:zz}\";"),
			    "fileinto ${hex:zz}");
	assert_string_equal(run("require \"fileinto\"; fileinto \"${hex:40}\";"), "fileinto ${hex:40}");
	/* at least one hex pair; code points outside Unicode are an error */
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"]; fileinto \"a${hex:}b\";"),
			    "fileinto a${hex:}b");
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"];\nfileinto \"${unicode:110000}\";"),
			    "ERROR: line 2: invalid ${unicode:...} character");
	assert_string_equal(run("require [\"encoded-character\",\"fileinto\"]; fileinto \"${unicode:d800}\";"),
			    "ERROR: line 1: invalid ${unicode:...} character");
}

static void test_imap4flags(void **state)
{
	assert_string_equal(run("require \"imap4flags\"; addflag \"\\\\Seen\"; addflag [\"$a\", \"\\\\seen\"];"),
			    "keep \\Seen $a");
	assert_string_equal(run("require [\"imap4flags\",\"fileinto\"]; setflag \"\\\\Flagged $x\";"
				"removeflag \"$X\"; fileinto \"A\";"), "fileinto A \\Flagged");
	assert_string_equal(run("require [\"imap4flags\",\"fileinto\"]; fileinto :flags \"\\\\Seen\" \"A\";"),
			    "fileinto A \\Seen");
	/* the same folder twice: one store, with the later flags */
	assert_string_equal(run("require [\"imap4flags\",\"fileinto\"]; fileinto \"A\"; fileinto :flags \"$x\" \"A\";"),
			    "fileinto A $x");
	assert_string_equal(run("require \"imap4flags\"; keep :flags \"$a\"; keep :flags \"$b\";"), "keep $b");
	assert_string_equal(run("require [\"imap4flags\",\"variables\"]; addflag \"v\" \"$x\";"
				"if hasflag \"v\" \"$X\" { discard; }"), "discard");
}

static void test_reject_conflicts(void **state)
{
	assert_string_equal(run("require \"reject\"; reject \"go away\";"), "reject go away");
	assert_string_equal(run("require \"ereject\"; ereject \"no\";"), "ereject no");
	assert_string_equal(run("require [\"reject\",\"fileinto\"]; fileinto \"A\"; reject \"no\";"),
			    "keep +error(line 1: reject conflicts with the fileinto on line 1)");
}

static void test_relational_body_regex(void **state)
{
	assert_string_equal(run("require [\"relational\",\"comparator-i;ascii-numeric\"];"
				"if header :count \"eq\" :comparator \"i;ascii-numeric\" \"received\" \"2\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require [\"relational\",\"comparator-i;ascii-numeric\"];"
				"if address :count \"ge\" :comparator \"i;ascii-numeric\" \"to\" \"3\" "
				"{ discard; }"), "keep");
	assert_string_equal(run("require \"relational\"; if header :value \"gt\" \"from\" \"A\" { discard; }"),
			    "discard");
	assert_string_equal(run("require \"body\"; if body :contains \"INVOICE\" { discard; }"), "discard");
	assert_string_equal(run("require \"body\"; if body :raw :contains \"Received\" { discard; }"), "keep");
	{
		static const char html[] = "From: a@b.example\r\nContent-Type: text/html\r\n\r\n"
					   "<style>p{color:red}</style><p>Fish &amp; <b>chips</b></p>\r\n";
		struct cb_state st = { 0, false };

		assert_string_equal(run_msg("require \"body\"; if body :text :contains \"Fish & chips\" "
					    "{ discard; }", html, &st), "discard");
		assert_string_equal(run_msg("require \"body\"; if body :text :contains [\"<b>\", \"color\"] "
					    "{ discard; }", html, &st), "keep");
		assert_string_equal(run_msg("require \"body\"; if body :raw :contains \"<b>\" "
					    "{ discard; }", html, &st), "discard");
	}
	assert_string_equal(run("require [\"regex\",\"variables\",\"fileinto\"];"
				"if header :regex \"from\" \"<([a-z]+)@\" { fileinto \"${1}\"; }"), "fileinto alice");
	assert_string_equal(run("require \"regex\"; if header :regex \"from\" \"(a)\\\\1\" { discard; }"),
			    "ERROR: line 1: regex back-references are not supported");
	assert_int_equal(run("require \"regex\"; if header :regex \"from\" \"([\" { discard; }")[0], 'E');
}

static void test_date_index(void **state)
{
	assert_string_equal(run("require \"date\"; if date :originalzone :is \"date\" \"zone\" \"+0900\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require \"date\"; if date :zone \"+0000\" :is \"date\" \"time\" \"12:13:20\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require [\"date\",\"variables\",\"fileinto\"]; if currentdate :zone \"+0000\" "
				":matches \"iso8601\" \"*\" { fileinto \"${1}\"; }"),
			    "fileinto 2023-11-14T22:13:20Z");
	assert_string_equal(run("require [\"date\",\"variables\",\"fileinto\"]; if date :originalzone "
				":matches \"date\" \"std11\" \"*\" { fileinto \"${1}\"; }"),
			    "fileinto Tue, 14 Nov 2023 21:13:20 +0900");
	assert_string_equal(run("require \"date\"; if currentdate :zone \"+0000\" :is \"date\" \"2023-11-14\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require \"date\"; if currentdate :zone \"+0000\" :is \"weekday\" \"2\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require [\"date\",\"index\"]; if date :index 2 :zone \"+0000\" :is "
				"\"received\" \"hour\" \"19\" { discard; }"), "discard");
	assert_string_equal(run("require \"index\"; if header :index 1 :last :contains \"received\" \"from c\" "
				"{ discard; }"), "discard");
	assert_string_equal(run("require \"date\"; if currentdate :is \"nosuchpart\" \"x\" { discard; }"),
			    "ERROR: line 1: currentdate: unknown date part \"nosuchpart\"");
}

static void test_vacation(void **state)
{
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_message m = { MSG, sizeof(MSG) - 1, "sender@example.org", "bob@example.com", NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;
	const char *src = "require [\"vacation\", \"vacation-seconds\"];\n"
			  "vacation :seconds 3600 :subject \"Away\" :addresses [\"b@x.org\"] \"Back Monday\";";

	sieve_limits_default(&lim);
	assert_int_equal(sieve_compile(src, strlen(src), &lim, &s, &err), 0);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), 0);
	assert_int_equal(res.count, 2);
	assert_int_equal(res.actions[0].kind, SIEVE_ACT_VACATION);
	assert_int_equal(res.actions[0].vacation.seconds, 3600);
	assert_string_equal(res.actions[0].vacation.subject, "Away");
	assert_string_equal(res.actions[0].arg, "Back Monday");
	assert_int_equal(res.actions[0].vacation.address_count, 1);
	/* a List-ID: no auto-reply to a mailing list */
	assert_false(res.actions[0].vacation.reply);
	assert_int_equal(res.actions[0].line, 2);
	sieve_result_free(&res);
	/* a direct message to one of the :addresses gets the reply; sent to
	 * others (a Bcc or a forward), it does not */
	{
		static const char direct[] = "From: a@example.org\r\nTo: B@X.org\r\nSubject: hi\r\n\r\nx\r\n";
		static const char other[] = "From: a@example.org\r\nTo: z@example.org\r\nSubject: hi\r\n\r\nx\r\n";
		struct sieve_message dm = { direct, sizeof(direct) - 1, "a@example.org", "bob@example.com",
					    NULL, NULL };

		assert_int_equal(sieve_run(s, &dm, &env, &lim, &res), 0);
		assert_true(res.actions[0].vacation.reply);
		sieve_result_free(&res);
		dm.data = other;
		dm.size = sizeof(other) - 1;
		assert_int_equal(sieve_run(s, &dm, &env, &lim, &res), 0);
		assert_false(res.actions[0].vacation.reply);
		/* <> never gets one */
		sieve_result_free(&res);
		dm.data = direct;
		dm.size = sizeof(direct) - 1;
		dm.env_from = "";
		assert_int_equal(sieve_run(s, &dm, &env, &lim, &res), 0);
		assert_false(res.actions[0].vacation.reply);
		sieve_result_free(&res);
		assert_int_equal(sieve_run(s, &m, &env, &lim, &res), 0);
	}
	assert_int_equal(res.actions[0].line, 2);
	assert_int_equal(res.actions[1].kind, SIEVE_ACT_KEEP);
	assert_true(res.implicit_keep);
	sieve_result_free(&res);
	sieve_script_free(s);
}

/* Each action names the line that took it, for doctor's "why". */
static void test_why_lines(void **state)
{
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_message m = { MSG, sizeof(MSG) - 1, "sender@example.org", "bob@example.com", NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;
	const char *src = "require [\"fileinto\", \"include\"];\n"
			  "# sort\n"
			  "if header :contains \"subject\" \"nothing\" {\n"
			  "  discard;\n"
			  "} elsif exists \"list-id\" {\n"
			  "  fileinto \"Lists\";\n"
			  "}\n"
			  "include \"spam\";\n";

	env.include_text = include_text;
	sieve_limits_default(&lim);
	assert_int_equal(sieve_compile(src, strlen(src), &lim, &s, &err), 0);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), 0);
	assert_int_equal(res.count, 2);
	assert_int_equal(res.actions[0].line, 6);
	assert_int_equal(res.actions[0].script, 0);
	assert_string_equal(res.actions[1].arg, "Inc");
	assert_int_equal(res.actions[1].line, 2);
	assert_int_equal(res.actions[1].script, 1);
	assert_false(res.implicit_keep);
	sieve_result_free(&res);
	sieve_script_free(s);
}

static void test_run_limits(void **state)
{
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_message m = { MSG, sizeof(MSG) - 1, "", "bob@example.com", NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;
	const char *many = "require \"fileinto\"; fileinto \"a\"; fileinto \"b\"; fileinto \"c\";";
	const char *steps = "if true { keep; } if true { keep; } if true { keep; } if true { keep; }";
	const char *src;

	sieve_limits_default(&lim);
	lim.max_actions = 2;
	assert_int_equal(sieve_compile(many, strlen(many), &lim, &s, &err), 0);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), -1);
	assert_true(res.error);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.actions[0].kind, SIEVE_ACT_KEEP);
	assert_string_equal(res.err.msg, "line 1: too many actions (limit 2)");
	sieve_result_free(&res);
	sieve_script_free(s);
	sieve_limits_default(&lim);
	lim.max_steps = 5;
	assert_int_equal(sieve_compile(steps, strlen(steps), &lim, &s, &err), 0);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), -1);
	assert_string_equal(res.err.msg, "line 1: too many steps");
	assert_true(res.implicit_keep);
	sieve_result_free(&res);
	sieve_script_free(s);
	/* matching work per run is bounded: a long :matches pattern on a long
	 * value stops the run instead of running for seconds */
	{
		static char big[300000];
		struct sieve_message bm = { big, 0, "a@b.example", "c@d.example", NULL, NULL };
		char glob[1200];
		size_t n;

		/* "*" then 1000 a's and a b: every shift of the star rescans */
		strcpy(glob, "require \"body\"; if body :raw :matches \"*");
		n = strlen(glob);
		memset(glob + n, 'a', 1000);
		strcpy(glob + n + 1000, "b\" { discard; }");

		memcpy(big, "Subject: x\r\n\r\n", 15);
		memset(big + 15, 'a', sizeof(big) - 16);
		bm.size = sizeof(big) - 1;
		sieve_limits_default(&lim);
		lim.max_work = 1000000;
		assert_int_equal(sieve_compile(glob, strlen(glob), &lim, &s, &err), 0);
		assert_int_equal(sieve_run(s, &bm, &env, &lim, &res), -1);
		assert_string_equal(res.err.msg, "line 1: too much matching work");
		sieve_result_free(&res);
		sieve_script_free(s);
	}
	/* the null sender: envelope from matches only "" with :all */
	src = "require \"envelope\"; if envelope :all :is \"from\" \"\" { discard; }";
	assert_int_equal(sieve_compile(src, strlen(src), &lim, &s, &err), 0);
	sieve_limits_default(&lim);
	assert_int_equal(sieve_run(s, &m, &env, &lim, &res), 0);
	assert_int_equal(res.actions[0].kind, SIEVE_ACT_DISCARD);
	sieve_result_free(&res);
	sieve_script_free(s);
}

static void test_callbacks(void **state)
{
	struct cb_state st = { 0, false };

	assert_string_equal(run("require \"mailbox\"; if mailboxexists \"Work\" { discard; }"), "discard");
	assert_string_equal(run("require \"mailbox\"; if mailboxexists [\"Work\", \"Nope\"] { discard; }"), "keep");
	assert_string_equal(run("require [\"mailbox\",\"fileinto\"]; fileinto :create \"New\";"), "fileinto New");
	assert_string_equal(run_msg("require \"duplicate\"; if duplicate { discard; }", MSG, &st), "keep");
	assert_int_equal(st.dup_calls, 1);
	st.seen = true;
	assert_string_equal(run_msg("require \"duplicate\"; if duplicate { discard; }", MSG, &st), "discard");
	assert_string_equal(run("require [\"include\",\"fileinto\"]; include \"spam\"; fileinto \"After\";"),
			    "fileinto Inc; fileinto After");
	assert_string_equal(run("require \"include\"; include \"missing\";"),
			    "keep +error(line 1: included script \"missing\" not found)");
	assert_string_equal(run("require \"include\"; include :optional \"missing\";"), "keep");
	assert_string_equal(run("require [\"include\",\"variables\",\"fileinto\"]; global \"box\";"
				"include \"vars\"; fileinto \"${box}\";"), "fileinto G");
	assert_string_equal(run("require [\"spamtest\",\"relational\",\"comparator-i;ascii-numeric\"];"
				"if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"5\" { discard; }"),
			    "discard");
	assert_string_equal(run("require [\"spamtestplus\",\"relational\",\"comparator-i;ascii-numeric\"];"
				"if spamtest :percent :value \"gt\" :comparator \"i;ascii-numeric\" \"70\" "
				"{ discard; }"), "keep");
	assert_string_equal(run("require \"virustest\"; if virustest :is \"1\" { discard; }"), "discard");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_implicit_keep),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_match_types),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_japanese),
		cmocka_unit_test(test_encoded_character),
		cmocka_unit_test(test_imap4flags),
		cmocka_unit_test(test_reject_conflicts),
		cmocka_unit_test(test_relational_body_regex),
		cmocka_unit_test(test_date_index),
		cmocka_unit_test(test_vacation),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_why_lines),
		cmocka_unit_test(test_run_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
