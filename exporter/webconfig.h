/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter-toolkit web configuration file (--web.config.file): TLS, client
 * certificates, bcrypt basic auth and response headers, parsed from YAML (libyaml) into a
 * plain struct and validated; plus the small HTTP decisions the server makes per request
 * (gzip, a header's tokens). Pure: no sockets, no TLS, no file other than the config.
 */
#ifndef TOOLWATCH_WEBCONFIG_H
#define TOOLWATCH_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

#define WEBCONFIG_PATH_MAX    4096
#define WEBCONFIG_USERS_MAX   64
#define WEBCONFIG_HEADERS_MAX 8
#define WEBCONFIG_LIST_MAX    32
#define WEBCONFIG_FILE_MAX    (1 << 20) /* bigger files are refused */
/*
 * The one key of ours (exporter-toolkit has no such key): `true` lets a reload turn off
 * TLS, basic auth or a required client certificate that the running config has.
 */
#define WEBCONFIG_ALLOW_DOWNGRADE "allow_downgrade"

/* exporter-toolkit's client_auth_type values, in its order */
enum webconfig_client_auth {
	WEBCONFIG_NO_CLIENT_CERT,
	WEBCONFIG_REQUEST_CLIENT_CERT,
	WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,
	WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

/* TLS protocol versions, as min_version/max_version name them (TLS10..TLS13) */
enum webconfig_tls_version {
	WEBCONFIG_TLS_ANY,
	WEBCONFIG_TLS10,
	WEBCONFIG_TLS11,
	WEBCONFIG_TLS12,
	WEBCONFIG_TLS13
};

struct webconfig_user {
	char name[256];
	char hash[128]; /* bcrypt: $2a$, $2b$ or $2y$ */
};

struct webconfig_header {
	char name[64];
	char value[1024];
};

struct webconfig {
	bool tls;			    /* tls_server_config with a certificate */
	char cert_file[WEBCONFIG_PATH_MAX]; /* absolute, or relative to the config's directory */
	char key_file[WEBCONFIG_PATH_MAX];
	char client_ca_file[WEBCONFIG_PATH_MAX]; /* "" none */
	enum webconfig_client_auth client_auth;
	enum webconfig_tls_version min_version, max_version;
	char cipher_suites[WEBCONFIG_LIST_MAX][64]; /* Go names, as given */
	unsigned int nr_cipher_suites;
	char client_allowed_sans[WEBCONFIG_LIST_MAX][256];
	unsigned int nr_client_allowed_sans;
	struct webconfig_user users[WEBCONFIG_USERS_MAX];
	unsigned int nr_users;
	struct webconfig_header headers[WEBCONFIG_HEADERS_MAX];
	unsigned int nr_headers;
	bool allow_downgrade; /* WEBCONFIG_ALLOW_DOWNGRADE: true */
};

/*
 * What a reload from running to next would turn off, as "TLS", "basic auth" or "client
 * certificates" (the first one found); NULL when next keeps them all.
 */
const char *webconfig__downgrade(const struct webconfig *running, const struct webconfig *next);

/*
 * Parses the YAML text (len bytes) of a web config file named path (for relative file
 * names, which are taken relative to its directory) into c. Returns 0, or -EINVAL with one
 * line in why naming the key ("tls_server_config.client_auth_type: want one of ...").
 * An empty document is a valid config: plain HTTP, no auth (a reload refuses it over a
 * config with either: webconfig__downgrade()). Unknown keys are refused, as
 * exporter-toolkit does, but for WEBCONFIG_ALLOW_DOWNGRADE.
 */
int webconfig__parse(struct webconfig *c, const char *path, const char *text, size_t len, char *why,
		     size_t why_size);

/* The user's bcrypt hash, or NULL when there is no such user. */
const char *webconfig__user_hash(const struct webconfig *c, const char *user);

/* True when the config asks for client certificates to be verified against client_ca_file. */
bool webconfig__verifies_clients(const struct webconfig *c);
/* True when a client without a certificate is refused. */
bool webconfig__requires_client_cert(const struct webconfig *c);

/*
 * The GnuTLS priority string for the config's min/max versions (and NORMAL otherwise),
 * e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2". Returns 0, or -EINVAL when min >
 * max.
 */
int webconfig__tls_priorities(const struct webconfig *c, char *out, size_t out_size);

/*
 * True when an Accept-Encoding header value accepts gzip: "gzip" or "*" listed with a q
 * that is not 0 (case-insensitive, RFC 9110 weights); NULL accepts nothing.
 */
bool http_accepts_gzip(const char *accept_encoding);

/*
 * Compresses in[0..len) into out as one gzip member (level 1: a scrape is latency
 * sensitive; GZIP_MEM_LEVEL), in memory of the body's size (out->cap is out->len + 1).
 * Returns 0, or -ENOMEM (out->oom set).
 */
int http_gzip(const void *in, size_t len, struct strbuf *out);

#endif /* TOOLWATCH_WEBCONFIG_H */
