/* Unit tests for the SMTP command-line parsers in src/proto/smtp.c:
 * smtp_command_parse, smtp_mail_parse, smtp_rcpt_parse and the SASL PLAIN
 * and LOGIN decoders. (The DATA stream is in test_smtp_data.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/str.h"
#include "proto/smtp.h"

#define S(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------ commands */

static void check_cmd(const char *line, size_t len, enum smtp_verb verb, const char *verb_text,
		      const char *args)
{
	struct smtp_command c;
	const char *error = NULL;

	if (smtp_command_parse(line, len, &c, &error) != 0)
		fail_msg("\"%.*s\": %s", (int)len, line, error);
	assert_int_equal(c.verb, verb);
	assert_int_equal(c.verb_len, strlen(verb_text));
	assert_memory_equal(c.verb_text, verb_text, c.verb_len);
	assert_ptr_equal(c.verb_text, line);
	assert_int_equal(c.args_len, strlen(args));
	assert_memory_equal(c.args, args, c.args_len);
	assert_true(c.args >= line && c.args + c.args_len <= line + len);
}

static void check_cmd_fail(const char *line, size_t len, const char *expected)
{
	struct smtp_command c;
	const char *error = NULL;

	assert_int_equal(smtp_command_parse(line, len, &c, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected);
}

static void test_command_verbs(void **state)
{
	static const struct { const char *text; enum smtp_verb verb; } verbs[] = {
		{ "HELO", SMTP_VERB_HELO }, { "EHLO", SMTP_VERB_EHLO }, { "MAIL", SMTP_VERB_MAIL },
		{ "RCPT", SMTP_VERB_RCPT }, { "DATA", SMTP_VERB_DATA }, { "BDAT", SMTP_VERB_BDAT },
		{ "RSET", SMTP_VERB_RSET }, { "NOOP", SMTP_VERB_NOOP }, { "QUIT", SMTP_VERB_QUIT },
		{ "VRFY", SMTP_VERB_VRFY }, { "EXPN", SMTP_VERB_EXPN }, { "HELP", SMTP_VERB_HELP },
		{ "STARTTLS", SMTP_VERB_STARTTLS }, { "AUTH", SMTP_VERB_AUTH },
		{ "LHLO", SMTP_VERB_LHLO }, { "XCLIENT", SMTP_VERB_XCLIENT },
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char lower[16];
		check_cmd(verbs[i].text, strlen(verbs[i].text), verbs[i].verb, verbs[i].text, "");
		assert_string_equal(smtp_verb_name(verbs[i].verb), verbs[i].text);
		str_copy(lower, sizeof(lower), verbs[i].text);
		str_lower(lower);
		check_cmd(lower, strlen(lower), verbs[i].verb, lower, "");
	}
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "");
	assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "");
	assert_string_equal(smtp_verb_name((enum smtp_verb)1000), "");
}

static void test_command_args(void **state)
{
	check_cmd(S("EHLO client.example.test"), SMTP_VERB_EHLO, "EHLO", "client.example.test");
	check_cmd(S("MAIL FROM:<a@b.test> SIZE=10"), SMTP_VERB_MAIL, "MAIL", "FROM:<a@b.test> SIZE=10");
	check_cmd(S("mAiL from:<>"), SMTP_VERB_MAIL, "mAiL", "from:<>");
	/* trailing spaces dropped, but only one space after the verb is eaten */
	check_cmd(S("NOOP   "), SMTP_VERB_NOOP, "NOOP", "");
	check_cmd(S("HELO  x  "), SMTP_VERB_HELO, "HELO", " x");
	check_cmd(S("RCPT TO:<u@x.test>"), SMTP_VERB_RCPT, "RCPT", "TO:<u@x.test>");
	/* 8-bit and tabs in arguments are the argument parsers' business */
	check_cmd(S("EHLO \xe4\xbe\x8b\t"), SMTP_VERB_EHLO, "EHLO", "\xe4\xbe\x8b\t");
}

static void test_command_unknown(void **state)
{
	check_cmd(S("XYZZY foo"), SMTP_VERB_UNKNOWN, "XYZZY", "foo");
	check_cmd(S(""), SMTP_VERB_UNKNOWN, "", "");
	check_cmd(S(" MAIL FROM:<>"), SMTP_VERB_UNKNOWN, "", "MAIL FROM:<>");
	check_cmd(S("MAILFROM:<>"), SMTP_VERB_UNKNOWN, "MAILFROM:<>", "");
	check_cmd(S("MAI"), SMTP_VERB_UNKNOWN, "MAI", "");
	check_cmd(S("MAILX"), SMTP_VERB_UNKNOWN, "MAILX", "");
	check_cmd(S("STARTTLSX"), SMTP_VERB_UNKNOWN, "STARTTLSX", "");
	/* HTTP sent at an SMTP port */
	check_cmd(S("GET / HTTP/1.1"), SMTP_VERB_UNKNOWN, "GET", "/ HTTP/1.1");
}

static void test_command_hostile(void **state)
{
	check_cmd_fail(S("NOOP\0"), "control characters in command");
	check_cmd_fail(S("NO\0OP"), "control characters in command");
	check_cmd_fail(S("MAIL FROM:<a@b>\rRCPT TO:<c@d>"), "control characters in command");
	check_cmd_fail(S("MAIL FROM:<a@b>\nRCPT TO:<c@d>"), "control characters in command");
	check_cmd_fail(S("DATA\r"), "control characters in command");
	check_cmd_fail(S("D\xc3\x81TA"), "invalid characters in command");
	check_cmd_fail(S("NOOP\t"), "invalid characters in command");
	check_cmd_fail(S("\x1b[2J"), "invalid characters in command");
}

static void test_command_long(void **state)
{
	size_t n = 1 << 16;
	char *line = malloc(n);
	struct smtp_command c;
	const char *error;

	assert_non_null(line);
	memset(line, 'A', n);
	assert_int_equal(smtp_command_parse(line, n, &c, &error), 0);
	assert_int_equal(c.verb, SMTP_VERB_UNKNOWN);
	assert_int_equal(c.verb_len, n);
	assert_int_equal(c.args_len, 0);
	memcpy(line, "HELO ", 5);
	assert_int_equal(smtp_command_parse(line, n, &c, &error), 0);
	assert_int_equal(c.verb, SMTP_VERB_HELO);
	assert_int_equal(c.args_len, n - 5);
	free(line);
}

/* ------------------------------------------------------------ MAIL FROM */

static enum smtp_arg_error mail(const char *args, struct mail_path *p, struct smtp_mail_params *mp,
				const char **error_r)
{
	*error_r = NULL;
	return smtp_mail_parse(args, strlen(args), p, mp, error_r);
}

static void check_mail_fail(const char *args, enum smtp_arg_error expected, const char *error)
{
	struct mail_path p;
	struct smtp_mail_params mp;
	const char *e;

	assert_int_equal(mail(args, &p, &mp, &e), expected);
	assert_non_null(e);
	assert_string_equal(e, error);
}

static void test_mail_plain(void **state)
{
	struct mail_path p;
	struct smtp_mail_params mp;
	const char *e;

	assert_int_equal(mail("FROM:<sender@client.test>", &p, &mp, &e), SMTP_ARG_OK);
	assert_string_equal(p.local, "sender");
	assert_string_equal(p.domain, "client.test");
	assert_false(mp.has_size);
	assert_int_equal(mp.body, SMTP_BODY_7BIT);
	assert_false(mp.smtputf8);
	assert_int_equal(mail("from: <Sender@CLIENT.test>", &p, &mp, &e), SMTP_ARG_OK);
	assert_string_equal(p.local, "Sender");
	assert_string_equal(p.domain, "client.test");
	assert_int_equal(mail("FROM:<>", &p, &mp, &e), SMTP_ARG_OK);
	assert_true(p.null_path);
	/* the length is honoured: the rest of the buffer is not read */
	assert_int_equal(smtp_mail_parse("FROM:<a@b.test> JUNK", 15, &p, &mp, &e), SMTP_ARG_OK);
}

static void test_mail_params(void **state)
{
	struct mail_path p;
	struct smtp_mail_params mp;
	const char *e;

	assert_int_equal(mail("FROM:<a@b.test> SIZE=12345 BODY=8BITMIME SMTPUTF8", &p, &mp, &e),
			 SMTP_ARG_OK);
	assert_true(mp.has_size);
	assert_true(mp.size == 12345);
	assert_int_equal(mp.body, SMTP_BODY_8BITMIME);
	assert_true(mp.smtputf8);
	assert_int_equal(mail("FROM:<a@b.test>   size=0   body=7bit  smtputf8  ", &p, &mp, &e),
			 SMTP_ARG_OK);
	assert_true(mp.has_size);
	assert_true(mp.size == 0);
	assert_int_equal(mp.body, SMTP_BODY_7BIT);
	assert_true(mp.smtputf8);
	assert_int_equal(mail("FROM:<a@b.test> SIZE=18446744073709551615", &p, &mp, &e), SMTP_ARG_OK);
	assert_true(mp.size == UINT64_MAX);
	assert_int_equal(mail("FROM:<a@b.test> AUTH=<> BODY=8BITMIME", &p, &mp, &e), SMTP_ARG_OK);
	assert_int_equal(mp.body, SMTP_BODY_8BITMIME);
	assert_int_equal(mail("FROM:<a@b.test> AUTH=a+2Bb@c.test", &p, &mp, &e), SMTP_ARG_OK);
	/* params are reset by each call */
	assert_int_equal(mail("FROM:<a@b.test>", &p, &mp, &e), SMTP_ARG_OK);
	assert_false(mp.has_size);
	assert_false(mp.smtputf8);
	assert_int_equal(mp.body, SMTP_BODY_7BIT);
}

static void test_mail_param_errors(void **state)
{
	check_mail_fail("FROM:<a@b.test> SIZE=", SMTP_ARG_PARAM, "SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> SIZE", SMTP_ARG_PARAM, "SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> SIZE=1k", SMTP_ARG_PARAM, "SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> SIZE=-1", SMTP_ARG_PARAM, "SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> SIZE=18446744073709551616", SMTP_ARG_PARAM,
			"SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> SIZE=1 SIZE=2", SMTP_ARG_PARAM, "SIZE needs one number");
	check_mail_fail("FROM:<a@b.test> BODY=BINARYMIME", SMTP_ARG_PARAM,
			"BODY must be 7BIT or 8BITMIME");
	check_mail_fail("FROM:<a@b.test> BODY", SMTP_ARG_PARAM, "BODY must be 7BIT or 8BITMIME");
	check_mail_fail("FROM:<a@b.test> SMTPUTF8=yes", SMTP_ARG_PARAM, "Unsupported MAIL parameter");
	check_mail_fail("FROM:<a@b.test> RET=HDRS", SMTP_ARG_PARAM, "Unsupported MAIL parameter");
	check_mail_fail("FROM:<a@b.test> =x", SMTP_ARG_PARAM, "Malformed MAIL parameter");
	check_mail_fail("FROM:<a@b.test> "
			"AVERYLONGPARAMETERNAMETHATDOESNOTFIT=1",
			SMTP_ARG_PARAM, "Malformed MAIL parameter");
}

static void test_mail_param_long_value(void **state)
{
	char args[400];

	/* a value of 127 octets fits, 128 does not */
	snprintf(args, sizeof(args), "FROM:<a@b.test> AUTH=%0127d", 0);
	{
		struct mail_path p;
		struct smtp_mail_params mp;
		const char *e;
		assert_int_equal(mail(args, &p, &mp, &e), SMTP_ARG_OK);
	}
	snprintf(args, sizeof(args), "FROM:<a@b.test> AUTH=%0128d", 0);
	check_mail_fail(args, SMTP_ARG_PARAM, "Malformed MAIL parameter");
}

static void test_mail_syntax(void **state)
{
	check_mail_fail("", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address>");
	check_mail_fail("FROM", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address>");
	check_mail_fail("FROM <a@b.test>", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address>");
	check_mail_fail("TO:<a@b.test>", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address>");
	check_mail_fail(" FROM:<a@b.test>", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address>");
	check_mail_fail("FROM:<a@b.test>SIZE=1", SMTP_ARG_SYNTAX,
			"Syntax: MAIL FROM:<address> [parameters]");
	check_mail_fail("FROM:<>>", SMTP_ARG_SYNTAX, "Syntax: MAIL FROM:<address> [parameters]");
	check_mail_fail("FROM:a@b.test", SMTP_ARG_ADDRESS, "address must be enclosed in <>");
	check_mail_fail("FROM:<a@b.test", SMTP_ARG_ADDRESS, "unexpected character in address");
	check_mail_fail("FROM:<a@@b.test>", SMTP_ARG_ADDRESS, "missing domain");
	check_mail_fail("FROM:", SMTP_ARG_ADDRESS, "address must be enclosed in <>");
}

static void test_mail_tricks_parse(void **state)
{
	/* tricks parse (refusing them is policy); the flag shows them */
	struct mail_path p;
	struct smtp_mail_params mp;
	const char *e;

	assert_int_equal(mail("FROM:<@a.test:u@b.test>", &p, &mp, &e), SMTP_ARG_OK);
	assert_true(p.source_route);
	assert_string_equal(mail_path_relay_trick(&p), "source route");
}

/* ------------------------------------------------------------ RCPT TO */

static void check_rcpt(const char *args, enum smtp_arg_error expected, const char *error,
		       const char *local, const char *domain)
{
	struct mail_path p;
	const char *e = NULL;

	assert_int_equal(smtp_rcpt_parse(args, strlen(args), &p, &e), expected);
	if (expected == SMTP_ARG_OK) {
		assert_string_equal(p.local, local);
		assert_string_equal(p.domain, domain);
	} else {
		assert_non_null(e);
		if (error != NULL)
			assert_string_equal(e, error);
	}
}

static void test_rcpt(void **state)
{
	check_rcpt("TO:<user@example.test>", SMTP_ARG_OK, NULL, "user", "example.test");
	check_rcpt("to: <User@Example.Test>  ", SMTP_ARG_OK, NULL, "User", "example.test");
	check_rcpt("TO:<>", SMTP_ARG_ADDRESS, "The recipient may not be <>", NULL, NULL);
	check_rcpt("TO:<Postmaster>", SMTP_ARG_OK, NULL, "postmaster", "");
	check_rcpt("TO:<postmaster> x", SMTP_ARG_PARAM, "Unsupported RCPT parameter", NULL, NULL);
	check_rcpt("TO:<postmaster", SMTP_ARG_ADDRESS, NULL, NULL, NULL);
	check_rcpt("TO:<postmasterx>", SMTP_ARG_ADDRESS, NULL, NULL, NULL);
	check_rcpt("TO:<user@example.test> NOTIFY=NEVER", SMTP_ARG_PARAM,
		   "Unsupported RCPT parameter", NULL, NULL);
	check_rcpt("TO:<user@example.test>x", SMTP_ARG_PARAM, "Unsupported RCPT parameter", NULL, NULL);
	check_rcpt("TO <user@example.test>", SMTP_ARG_SYNTAX, "Syntax: RCPT TO:<address>", NULL, NULL);
	check_rcpt("FROM:<user@example.test>", SMTP_ARG_SYNTAX, "Syntax: RCPT TO:<address>", NULL, NULL);
	check_rcpt("", SMTP_ARG_SYNTAX, "Syntax: RCPT TO:<address>", NULL, NULL);
	check_rcpt("TO:user@example.test", SMTP_ARG_ADDRESS, "address must be enclosed in <>", NULL, NULL);
	check_rcpt("TO:<user@@example.test>", SMTP_ARG_ADDRESS, "missing domain", NULL, NULL);
	check_rcpt("TO:<user@other.test@example.test>", SMTP_ARG_ADDRESS,
		   "unexpected character in address", NULL, NULL);
}

static void test_rcpt_tricks(void **state)
{
	static const struct { const char *args, *trick; } cases[] = {
		{ "TO:<user%other.test@example.test>", "percent hack" },
		{ "TO:<other.test!user@example.test>", "bang path" },
		{ "TO:<\"user@other.test\"@example.test>", "quoted local part" },
		{ "TO:<@a.test,@b.test:user@example.test>", "source route" },
		{ "TO:<user@[192.0.2.1]>", "IP address literal" },
		{ "TO:<user@example.test.>", "trailing dot in domain" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_path p;
		const char *e, *t;
		assert_int_equal(smtp_rcpt_parse(cases[i].args, strlen(cases[i].args), &p, &e), SMTP_ARG_OK);
		t = mail_path_relay_trick(&p);
		assert_non_null(t);
		assert_string_equal(t, cases[i].trick);
	}
}

static void test_rcpt_hostile(void **state)
{
	static const char nul[] = "TO:<us\0er@example.test>";
	struct mail_path p;
	const char *e;

	assert_int_equal(smtp_rcpt_parse(nul, sizeof(nul) - 1, &p, &e), SMTP_ARG_ADDRESS);
	assert_string_equal(e, "address needs a domain (user@domain)");
	/* a NUL after the path is a parameter, and refused */
	assert_int_equal(smtp_rcpt_parse("TO:<u@x.test>\0", 14, &p, &e), SMTP_ARG_PARAM);
}

/* ------------------------------------------------------------ SASL */

struct plain_out {
	char authz[64], authc[64], pass[64];
};

static int plain(const char *b64, struct plain_out *o, const char **e)
{
	memset(o, '#', sizeof(*o));
	*e = NULL;
	return sasl_plain_decode(b64, strlen(b64), o->authz, sizeof(o->authz), o->authc,
				 sizeof(o->authc), o->pass, sizeof(o->pass), e);
}

/* base64 of a counted string, for readable test inputs. */
static char *b64(const char *s, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	assert_non_null(out);
	base64_encode((const unsigned char *)s, len, out);
	return out;
}

static void test_sasl_plain(void **state)
{
	struct plain_out o;
	const char *e;
	char *in;

	in = b64(S("\0user@example.test\0secret pass"));
	assert_int_equal(plain(in, &o, &e), 0);
	assert_string_equal(o.authz, "");
	assert_string_equal(o.authc, "user@example.test");
	assert_string_equal(o.pass, "secret pass");
	free(in);
	in = b64(S("admin\0user\0pw"));
	assert_int_equal(plain(in, &o, &e), 0);
	assert_string_equal(o.authz, "admin");
	assert_string_equal(o.authc, "user");
	assert_string_equal(o.pass, "pw");
	free(in);
	/* empty fields parse; refusing them is the session's job */
	in = b64(S("\0\0"));
	assert_int_equal(plain(in, &o, &e), 0);
	assert_string_equal(o.authc, "");
	assert_string_equal(o.pass, "");
	free(in);
	/* 8-bit passwords pass through */
	in = b64(S("\0u\0p\xc3\xa4ss"));
	assert_int_equal(plain(in, &o, &e), 0);
	assert_string_equal(o.pass, "p\xc3\xa4ss");
	free(in);
}

static void test_sasl_plain_errors(void **state)
{
	struct plain_out o;
	const char *e;
	char *in;

	assert_int_equal(plain("", &o, &e), -1);
	assert_string_equal(e, "invalid base64");
	assert_int_equal(plain("=", &o, &e), -1);
	assert_string_equal(e, "invalid base64");
	assert_int_equal(plain("AHVzZXIAcGFzcw", &o, &e), -1);	/* padding missing */
	assert_string_equal(e, "invalid base64");
	assert_int_equal(plain("AHVzZXIAcGFzcw==\r\n", &o, &e), -1);
	assert_string_equal(e, "invalid base64");
	in = b64(S("user\0pass"));
	assert_int_equal(plain(in, &o, &e), -1);
	assert_string_equal(e, "PLAIN needs authzid NUL authcid NUL password");
	free(in);
	in = b64(S("a\0b\0c\0d"));
	assert_int_equal(plain(in, &o, &e), -1);
	assert_string_equal(e, "PLAIN needs authzid NUL authcid NUL password");
	free(in);
	in = b64(S("userpass"));
	assert_int_equal(plain(in, &o, &e), -1);
	assert_string_equal(e, "PLAIN needs authzid NUL authcid NUL password");
	free(in);
}

static void test_sasl_plain_limits(void **state)
{
	char raw[1100], *in;
	struct plain_out o;
	const char *e;

	/* a password of 63 octets fits the 64-byte buffer, 64 does not */
	memset(raw, 'p', sizeof(raw));
	memcpy(raw, "\0u\0", 3);
	in = b64(raw, 3 + 63);
	assert_int_equal(plain(in, &o, &e), 0);
	assert_int_equal(strlen(o.pass), 63);
	free(in);
	in = b64(raw, 3 + 64);
	assert_int_equal(plain(in, &o, &e), -1);
	assert_string_equal(e, "credentials too long");
	free(in);
	/* 1360 base64 octets (1020 bytes) are read, more are refused */
	{
		char big[1400];
		char authz[1024], authc[1024], pass[1024];
		memset(raw, 'x', sizeof(raw));
		memcpy(raw, "\0u\0", 3);
		in = b64(raw, 1020);
		assert_int_equal(strlen(in), 1360);
		assert_int_equal(sasl_plain_decode(in, 1360, authz, sizeof(authz), authc, sizeof(authc),
						   pass, sizeof(pass), &e), 0);
		assert_int_equal(strlen(pass), 1017);
		free(in);
		in = b64(raw, 1023);
		assert_int_equal(strlen(in), 1364);
		assert_int_equal(sasl_plain_decode(in, 1364, authz, sizeof(authz), authc, sizeof(authc),
						   pass, sizeof(pass), &e), -1);
		assert_string_equal(e, "invalid base64");
		free(in);
		memset(big, 'A', sizeof(big));
		assert_int_equal(sasl_plain_decode(big, sizeof(big), authz, sizeof(authz), authc,
						   sizeof(authc), pass, sizeof(pass), &e), -1);
	}
}

static void test_sasl_login(void **state)
{
	char out[64];
	const char *e;
	char *in;

	memset(out, '#', sizeof(out));
	assert_int_equal(sasl_login_decode(S("dXNlckBleGFtcGxlLnRlc3Q="), out, sizeof(out), &e), 0);
	assert_string_equal(out, "user@example.test");
	assert_int_equal(sasl_login_decode(S(""), out, sizeof(out), &e), 0);
	assert_string_equal(out, "");
	assert_int_equal(sasl_login_decode(S("dXNlcg"), out, sizeof(out), &e), -1);
	assert_string_equal(e, "invalid base64");
	assert_int_equal(sasl_login_decode(S("*"), out, sizeof(out), &e), -1);
	assert_string_equal(e, "invalid base64");
	in = b64(S("us\0er"));
	assert_int_equal(sasl_login_decode(in, strlen(in), out, sizeof(out), &e), -1);
	assert_string_equal(e, "invalid credentials");
	free(in);
	/* 7 octets need 8 bytes of room */
	in = b64(S("1234567"));
	assert_int_equal(sasl_login_decode(in, strlen(in), out, 8, &e), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(sasl_login_decode(in, strlen(in), out, 7, &e), -1);
	assert_string_equal(e, "invalid credentials");
	free(in);
}

static void test_sasl_login_limits(void **state)
{
	char raw[600], out[600], *in;
	const char *e;

	memset(raw, 'z', sizeof(raw));
	in = b64(raw, 510);
	assert_int_equal(strlen(in), 680);
	assert_int_equal(sasl_login_decode(in, 680, out, sizeof(out), &e), 0);
	assert_int_equal(strlen(out), 510);
	free(in);
	in = b64(raw, 513);
	assert_int_equal(strlen(in), 684);
	assert_int_equal(sasl_login_decode(in, 684, out, sizeof(out), &e), -1);
	assert_string_equal(e, "invalid base64");
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_verbs),
		cmocka_unit_test(test_command_args),
		cmocka_unit_test(test_command_unknown),
		cmocka_unit_test(test_command_hostile),
		cmocka_unit_test(test_command_long),
		cmocka_unit_test(test_mail_plain),
		cmocka_unit_test(test_mail_params),
		cmocka_unit_test(test_mail_param_errors),
		cmocka_unit_test(test_mail_param_long_value),
		cmocka_unit_test(test_mail_syntax),
		cmocka_unit_test(test_mail_tricks_parse),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_rcpt_tricks),
		cmocka_unit_test(test_rcpt_hostile),
		cmocka_unit_test(test_sasl_plain),
		cmocka_unit_test(test_sasl_plain_errors),
		cmocka_unit_test(test_sasl_plain_limits),
		cmocka_unit_test(test_sasl_login),
		cmocka_unit_test(test_sasl_login_limits),
	};

	return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
