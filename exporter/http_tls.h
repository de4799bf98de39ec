/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The served web config (internal to the HTTP server): reading the web-config file and
 * the PEM files it names, checking them with GnuTLS, watching those files for a reload,
 * and the TLS handshake's side: the server certificate and the client-certificate policy.
 */
#ifndef TOOLWATCH_HTTP_TLS_H
#define TOOLWATCH_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

#include "http_internal.h"

struct MHD_Connection;

/*
 * Reads and checks the web config at path and, with TLS, its certificate, key and client
 * CA (which GnuTLS must accept, as a daemon's start would otherwise fail later). A NULL or
 * empty path gives an empty config: plain HTTP, no auth. NULL on failure with one line in
 * why naming the file and the key at fault.
 */
struct served *served__load(const char *path, char *why, size_t why_size);
/* Frees s and the PEM and GnuTLS objects it holds; NULL-safe. */
void served__free(struct served *s);

/*
 * Fills ids[WATCHED_FILES] with the identity (device, inode, size, mtime) of the config
 * file and of the cert, key and client CA that c names (c may be NULL); a missing file is
 * marked not present.
 */
void file_ids__get(const char *config, const struct webconfig *c, struct file_id *ids);
/* True when a and b are the same file, unchanged (or both absent). */
bool file_id__same(const struct file_id *a, const struct file_id *b);

/*
 * Makes srv the server whose served config tls__retrieve_cert() hands out: GnuTLS gives
 * the callback no user pointer, so there is one such server per process.
 */
void tls__set_server(struct http_server *srv);
/* Forgets srv if it is the server tls__retrieve_cert() serves; no handshake may follow. */
void tls__unset_server(struct http_server *srv);
/*
 * GnuTLS's certificate callback (MHD_OPTION_HTTPS_CERT_CALLBACK), called as it picks the
 * server certificate and before it asks for the client's: hands out the served chain and
 * key, and there makes a required client certificate a condition of the handshake itself
 * and switches on verification against client_ca_file. 0, or -1 without a certificate.
 */
int tls__retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);
/*
 * The client-certificate policy of sv past what the handshake enforces (presence,
 * verification, client_allowed_sans: DNS, IP, email, URI); false: the connection is to be
 * closed unanswered.
 */
bool tls__client_cert_ok(struct MHD_Connection *conn, const struct served *sv);

#endif /* TOOLWATCH_HTTP_TLS_H */
