/* Unit tests for src/directory/password.c: argon2id hashing and
 * verification, and crypt(3) hashes accepted on import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/password.h"

/* Made with `openssl passwd -6 -salt yubinsalt` and `-5`, `-1`: another
 * implementation than the one that checks them. */
#define PW "Imported-pw-42"
#define SHA512 "$6$yubinsalt$PjGeBvtJUtrp0CRXpradMwxAYCDG60r/SLZZzz2AVAgTJgCorsOIzQT.1OcKdiBkyIfLOwgaG8JM1Pvw9dlkA."
#define SHA256 "$5$yubinsalt$Xf6r3k4Lqf.fTcAmps6pYO08oIDtm1RAFzKVtfBe.d5"
#define MD5 "$1$yubin$MnHl6xKt7yKvJ8BIlc.9j/"

static int setup(void **state)
{
	return password_init();
}

static void test_argon2id(void **state)
{
	char h1[256], h2[256];

	assert_int_equal(password_hash("Correct-Horse-9", h1, sizeof(h1)), 0);
	assert_memory_equal(h1, "$argon2id$", 10);
	assert_true(password_hash_is_known(h1));
	assert_true(password_verify(h1, "Correct-Horse-9"));
	assert_false(password_verify(h1, "correct-Horse-9"));
	assert_false(password_verify(h1, "Correct-Horse-"));
	assert_false(password_verify(h1, ""));
	/* a fresh salt each time */
	assert_int_equal(password_hash("Correct-Horse-9", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_true(password_verify(h2, "Correct-Horse-9"));
	/* a damaged hash verifies nothing */
	h1[strlen(h1) - 2] ^= 1;
	assert_false(password_verify(h1, "Correct-Horse-9"));
}

static void test_hash_buffer_too_small(void **state)
{
	char h[127];

	assert_int_equal(password_hash("Correct-Horse-9", h, sizeof(h)), -1);
}

static void test_crypt_sha512(void **state)
{
	assert_true(password_hash_is_known(SHA512));
	assert_true(password_verify(SHA512, PW));
	assert_false(password_verify(SHA512, "imported-pw-42"));
	assert_false(password_verify(SHA512, PW "x"));
	assert_false(password_verify(SHA512, ""));
}

static void test_crypt_sha256(void **state)
{
	assert_true(password_verify(SHA256, PW));
	assert_false(password_verify(SHA256, "Imported-pw-43"));
}

static void test_unknown_hashes(void **state)
{
	/* MD5-crypt is correct here but not accepted */
	assert_false(password_hash_is_known(MD5));
	assert_false(password_verify(MD5, PW));
	assert_false(password_hash_is_known(""));
	assert_false(password_verify("", ""));
	assert_false(password_hash_is_known(PW));
	assert_false(password_verify(PW, PW));
	assert_false(password_hash_is_known("$argon2i$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"));
	/* a known prefix with a broken body */
	assert_false(password_verify("$6$", PW));
	assert_false(password_verify("$6$yubinsalt$", PW));
	assert_false(password_verify("$argon2id$garbage", PW));
	assert_false(password_verify("$2b$05$tooshort", PW));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argon2id),
		cmocka_unit_test(test_hash_buffer_too_small),
		cmocka_unit_test(test_crypt_sha512),
		cmocka_unit_test(test_crypt_sha256),
		cmocka_unit_test(test_unknown_hashes),
	};

	return cmocka_run_group_tests_name("password", tests, setup, NULL);
}
