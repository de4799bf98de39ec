// SPDX-License-Identifier: GPL-2.0
/* The basic-auth result cache (see auth_cache.h). */
#include <string.h>

#include "auth_cache.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* SipHash-2-4, 128-bit output, fed in pieces. */
struct sip {
	uint64_t v0, v1, v2, v3;
	uint8_t tail[8];
	size_t len; /* bytes fed so far */
};

static void sip__block(struct sip *s, uint64_t m)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	s->v0 = v0, s->v1 = v1, s->v2 = v2, s->v3 = v3;
}

static void sip__init(struct sip *s, const uint64_t secret[2])
{
	s->v0 = secret[0] ^ 0x736f6d6570736575ULL;
	s->v1 = secret[1] ^ 0x646f72616e646f6dULL ^ 0xee;
	s->v2 = secret[0] ^ 0x6c7967656e657261ULL;
	s->v3 = secret[1] ^ 0x7465646279746573ULL;
	s->len = 0;
}

static void sip__feed(struct sip *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		s->tail[s->len % 8] = p[i];
		if (++s->len % 8 == 0)
			sip__block(s, load_le64(s->tail));
	}
}

static void sip__final(struct sip *s, uint8_t out[16])
{
	uint64_t b = (uint64_t)s->len << 56, v0, v1, v2, v3;

	for (size_t i = 0; i < s->len % 8; i++)
		b |= (uint64_t)s->tail[i] << (8 * i);
	sip__block(s, b);
	v0 = s->v0, v1 = s->v1, v2 = s->v2 ^ 0xee, v3 = s->v3;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	store_le64(out, v0 ^ v1 ^ v2 ^ v3);
	v1 ^= 0xdd;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	store_le64(out + 8, v0 ^ v1 ^ v2 ^ v3);
	memset(s, 0, sizeof(*s));
}

void auth_cache__siphash128(const uint64_t secret[2], const void *data, size_t len, uint8_t out[16])
{
	struct sip s;

	sip__init(&s, secret);
	sip__feed(&s, data, len);
	sip__final(&s, out);
}

void auth_cache__init(struct auth_cache *c, const uint8_t secret[16])
{
	memset(c, 0, sizeof(*c));
	c->secret[0] = load_le64(secret);
	c->secret[1] = load_le64(secret + 8);
}

/* A field as its length (8 bytes, little-endian), then its bytes: injective. */
static void sip__field(struct sip *s, const char *text)
{
	size_t len = strlen(text);
	uint8_t n[8];

	store_le64(n, (uint64_t)len);
	sip__feed(s, n, sizeof(n));
	sip__feed(s, text, len);
}

void auth_cache__key(const struct auth_cache *c, const char *user, const char *pass,
		     const char *hash, uint8_t key[AUTH_CACHE_KEY_LEN])
{
	struct sip s;

	sip__init(&s, c->secret);
	sip__field(&s, user);
	sip__field(&s, pass);
	sip__field(&s, hash);
	sip__final(&s, key);
}

static bool in(const struct auth_cache_entry *e, unsigned int n, const uint8_t *key)
{
	unsigned char diff;
	bool hit = false;

	for (unsigned int i = 0; i < n; i++) {
		diff = 0;
		for (unsigned int j = 0; j < AUTH_CACHE_KEY_LEN; j++)
			diff |= e[i].key[j] ^ key[j];
		hit |= e[i].used && !diff;
	}
	return hit;
}

enum auth_cache_result auth_cache__lookup(const struct auth_cache *c,
					  const uint8_t key[AUTH_CACHE_KEY_LEN])
{
	if (in(c->good, AUTH_CACHE_GOOD, key))
		return AUTH_CACHE_GOOD_PAIR;
	if (in(c->bad, AUTH_CACHE_BAD, key))
		return AUTH_CACHE_BAD_PAIR;
	return AUTH_CACHE_MISS;
}

void auth_cache__store(struct auth_cache *c, const uint8_t key[AUTH_CACHE_KEY_LEN], bool good)
{
	struct auth_cache_entry *e = good ? &c->good[c->good_next] : &c->bad[c->bad_next];

	if (auth_cache__lookup(c, key) != AUTH_CACHE_MISS)
		return;
	memcpy(e->key, key, AUTH_CACHE_KEY_LEN);
	e->used = true;
	if (good)
		c->good_next = (c->good_next + 1) % AUTH_CACHE_GOOD;
	else
		c->bad_next = (c->bad_next + 1) % AUTH_CACHE_BAD;
}
