/* Unit tests for yubin.conf (src/lib/config.c, the file format, and
 * src/settings/settings_conf.c, the keys through the settings table):
 * defaults, typed setting with ranges, the file parser with line numbers,
 * rewriting one key in a file's text, and loading from disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/config.h"
#include "settings/settings.h"

#define S(lit) lit, sizeof(lit) - 1

static void get(const struct config *cfg, const char *key, char *buf, size_t size)
{
	assert_int_equal(settings_conf_get(cfg, key, buf, size), 0);
}

static void check_get(const struct config *cfg, const char *key, const char *expected)
{
	char buf[512];

	get(cfg, key, buf, sizeof(buf));
	assert_string_equal(buf, expected);
}

static void test_defaults(void **state)
{
	struct config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	settings_conf_defaults(&cfg);
	assert_string_equal(cfg.hostname, "localhost");
	assert_string_equal(cfg.listen_address, "0.0.0.0");
	assert_int_equal(cfg.port_smtp, 25);
	assert_int_equal(cfg.port_submission, 587);
	assert_int_equal(cfg.port_smtps, 465);
	assert_int_equal(cfg.port_pop3, 110);
	assert_int_equal(cfg.port_pop3s, 995);
	assert_int_equal(cfg.port_imap, 143);
	assert_int_equal(cfg.port_imaps, 993);
	assert_int_equal(cfg.port_http, 80);
	assert_int_equal(cfg.port_https, 443);
	assert_true(cfg.smtp_max_message_size == 100ULL * 1024 * 1024);
	assert_int_equal(cfg.smtp_max_recipients, 100);
	assert_int_equal(cfg.smtp_timeout, 300);
	assert_int_equal(cfg.pop3_timeout, 600);
	assert_int_equal(cfg.server_loops, 0);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.server_user, "");
}

static void test_every_key_round_trips(void **state)
{
	struct config cfg;

	settings_conf_defaults(&cfg);
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *k = settings_get(i);
		char buf[512], again[512];
		const char *error;

		if (k->scopes != SETTING_SERVER)
			continue;
		assert_ptr_equal(settings_find(k->key, SETTING_SERVER), k);
		assert_non_null(k->help_en);
		assert_non_null(k->help_ja);
		get(&cfg, k->key, buf, sizeof(buf));
		if (k->type != SETTING_SIZE)
			assert_string_equal(buf, k->def);
		/* setting what get returned changes nothing */
		assert_int_equal(settings_conf_set(&cfg, k->key, buf, &error), 0);
		get(&cfg, k->key, again, sizeof(again));
		assert_string_equal(again, buf);
	}
	check_get(&cfg, "smtp.max_message_size", "104857600");
	assert_null(settings_find("no.such.key", SETTING_SERVER));
	assert_null(settings_find("", SETTING_SERVER));
	assert_null(settings_find("HOSTNAME", SETTING_SERVER));
	{
		char buf[8];
		assert_int_equal(settings_conf_get(&cfg, "no.such.key", buf, sizeof(buf)), -1);
	}
}

static void check_set_fail(struct config *cfg, const char *key, const char *value, const char *expected)
{
	char before[512], after[512];
	const char *error = NULL;

	if (settings_find(key, SETTING_SERVER) != NULL)
		get(cfg, key, before, sizeof(before));
	assert_int_equal(settings_conf_set(cfg, key, value, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected);
	/* a refused value leaves the old one in place */
	if (settings_find(key, SETTING_SERVER) != NULL) {
		get(cfg, key, after, sizeof(after));
		assert_string_equal(after, before);
	}
}

static void test_set_numbers(void **state)
{
	struct config cfg;
	const char *error;

	settings_conf_defaults(&cfg);
	assert_int_equal(settings_conf_set(&cfg, "smtp.port", "10025", &error), 0);
	assert_int_equal(cfg.port_smtp, 10025);
	assert_int_equal(settings_conf_set(&cfg, "smtp.port", "0", &error), 0);
	assert_int_equal(cfg.port_smtp, 0);
	assert_int_equal(settings_conf_set(&cfg, "smtp.port", "65535", &error), 0);
	check_set_fail(&cfg, "smtp.port", "65536", "out of range");
	check_set_fail(&cfg, "smtp.port", "", "not a number");
	check_set_fail(&cfg, "smtp.port", "-1", "not a number");
	check_set_fail(&cfg, "smtp.port", "25x", "not a number");
	check_set_fail(&cfg, "smtp.port", " 25", "not a number");
	check_set_fail(&cfg, "smtp.port", "4294967296", "not a number");
	check_set_fail(&cfg, "smtp.port", "99999999999999999999", "not a number");
	check_set_fail(&cfg, "smtp.max_recipients", "0", "out of range");
	assert_int_equal(settings_conf_set(&cfg, "smtp.max_recipients", "1", &error), 0);
	assert_int_equal(cfg.smtp_max_recipients, 1);
	check_set_fail(&cfg, "smtp.max_line_length", "511", "out of range");
	check_set_fail(&cfg, "smtp.max_line_length", "65537", "out of range");
	check_set_fail(&cfg, "server.loops", "257", "out of range");
	check_set_fail(&cfg, "smtp.port", "1K", "not a number");
}

static void test_set_sizes(void **state)
{
	struct config cfg;
	const char *error;

	settings_conf_defaults(&cfg);
	assert_int_equal(settings_conf_set(&cfg, "smtp.max_message_size", "1024", &error), 0);
	assert_true(cfg.smtp_max_message_size == 1024);
	assert_int_equal(settings_conf_set(&cfg, "smtp.max_message_size", "1k", &error), 0);
	assert_true(cfg.smtp_max_message_size == 1024);
	assert_int_equal(settings_conf_set(&cfg, "smtp.max_message_size", "25M", &error), 0);
	assert_true(cfg.smtp_max_message_size == 25ULL << 20);
	check_get(&cfg, "smtp.max_message_size", "26214400");
	assert_int_equal(settings_conf_set(&cfg, "smtp.max_message_size", "4G", &error), 0);
	assert_true(cfg.smtp_max_message_size == 4ULL << 30);
	check_set_fail(&cfg, "smtp.max_message_size", "1023", "out of range");
	check_set_fail(&cfg, "smtp.max_message_size", "4294967297", "out of range");
	check_set_fail(&cfg, "smtp.max_message_size", "5G", "out of range");
	check_set_fail(&cfg, "smtp.max_message_size", "10MB", "not a size (digits, optional K/M/G)");
	check_set_fail(&cfg, "smtp.max_message_size", "", "not a size (digits, optional K/M/G)");
	assert_true(cfg.smtp_max_message_size == 4ULL << 30);
}

static void test_set_strings(void **state)
{
	struct config cfg;
	const char *error;
	char long_name[300];

	settings_conf_defaults(&cfg);
	assert_int_equal(settings_conf_set(&cfg, "hostname", "mail.example.test", &error), 0);
	assert_string_equal(cfg.hostname, "mail.example.test");
	assert_int_equal(settings_conf_set(&cfg, "listen.address", "127.0.0.1,::1", &error), 0);
	assert_string_equal(cfg.listen_address, "127.0.0.1,::1");
	memset(long_name, 'h', sizeof(long_name));
	long_name[255] = '\0';
	assert_int_equal(settings_conf_set(&cfg, "smtp.relayhost", long_name, &error), 0);
	assert_int_equal(strlen(cfg.smtp_relayhost), 255);
	long_name[255] = 'h';
	long_name[256] = '\0';
	check_set_fail(&cfg, "smtp.relayhost", long_name, "value too long");
	assert_int_equal(strlen(cfg.smtp_relayhost), 255);
	check_set_fail(&cfg, "hostname", "a\nsmtp.port = 1", "a value cannot contain a line break");
	/* host names follow the LDH rule (yubinctl init and config set alike) */
	assert_int_equal(settings_conf_set(&cfg, "hostname", "Mail.Example.TEST", &error), 0);
	assert_string_equal(cfg.hostname, "mail.example.test");
	check_set_fail(&cfg, "hostname", "", "the host name must be 1 to 253 characters");
	check_set_fail(&cfg, "hostname", "-bad.example", "each part of a host name must be 1 to 63"
		       " characters of a-z, 0-9 and '-', not starting or ending with '-'");
	check_set_fail(&cfg, "hostname", "mail_1.example", "a host name has only a-z, 0-9, '-' and '.'");
	assert_string_equal(cfg.hostname, "mail.example.test");
	check_set_fail(&cfg, "nosuch", "x", "unknown setting");
	check_set_fail(&cfg, "", "x", "unknown setting");
}

static void test_set_log_level(void **state)
{
	struct config cfg;
	const char *error;
	static const char *const good[] = { "debug", "info", "warn", "error" };

	settings_conf_defaults(&cfg);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(settings_conf_set(&cfg, "log.level", good[i], &error), 0);
		assert_string_equal(cfg.log_level, good[i]);
	}
	check_set_fail(&cfg, "log.level", "verbose", "must be debug, info, warn or error");
	check_set_fail(&cfg, "log.level", "INFO", "must be debug, info, warn or error");
	check_set_fail(&cfg, "log.level", "", "must be debug, info, warn or error");
	assert_string_equal(cfg.log_level, "error");
}

static int parse(struct config *cfg, const char *text, size_t len, unsigned *line, const char **error)
{
	*line = 0;
	*error = NULL;
	return settings_conf_parse(cfg, text, len, line, error);
}

static void test_parse_file(void **state)
{
	static const char text[] =
		"# Yubin settings\n"
		"\n"
		"hostname = mail.example.test\n"
		"   smtp.port=10025   \n"
		"\tsubmission.port\t=\t10587\t\n"
		"smtp.max_message_size = 50M\r\n"
		"  # indented comment = not a setting\n"
		"listen.address = 127.0.0.1 , ::1\n"
		"log.level = debug";	/* no final newline */
	struct config cfg;
	unsigned line;
	const char *error;

	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, S(text), &line, &error), 0);
	assert_int_equal(line, 9);
	assert_string_equal(cfg.hostname, "mail.example.test");
	assert_int_equal(cfg.port_smtp, 10025);
	assert_int_equal(cfg.port_submission, 10587);
	assert_true(cfg.smtp_max_message_size == 50ULL << 20);
	assert_string_equal(cfg.listen_address, "127.0.0.1 , ::1");
	assert_string_equal(cfg.log_level, "debug");
	/* untouched keys keep their defaults */
	assert_int_equal(cfg.port_pop3, 110);
}

static void test_parse_empty_and_last_wins(void **state)
{
	struct config cfg;
	unsigned line;
	const char *error;

	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, "", 0, &line, &error), 0);
	assert_int_equal(parse(&cfg, S("\n\n# c\n"), &line, &error), 0);
	assert_int_equal(line, 3);
	assert_int_equal(parse(&cfg, S("smtp.port = 1\nsmtp.port = 2\n"), &line, &error), 0);
	assert_int_equal(cfg.port_smtp, 2);
	/* 8-bit bytes are taken as they are */
	assert_int_equal(parse(&cfg, S("smtp.relayhost_user = \xe4\xbe\x8b\xe3\x81\x88.jp\n"), &line,
			       &error), 0);
	assert_string_equal(cfg.smtp_relayhost_user, "\xe4\xbe\x8b\xe3\x81\x88.jp");
	/* the ends are trimmed; a CR inside a value is refused like a line break */
	assert_int_equal(parse(&cfg, S("smtp.relayhost_user = ab\r\n"), &line, &error), 0);
	assert_string_equal(cfg.smtp_relayhost_user, "ab");
	assert_int_equal(parse(&cfg, S("smtp.relayhost_user = a\rb\r\n"), &line, &error), -1);
	assert_string_equal(error, "a value cannot contain a line break");
	/* a value may hold '=' and '#' */
	assert_int_equal(parse(&cfg, S("smtp.relayhost_user = a=b#c\n"), &line, &error), 0);
	assert_string_equal(cfg.smtp_relayhost_user, "a=b#c");
}

static void check_parse_fail(const char *text, size_t len, unsigned expected_line, const char *expected)
{
	struct config cfg;
	unsigned line;
	const char *error;

	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, text, len, &line, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected);
	assert_int_equal(line, expected_line);
}

static void test_parse_errors(void **state)
{
	check_parse_fail(S("hostname = x\n\njunk line\n"), 3, "expected `key = value`");
	check_parse_fail(S("= value\n"), 1, "expected `key = value`");
	check_parse_fail(S("  =\n"), 1, "expected `key = value`");
	check_parse_fail(S("# ok\nno.such = 1\n"), 2, "unknown setting");
	check_parse_fail(S("smtp.port = 25 # inline comments are not comments\n"), 1, "not a number");
	check_parse_fail(S("smtp.port = 70000\n"), 1, "out of range");
	check_parse_fail(S("log.level = loud\n"), 1, "must be debug, info, warn or error");
	check_parse_fail(S("hostname = a\0b\n"), 1, "NUL byte");
	check_parse_fail(S("# fine\n\0\n"), 2, "NUL byte");
	check_parse_fail(S("Hostname = x\n"), 1, "unknown setting");
}

static void test_parse_long_lines(void **state)
{
	char text[2100];
	struct config cfg;
	unsigned line;
	const char *error;

	/* a 1023-octet comment line is fine, 1024 is too long */
	memset(text, '#', sizeof(text));
	text[1023] = '\n';
	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, text, 1024, &line, &error), 0);
	text[1023] = '#';
	text[1024] = '\n';
	check_parse_fail(text, 1025, 1, "line too long");
	check_parse_fail(text, sizeof(text), 1, "line too long");
}

/* Sets key in text, checks the exact new text, and that it parses to value. */
static void check_text_set(const char *text, const char *key, const char *value, const char *expected)
{
	char *out = config_text_set(text, key, value);
	struct config cfg;
	unsigned line;
	const char *error;
	char buf[512];

	assert_non_null(out);
	assert_string_equal(out, expected);
	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, out, strlen(out), &line, &error), 0);
	get(&cfg, key, buf, sizeof(buf));
	assert_string_equal(buf, value);
	free(out);
}

static void test_text_set(void **state)
{
	/* replaced in place, comments and order kept */
	check_text_set("# top\nhostname = old.test\n# between\nsmtp.port = 25\n",
		       "hostname", "new.test",
		       "# top\nhostname = new.test\n# between\nsmtp.port = 25\n");
	check_text_set("  smtp.port=25  \nhostname = h\n", "smtp.port", "2525",
		       "smtp.port = 2525\nhostname = h\n");
	/* appended when missing */
	check_text_set("# only a comment\n", "pop3.port", "10110",
		       "# only a comment\npop3.port = 10110\n");
	check_text_set("", "hostname", "h.test", "hostname = h.test\n");
	/* a missing final newline is added */
	check_text_set("hostname = a", "smtp.port", "1", "hostname = a\nsmtp.port = 1\n");
	check_text_set("hostname = a", "hostname", "b", "hostname = b\n");
	/* a commented-out line is not the setting */
	check_text_set("# hostname = x\n", "hostname", "y", "# hostname = x\nhostname = y\n");
	/* a longer key that starts with the same text is another key */
	{
		char *out = config_text_set("smtp.portx = 1\n", "smtp.port", "2");
		assert_string_equal(out, "smtp.portx = 1\nsmtp.port = 2\n");
		free(out);
	}
}

static void test_text_set_duplicates(void **state)
{
	/* the file says the key twice (the last one wins when parsing): after
	 * a set, the new value must be the one in force */
	static const char text[] = "hostname = a.test\n# x\nhostname = b.test\nsmtp.port = 25\n";
	char *out = config_text_set(text, "hostname", "c.test");
	struct config cfg;
	unsigned line;
	const char *error;

	assert_non_null(out);
	settings_conf_defaults(&cfg);
	assert_int_equal(parse(&cfg, out, strlen(out), &line, &error), 0);
	assert_string_equal(cfg.hostname, "c.test");
	assert_int_equal(cfg.port_smtp, 25);
	assert_string_equal(out, "hostname = c.test\n# x\nsmtp.port = 25\n");
	free(out);
}

static void test_text_set_long_line_kept(void **state)
{
	char text[1200], *out;

	memset(text, '#', 1100);
	memcpy(text + 1100, "\nhostname = a\n", 15);
	out = config_text_set(text, "hostname", "b");
	assert_non_null(out);
	assert_int_equal(strlen(out), 1100 + 1 + 13);
	assert_memory_equal(out, text, 1101);
	assert_string_equal(out + 1101, "hostname = b\n");
	free(out);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/yubin-test-config-XXXXXX", path[256], err[512];
	struct config cfg;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/yubin.conf", dir);
	assert_int_equal(settings_conf_load(&cfg, path, err, sizeof(err)), -1);
	{
		char expected[512];
		snprintf(expected, sizeof(expected), "%s: No such file or directory", path);
		assert_string_equal(err, expected);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hostname = loaded.test\nsmtp.port = 12525\n", f);
	fclose(f);
	assert_int_equal(settings_conf_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.hostname, "loaded.test");
	assert_int_equal(cfg.port_smtp, 12525);
	assert_int_equal(cfg.port_pop3, 110);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hostname = x\n\nsmtp.port = many\n", f);
	fclose(f);
	assert_int_equal(settings_conf_load(&cfg, path, err, sizeof(err)), -1);
	{
		char expected[512];
		snprintf(expected, sizeof(expected), "%s line 3: not a number", path);
		assert_string_equal(err, expected);
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key_round_trips),
		cmocka_unit_test(test_set_numbers),
		cmocka_unit_test(test_set_sizes),
		cmocka_unit_test(test_set_strings),
		cmocka_unit_test(test_set_log_level),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_empty_and_last_wins),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_long_lines),
		cmocka_unit_test(test_text_set),
		cmocka_unit_test(test_text_set_duplicates),
		cmocka_unit_test(test_text_set_long_line_kept),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
