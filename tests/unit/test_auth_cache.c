// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_cache.h"

static const uint8_t secret[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_auth_cache_siphash_reference_vectors(void **state)
{
	uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	uint8_t msg[15], out[16];
	char text[33];

	(void)state;
	/* SipHash-2-4-128's reference vectors (key 00..0f, message 00..n-1) */
	auth_cache__siphash128(k, "", 0, out);
	hex(out, 16, text);
	assert_string_equal(text, "a3817f04ba25a8e66df67214c7550293");
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	auth_cache__siphash128(k, msg, 15, out);
	hex(out, 16, text);
	assert_string_equal(text, "5493e99933b0a8117e08ec0f97cfc3d9");
}

static void test_auth_cache_key_separates_fields_and_secrets(void **state)
{
	struct auth_cache a, b;
	uint8_t k1[16], k2[16], k3[16];
	uint8_t other[16];

	(void)state;
	auth_cache__init(&a, secret);
	memcpy(other, secret, sizeof(other));
	other[15] ^= 1;
	auth_cache__init(&b, other);
	/* the same bytes split otherwise between user, password and hash */
	auth_cache__key(&a, "ab", "c", "$2y$h", k1);
	auth_cache__key(&a, "a", "bc", "$2y$h", k2);
	assert_memory_not_equal(k1, k2, 16);
	auth_cache__key(&a, "ab", "c$2y$h", "", k2);
	assert_memory_not_equal(k1, k2, 16);
	/* deterministic under one secret, unrelated under another */
	auth_cache__key(&a, "ab", "c", "$2y$h", k2);
	assert_memory_equal(k1, k2, 16);
	auth_cache__key(&b, "ab", "c", "$2y$h", k3);
	assert_memory_not_equal(k1, k3, 16);
}

static void test_auth_cache_hit_needs_user_password_and_hash(void **state)
{
	struct auth_cache c;
	uint8_t good[16], k[16];

	(void)state;
	auth_cache__init(&c, secret);
	auth_cache__key(&c, "prom", "s3cret", "$2y$10$one", good);
	assert_int_equal(auth_cache__lookup(&c, good), AUTH_CACHE_MISS);
	auth_cache__store(&c, good, true);
	assert_int_equal(auth_cache__lookup(&c, good), AUTH_CACHE_GOOD_PAIR);
	/* a wrong password, another user, a changed hash: never the good entry */
	auth_cache__key(&c, "prom", "s3cres", "$2y$10$one", k);
	assert_int_equal(auth_cache__lookup(&c, k), AUTH_CACHE_MISS);
	auth_cache__key(&c, "other", "s3cret", "$2y$10$one", k);
	assert_int_equal(auth_cache__lookup(&c, k), AUTH_CACHE_MISS);
	auth_cache__key(&c, "prom", "s3cret", "$2y$10$two", k);
	assert_int_equal(auth_cache__lookup(&c, k), AUTH_CACHE_MISS);
	/* a refused pair is remembered as refused */
	auth_cache__key(&c, "prom", "s3cres", "$2y$10$one", k);
	auth_cache__store(&c, k, false);
	assert_int_equal(auth_cache__lookup(&c, k), AUTH_CACHE_BAD_PAIR);
	assert_int_equal(auth_cache__lookup(&c, good), AUTH_CACHE_GOOD_PAIR);
}

static void test_auth_cache_wrong_password_flood_keeps_good_pairs(void **state)
{
	struct auth_cache c;
	uint8_t good[16], first_bad[16], k[16];
	char pass[32];

	(void)state;
	auth_cache__init(&c, secret);
	auth_cache__key(&c, "prom", "s3cret", "$2y$10$one", good);
	auth_cache__store(&c, good, true);
	auth_cache__key(&c, "prom", "wrong-0", "$2y$10$one", first_bad);
	for (int i = 0; i < 10 * AUTH_CACHE_BAD; i++) {
		snprintf(pass, sizeof(pass), "wrong-%d", i);
		auth_cache__key(&c, "prom", pass, "$2y$10$one", k);
		auth_cache__store(&c, k, false);
	}
	assert_int_equal(auth_cache__lookup(&c, good), AUTH_CACHE_GOOD_PAIR);
	/* bounded: the oldest refusals went */
	assert_int_equal(auth_cache__lookup(&c, first_bad), AUTH_CACHE_MISS);
	assert_int_equal(auth_cache__lookup(&c, k), AUTH_CACHE_BAD_PAIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auth_cache_siphash_reference_vectors),
	    cmocka_unit_test(test_auth_cache_key_separates_fields_and_secrets),
	    cmocka_unit_test(test_auth_cache_hit_needs_user_password_and_hash),
	    cmocka_unit_test(test_auth_cache_wrong_password_flood_keeps_good_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
