// SPDX-License-Identifier: GPL-2.0
/* Basic auth: a password checked against its bcrypt hash, each good pair verified once. */
#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http_auth.h"
#include "http_internal.h"

static bool same_string(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return !diff;
}

/* bcrypt costs ~50 ms: a pair verified once is remembered by its digest, never in clear */
bool auth__credentials_ok(struct http_server *srv, const char *hash, const char *user,
			  const char *pass)
{
	unsigned char digest[32];
	struct crypt_data *cd;
	gnutls_hash_hd_t h;
	const char *r;
	bool ok;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return false;
	gnutls_hash(h, user, strlen(user) + 1);
	gnutls_hash(h, pass, strlen(pass) + 1);
	gnutls_hash(h, hash, strlen(hash) + 1);
	gnutls_hash_deinit(h, digest);
	pthread_mutex_lock(&srv->auth_lock);
	for (unsigned int i = 0; i < AUTH_CACHE_SIZE; i++) {
		if (srv->auth[i].used && !memcmp(srv->auth[i].digest, digest, sizeof(digest))) {
			pthread_mutex_unlock(&srv->auth_lock);
			return true;
		}
	}
	pthread_mutex_unlock(&srv->auth_lock);
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	r = crypt_r(pass, hash, cd);
	ok = r && r[0] != '*' && same_string(r, hash);
	free(cd);
	if (!ok)
		return false;
	pthread_mutex_lock(&srv->auth_lock);
	memcpy(srv->auth[srv->auth_next].digest, digest, sizeof(digest));
	srv->auth[srv->auth_next].used = true;
	srv->auth_next = (srv->auth_next + 1) % AUTH_CACHE_SIZE;
	pthread_mutex_unlock(&srv->auth_lock);
	return true;
}

void auth__forget(struct http_server *srv)
{
	pthread_mutex_lock(&srv->auth_lock);
	memset(srv->auth, 0, sizeof(srv->auth));
	pthread_mutex_unlock(&srv->auth_lock);
}
