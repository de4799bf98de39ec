// SPDX-License-Identifier: GPL-2.0
/* Basic auth: bcrypt on a thread of its own, verdicts cached by a keyed hash. */
#include <crypt.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "http_auth.h"
#include "http_internal.h"
#include "http_limits.h"

static bool same_string(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return !diff;
}

static void client_of(struct MHD_Connection *conn, struct auth_job *job)
{
	const union MHD_ConnectionInfo *peer =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = peer ? peer->client_addr : NULL;

	job->client_len = 0;
	if (sa && sa->sa_family == AF_INET) {
		memcpy(job->client, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		job->client_len = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(job->client, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		job->client_len = 16;
	}
}

/* Jobs of job's client address queued or being hashed. Under auth_lock. */
static unsigned int pending_of(const struct http_server *srv, const struct auth_job *job)
{
	unsigned int n = 0;

	for (const struct auth_job *j = srv->auth_queue; j; j = j->next)
		n += j->client_len == job->client_len &&
		     !memcmp(j->client, job->client, j->client_len);
	if (srv->auth_current && srv->auth_current->client_len == job->client_len &&
	    !memcmp(srv->auth_current->client, job->client, job->client_len))
		n++;
	return n;
}

static void *auth_worker(void *arg)
{
	struct http_server *srv = arg;
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	pthread_mutex_lock(&srv->auth_lock);
	for (;;) {
		struct auth_job *job;
		const char *r;
		bool ok;

		while (!srv->auth_queue && !srv->auth_stopping)
			pthread_cond_wait(&srv->auth_wake, &srv->auth_lock);
		if (!srv->auth_queue)
			break;
		job = srv->auth_queue;
		srv->auth_queue = job->next;
		srv->auth_queued--;
		srv->auth_current = job;
		pthread_mutex_unlock(&srv->auth_lock);

		/* an unknown user's password is hashed against a known user's hash all the same */
		r = cd ? crypt_r(job->pass, job->hash, cd) : NULL;
		ok = job->known && r && r[0] != '*' && same_string(r, job->hash);
		explicit_bzero(job->pass, sizeof(job->pass));

		pthread_mutex_lock(&srv->auth_lock);
		if (r) /* no memory is no verdict: not cached */
			auth_cache__store(&srv->auth_cache, job->key, ok);
		job->ok = ok;
		job->done = true;
		job->queued = false;
		MHD_resume_connection(job->conn);
		srv->auth_current = NULL;
		pthread_cond_broadcast(&srv->auth_idle);
	}
	pthread_mutex_unlock(&srv->auth_lock);
	free(cd);
	return NULL;
}

int auth__start(struct http_server *srv, char *why, size_t n)
{
	uint8_t secret[16];

	if (getrandom(secret, sizeof(secret), 0) != sizeof(secret)) {
		snprintf(why, n, "cannot draw a random key: %s", strerror(errno));
		return -EIO;
	}
	auth_cache__init(&srv->auth_cache, secret);
	explicit_bzero(secret, sizeof(secret));
	if (pthread_create(&srv->auth_thread, NULL, auth_worker, srv)) {
		snprintf(why, n, "cannot start the HTTP auth thread");
		return -EAGAIN;
	}
	srv->auth_running = true;
	return 0;
}

void auth__stop(struct http_server *srv)
{
	if (!srv->auth_running)
		return;
	auth__cancel(srv, NULL);
	pthread_mutex_lock(&srv->auth_lock);
	srv->auth_stopping = true;
	pthread_cond_broadcast(&srv->auth_wake);
	pthread_mutex_unlock(&srv->auth_lock);
	pthread_join(srv->auth_thread, NULL);
	srv->auth_running = false;
}

enum auth_verdict auth__check(struct http_server *srv, struct MHD_Connection *conn,
			      struct auth_job *job, const struct served *sv)
{
	enum auth_verdict v = AUTH_DENIED;
	const char *hash;
	char *user, *pass = NULL;

	if (job->done) {
		job->done = false;
		if (job->cancelled)
			return AUTH_CANCELLED;
		/* the verdict holds if the config still gives the user that hash */
		hash = webconfig__user_hash(&sv->cfg, job->user);
		if (job->known ? hash && !strcmp(hash, job->hash) : !hash)
			return job->ok ? AUTH_GRANTED : AUTH_DENIED;
	}
	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (!user || !pass || strlen(user) >= sizeof(job->user) || !sv->cfg.nr_users)
		goto out;
	hash = webconfig__user_hash(&sv->cfg, user);
	job->known = hash != NULL;
	auth_cache__key(&srv->auth_cache, user, pass, job->known ? hash : "", job->key);
	pthread_mutex_lock(&srv->auth_lock);
	switch (auth_cache__lookup(&srv->auth_cache, job->key)) {
	case AUTH_CACHE_GOOD_PAIR:
		v = AUTH_GRANTED;
		goto unlock;
	case AUTH_CACHE_BAD_PAIR:
		goto unlock;
	case AUTH_CACHE_MISS:
		break;
	}
	client_of(conn, job);
	if (srv->auth_stopping || srv->auth_queued >= AUTH_QUEUE_MAX ||
	    pending_of(srv, job) >= AUTH_CLIENT_PENDING) {
		srv->auth_throttled++;
		v = AUTH_THROTTLED;
		goto unlock;
	}
	snprintf(job->user, sizeof(job->user), "%s", user);
	snprintf(job->pass, sizeof(job->pass), "%s", pass); /* bcrypt reads 72 bytes */
	snprintf(job->hash, sizeof(job->hash), "%s", job->known ? hash : sv->cfg.users[0].hash);
	job->conn = conn;
	job->daemon = limits__daemon_of(conn);
	job->next = NULL;
	job->queued = true;
	job->cancelled = false;
	/* suspended before the worker can see it, so its resume always follows */
	MHD_suspend_connection(conn);
	{
		struct auth_job **tail = &srv->auth_queue;

		while (*tail)
			tail = &(*tail)->next;
		*tail = job;
	}
	srv->auth_queued++;
	pthread_cond_signal(&srv->auth_wake);
	v = AUTH_PENDING;
unlock:
	pthread_mutex_unlock(&srv->auth_lock);
out:
	if (user)
		MHD_free(user);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	return v;
}

void auth__cancel(struct http_server *srv, const struct daemon_ref *daemon)
{
	struct auth_job **p;

	pthread_mutex_lock(&srv->auth_lock);
	p = &srv->auth_queue;
	while (*p) {
		struct auth_job *job = *p;

		if (daemon && job->daemon != daemon) {
			p = &job->next;
			continue;
		}
		*p = job->next;
		srv->auth_queued--;
		explicit_bzero(job->pass, sizeof(job->pass));
		job->queued = false;
		job->cancelled = true;
		job->done = true;
		MHD_resume_connection(job->conn);
	}
	while (srv->auth_current && (!daemon || srv->auth_current->daemon == daemon))
		pthread_cond_wait(&srv->auth_idle, &srv->auth_lock);
	pthread_mutex_unlock(&srv->auth_lock);
}

uint64_t auth__throttled(struct http_server *srv)
{
	uint64_t n;

	pthread_mutex_lock(&srv->auth_lock);
	n = srv->auth_throttled;
	pthread_mutex_unlock(&srv->auth_lock);
	return n;
}
