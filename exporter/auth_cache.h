/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The basic-auth result cache, pure: credentials are remembered by a keyed hash (SipHash-
 * 2-4, 128-bit output, a random key per process) of user, password and the bcrypt hash
 * they were checked against, never in clear. Verified and refused pairs are kept apart,
 * so a flood of wrong passwords never evicts a good one.
 */
#ifndef TOOLWATCH_AUTH_CACHE_H
#define TOOLWATCH_AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_CACHE_KEY_LEN 16
#define AUTH_CACHE_GOOD	   16  /* verified pairs kept */
#define AUTH_CACHE_BAD	   256 /* refused pairs kept */

enum auth_cache_result {
	AUTH_CACHE_MISS,
	AUTH_CACHE_GOOD_PAIR, /* verified under that hash */
	AUTH_CACHE_BAD_PAIR,  /* refused under that hash (or an unknown user) */
};

struct auth_cache_entry {
	uint8_t key[AUTH_CACHE_KEY_LEN];
	bool used;
};

struct auth_cache {
	uint64_t secret[2]; /* the SipHash key */
	struct auth_cache_entry good[AUTH_CACHE_GOOD], bad[AUTH_CACHE_BAD];
	unsigned int good_next, bad_next;
};

/* Empties c and sets its secret key (16 bytes, random in the server). */
void auth_cache__init(struct auth_cache *c, const uint8_t secret[16]);

/*
 * The cache key of user, pass and hash (hash "" for a user the config does not know): a
 * keyed hash of the three, each length-prefixed, so distinct triples give distinct
 * inputs and nobody without the secret can find two triples with one key.
 */
void auth_cache__key(const struct auth_cache *c, const char *user, const char *pass,
		     const char *hash, uint8_t key[AUTH_CACHE_KEY_LEN]);

/* What c remembers of key. */
enum auth_cache_result auth_cache__lookup(const struct auth_cache *c,
					  const uint8_t key[AUTH_CACHE_KEY_LEN]);

/* Remembers key as verified (good) or refused, replacing the oldest of its kind. */
void auth_cache__store(struct auth_cache *c, const uint8_t key[AUTH_CACHE_KEY_LEN], bool good);

/* SipHash-2-4 with a 128-bit output of data under secret (exposed for its test). */
void auth_cache__siphash128(const uint64_t secret[2], const void *data, size_t len,
			    uint8_t out[16]);

#endif /* TOOLWATCH_AUTH_CACHE_H */
