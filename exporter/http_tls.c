// SPDX-License-Identifier: GPL-2.0
/*
 * The served web config: the file and the PEM it names read and checked with GnuTLS, the
 * identity of those files (so a reload notices a change), and the handshake's side of it:
 * the certificate handed out, and the client-certificate policy past the handshake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "http_internal.h"
#include "http_limits.h"
#include "http_tls.h"
#include "lib/file.h"

/* A config or PEM file, whole: NULL with *err an errno when it cannot be read. */
static char *read_file(const char *path, size_t max, size_t *len, int *err)
{
	char *text;

	*err = -file__read(path, max, FILE_REGULAR, &text, len);
	return text;
}

void served__free(struct served *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nr_pcerts; i++)
		gnutls_pcert_deinit(&s->pcerts[i]);
	if (s->pkey)
		gnutls_privkey_deinit(s->pkey);
	free(s->cert);
	free(s->key);
	free(s->ca);
	free(s);
}

static void file_id__get(struct file_id *id, const char *path)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (!path || !path[0] || stat(path, &st))
		return;
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

bool file_id__same(const struct file_id *a, const struct file_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

void file_ids__get(const char *config, const struct webconfig *c, struct file_id *ids)
{
	file_id__get(&ids[0], config);
	file_id__get(&ids[1], c ? c->cert_file : NULL);
	file_id__get(&ids[2], c ? c->key_file : NULL);
	file_id__get(&ids[3], c ? c->client_ca_file : NULL);
}

struct served *served__load(const char *path, char *why, size_t n)
{
	struct served *s = calloc(1, sizeof(*s));
	gnutls_certificate_credentials_t cred = NULL;
	struct file_id before, after;
	gnutls_datum_t cd, kd;
	char key_why[512];
	size_t len = 0;
	char *text;
	int err = 0, ret;

	if (!s) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	s->refs = 1;
	if (!path || !path[0])
		return s;
	/* a file being written is read again later: its size and mtime must hold still */
	file_id__get(&before, path);
	text = read_file(path, WEBCONFIG_FILE_MAX, &len, &err);
	if (!text) {
		snprintf(why, n, "cannot read web config '%s': %s", path, strerror(err));
		goto fail;
	}
	file_id__get(&after, path);
	if (!file_id__same(&before, &after) || (off_t)len != after.size) {
		free(text);
		snprintf(why, n, "web config '%s' changed while read", path);
		err = EAGAIN;
		goto fail;
	}
	err = webconfig__parse(&s->cfg, path, text, len, key_why, sizeof(key_why));
	free(text);
	if (err) {
		snprintf(why, n, "bad web config '%s': %s", path, key_why);
		goto fail;
	}
	if (!s->cfg.tls)
		return s;
	if (webconfig__tls_priorities(&s->cfg, s->priorities, sizeof(s->priorities))) {
		snprintf(why, n, "bad web config '%s': tls_server_config.cipher_suites: too many",
			 path);
		goto fail;
	} else {
		gnutls_priority_t prio;
		const char *at = NULL;

		ret = gnutls_priority_init(&prio, s->priorities, &at);
		if (ret < 0) {
			snprintf(why, n,
				 "bad web config '%s': tls_server_config.cipher_suites/min_version/"
				 "max_version: GnuTLS refuses '%s': %s",
				 path, s->priorities, gnutls_strerror(ret));
			goto fail;
		}
		gnutls_priority_deinit(prio);
	}
#define LOAD_PEM(field, file, key)                                                                 \
	do {                                                                                       \
		s->field = read_file(s->cfg.file, 1 << 20, &len, &err);                            \
		if (!s->field) {                                                                   \
			snprintf(why, n, "bad web config '%s': %s: cannot read '%s': %s", path,    \
				 key, s->cfg.file, strerror(err));                                 \
			goto fail;                                                                 \
		}                                                                                  \
	} while (0)
	LOAD_PEM(cert, cert_file, "tls_server_config.cert_file");
	LOAD_PEM(key, key_file, "tls_server_config.key_file");
	if (s->cfg.client_ca_file[0] && s->cfg.client_auth != WEBCONFIG_NO_CLIENT_CERT)
		LOAD_PEM(ca, client_ca_file, "tls_server_config.client_ca_file");
#undef LOAD_PEM
	/* a pair GnuTLS refuses now would fail the daemon's start later */
	cd = (gnutls_datum_t){(unsigned char *)s->cert, (unsigned int)strlen(s->cert)};
	kd = (gnutls_datum_t){(unsigned char *)s->key, (unsigned int)strlen(s->key)};
	if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
		snprintf(why, n, "out of memory");
		goto fail;
	}
	ret = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	if (ret >= 0 && s->ca) {
		gnutls_datum_t ad = {(unsigned char *)s->ca, (unsigned int)strlen(s->ca)};

		ret = gnutls_certificate_set_x509_trust_mem(cred, &ad, GNUTLS_X509_FMT_PEM);
		if (ret == 0)
			ret = GNUTLS_E_NO_CERTIFICATE_FOUND;
		if (ret < 0) {
			snprintf(why, n,
				 "bad web config '%s': tls_server_config.client_ca_file: "
				 "'%s': %s",
				 path, s->cfg.client_ca_file, gnutls_strerror(ret));
			gnutls_certificate_free_credentials(cred);
			goto fail;
		}
	}
	gnutls_certificate_free_credentials(cred);
	if (ret < 0) {
		snprintf(why, n, "bad web config '%s': tls_server_config.cert_file/key_file: %s",
			 path, gnutls_strerror(ret));
		goto fail;
	}
	s->nr_pcerts = PCERTS_MAX;
	ret = gnutls_pcert_list_import_x509_raw(s->pcerts, &s->nr_pcerts, &cd, GNUTLS_X509_FMT_PEM,
						0);
	if (ret < 0)
		s->nr_pcerts = 0;
	if (ret >= 0)
		ret = gnutls_privkey_init(&s->pkey);
	if (ret >= 0)
		ret = gnutls_privkey_import_x509_raw(s->pkey, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0) {
		snprintf(why, n, "bad web config '%s': tls_server_config.cert_file/key_file: %s",
			 path, gnutls_strerror(ret));
		goto fail;
	}
	return s;
fail:
	served__free(s);
	errno = err == EAGAIN ? EAGAIN : EINVAL;
	return NULL;
}

/* ---- the handshake ---- */

/* the one server whose certificates the handshake callback hands out (GnuTLS gives it no
 * user pointer) */
static struct http_server *tls_server;

void tls__set_server(struct http_server *srv)
{
	tls_server = srv;
}

void tls__unset_server(struct http_server *srv)
{
	if (tls_server == srv)
		tls_server = NULL;
}

int tls__retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct http_server *srv = tls_server;
	const struct daemon_ref *ref;
	struct served *sv;
	int ret;

	if (!srv)
		return -1;
	/* the connection's daemon, by its socket: each daemon hands out the chain and the
	 * client-certificate policy of the config it was started with */
	ref = limits__daemon_of_socket(srv, gnutls_transport_get_int(session));
	pthread_rwlock_rdlock(&srv->served_lock);
	sv = ref ? ref->sv : NULL;
	if (!sv || !sv->cfg.tls) {
		pthread_rwlock_unlock(&srv->served_lock);
		return -1;
	}
	if (sv->ca) {
		gnutls_certificate_server_set_request(
		    session, webconfig__requires_client_cert(&sv->cfg) ? GNUTLS_CERT_REQUIRE
								       : GNUTLS_CERT_REQUEST);
		if (webconfig__verifies_clients(&sv->cfg))
			gnutls_session_set_verify_cert(session, NULL, 0);
	}
	*pcert = sv->pcerts;
	*pcert_length = sv->nr_pcerts;
	*pkey = sv->pkey;
	ret = sv->nr_pcerts ? 0 : -1;
	pthread_rwlock_unlock(&srv->served_lock);
	return ret;
}

/* True when the client certificate names one of client_allowed_sans (DNS, IP, email, URI). */
static bool san_allowed(const gnutls_datum_t *der, const struct served *sv)
{
	gnutls_x509_crt_t crt;
	bool ok = false;

	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	for (unsigned int seq = 0; !ok; seq++) {
		char san[256], text[INET6_ADDRSTRLEN];
		size_t size = sizeof(san) - 1;
		const char *name = san;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, san, &size, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type < 0)
			continue;
		if (type == GNUTLS_SAN_IPADDRESS) {
			if (!inet_ntop(size == 16 ? AF_INET6 : AF_INET, san, text, sizeof(text)))
				continue;
			name = text;
		} else {
			/* a name with a NUL in it would otherwise match the part before the NUL */
			if (memchr(san, '\0', size))
				continue;
			san[size] = '\0';
		}
		for (unsigned int i = 0; i < sv->cfg.nr_client_allowed_sans && !ok; i++)
			ok = !strcmp(name, sv->cfg.client_allowed_sans[i]);
	}
out:
	gnutls_x509_crt_deinit(crt);
	return ok;
}

bool tls__client_cert_ok(struct MHD_Connection *conn, const struct served *sv)
{
	const union MHD_ConnectionInfo *info;
	unsigned int status = 0, npeers = 0;

	if (!sv->cfg.tls || sv->cfg.client_auth == WEBCONFIG_NO_CLIENT_CERT ||
	    sv->cfg.client_auth == WEBCONFIG_REQUEST_CLIENT_CERT)
		return true;
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!info || !info->tls_session)
		return false;
	if (!gnutls_certificate_get_peers(info->tls_session, &npeers))
		npeers = 0;
	if (!npeers)
		return !webconfig__requires_client_cert(&sv->cfg);
	if (webconfig__verifies_clients(&sv->cfg) &&
	    (gnutls_certificate_verify_peers2(info->tls_session, &status) || status))
		return false;
	return !sv->cfg.nr_client_allowed_sans ||
	       san_allowed(gnutls_certificate_get_peers(info->tls_session, &npeers), sv);
}
