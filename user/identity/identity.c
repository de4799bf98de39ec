// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"

const char *const identity_label_names[IDENTITY_LABELS + 1] = {
    [IDENTITY_LABEL_CONTAINER_ID] = "container_id", [IDENTITY_LABEL_POD_UID] = "pod_uid",
    [IDENTITY_LABEL_NAMESPACE] = "namespace",	    [IDENTITY_LABEL_POD] = "pod",
    [IDENTITY_LABEL_CONTAINER] = "container",	    [IDENTITY_LABELS] = NULL,
};

const char *identity_qos__name(enum identity_qos q)
{
	switch (q) {
	case IDENTITY_QOS_GUARANTEED:
		return "guaranteed";
	case IDENTITY_QOS_BURSTABLE:
		return "burstable";
	case IDENTITY_QOS_BESTEFFORT:
		return "besteffort";
	default:
		return "";
	}
}

/* A path component: [p, p + len). */
struct comp {
	const char *p;
	size_t len;
};

static bool has_prefix(struct comp c, const char *prefix, struct comp *rest)
{
	size_t n = strlen(prefix);

	if (c.len < n || memcmp(c.p, prefix, n))
		return false;
	rest->p = c.p + n;
	rest->len = c.len - n;
	return true;
}

static bool has_suffix(struct comp c, const char *suffix, struct comp *rest)
{
	size_t n = strlen(suffix);

	if (c.len < n || memcmp(c.p + c.len - n, suffix, n))
		return false;
	rest->p = c.p;
	rest->len = c.len - n;
	return true;
}

static bool equals(struct comp c, const char *s)
{
	return c.len == strlen(s) && !memcmp(c.p, s, c.len);
}

/* 12..128 lowercase hex digits. */
static bool is_container_id(struct comp c)
{
	if (c.len < 12 || c.len >= IDENTITY_ID_MAX)
		return false;
	for (size_t i = 0; i < c.len; i++)
		if (!((c.p[i] >= '0' && c.p[i] <= '9') || (c.p[i] >= 'a' && c.p[i] <= 'f')))
			return false;
	return true;
}

/* 1..64 of [0-9A-Za-z-], plus '_' when systemd escaped the dashes. */
static bool is_pod_uid(struct comp c, bool systemd)
{
	if (!c.len || c.len >= IDENTITY_UID_MAX)
		return false;
	for (size_t i = 0; i < c.len; i++) {
		char ch = c.p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '-' || (systemd && ch == '_')))
			return false;
	}
	return true;
}

static void copy_comp(char *dst, struct comp c, bool underscores_to_dashes)
{
	for (size_t i = 0; i < c.len; i++)
		dst[i] = underscores_to_dashes && c.p[i] == '_' ? '-' : c.p[i];
	dst[c.len] = '\0';
}

static enum identity_qos qos_of(struct comp c)
{
	if (equals(c, "burstable"))
		return IDENTITY_QOS_BURSTABLE;
	if (equals(c, "besteffort"))
		return IDENTITY_QOS_BESTEFFORT;
	return IDENTITY_QOS_NONE;
}

/* kubepods[-<qos>]-pod<uid>.slice */
static bool systemd_pod(struct comp c, struct cgroup_identity *id)
{
	struct comp rest, uid;
	enum identity_qos qos = IDENTITY_QOS_GUARANTEED;

	if (!has_prefix(c, "kubepods-", &rest) || !has_suffix(rest, ".slice", &rest))
		return false;
	if (has_prefix(rest, "burstable-", &uid))
		qos = IDENTITY_QOS_BURSTABLE;
	else if (has_prefix(rest, "besteffort-", &uid))
		qos = IDENTITY_QOS_BESTEFFORT;
	else
		uid = rest;
	if (!has_prefix(uid, "pod", &uid) || !is_pod_uid(uid, true))
		return false;
	copy_comp(id->pod_uid, uid, true);
	id->qos = qos;
	id->container_id[0] = '\0';
	return true;
}

/* <runtime>-<id>.scope */
static bool systemd_container(struct comp c, struct cgroup_identity *id)
{
	static const char *const runtimes[] = {"cri-containerd-", "crio-", "docker-", "libpod-"};
	struct comp rest, cid;

	if (!has_suffix(c, ".scope", &rest))
		return false;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		if (has_prefix(rest, runtimes[i], &cid) && is_container_id(cid)) {
			copy_comp(id->container_id, cid, false);
			return true;
		}
	}
	return false;
}

bool identity__parse(const char *path, struct cgroup_identity *id)
{
	struct comp prev = {"", 0}, prev2 = {"", 0}, c, rest, tmp;
	const char *p = path ? path : "";

	memset(id, 0, sizeof(*id));
	while (*p) {
		const char *slash = strchr(p, '/');

		c.p = p;
		c.len = slash ? (size_t)(slash - p) : strlen(p);
		p += c.len + (slash ? 1 : 0);
		if (!c.len)
			continue;
		if (systemd_pod(c, id) || systemd_container(c, id)) {
			/* matched */
		} else if (has_prefix(c, "pod", &rest) && is_pod_uid(rest, false) &&
			   (equals(prev, "kubepods") ||
			    (equals(prev2, "kubepods") && qos_of(prev)))) {
			copy_comp(id->pod_uid, rest, false);
			id->qos = equals(prev, "kubepods") ? IDENTITY_QOS_GUARANTEED : qos_of(prev);
			id->container_id[0] = '\0';
		} else if (is_container_id(c) &&
			   (equals(prev, "docker") ||
			    (has_prefix(prev, "pod", &rest) && id->pod_uid[0] &&
			     rest.len == strlen(id->pod_uid) &&
			     !memcmp(rest.p, id->pod_uid, rest.len)))) {
			copy_comp(id->container_id, c, false);
		} else if (has_prefix(c, "crio-", &rest) && is_container_id(rest) &&
			   id->pod_uid[0] && has_prefix(prev, "pod", &tmp)) {
			copy_comp(id->container_id, rest, false);
		}
		prev2 = prev;
		prev = c;
	}
	return id->container_id[0] || id->pod_uid[0];
}

/* A name safe in a series key: no control bytes (so no IDENTITY_KEY_SEP), not too long. */
static bool name_ok(const char *s)
{
	size_t n = strnlen(s, IDENTITY_NAME_MAX);

	if (n >= IDENTITY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool identity__labels(const struct cgroup_identity *id, const struct name_source *src,
		      unsigned int mask, struct identity_labels *labels)
{
	struct kube_pod_names names = {};
	bool known = false;

	memset(labels, 0, sizeof(*labels));
	if (mask & (1u << IDENTITY_LABEL_CONTAINER_ID))
		snprintf(labels->value[IDENTITY_LABEL_CONTAINER_ID], IDENTITY_NAME_MAX, "%s",
			 id->container_id);
	if (mask & (1u << IDENTITY_LABEL_POD_UID))
		snprintf(labels->value[IDENTITY_LABEL_POD_UID], IDENTITY_NAME_MAX, "%s",
			 id->pod_uid);
	if (!id->pod_uid[0] || !src || !src->lookup ||
	    !(mask & ((1u << IDENTITY_LABEL_NAMESPACE) | (1u << IDENTITY_LABEL_POD) |
		      (1u << IDENTITY_LABEL_CONTAINER))))
		return false;
	known = src->lookup(src->ctx, id->pod_uid, id->container_id, &names);
	if (!known)
		return false;
	names.namespace_[IDENTITY_NAME_MAX - 1] = '\0';
	names.pod[IDENTITY_NAME_MAX - 1] = '\0';
	names.container[IDENTITY_NAME_MAX - 1] = '\0';
	if ((mask & (1u << IDENTITY_LABEL_NAMESPACE)) && name_ok(names.namespace_))
		memcpy(labels->value[IDENTITY_LABEL_NAMESPACE], names.namespace_,
		       sizeof(names.namespace_));
	if ((mask & (1u << IDENTITY_LABEL_POD)) && name_ok(names.pod))
		memcpy(labels->value[IDENTITY_LABEL_POD], names.pod, sizeof(names.pod));
	if ((mask & (1u << IDENTITY_LABEL_CONTAINER)) && name_ok(names.container))
		memcpy(labels->value[IDENTITY_LABEL_CONTAINER], names.container,
		       sizeof(names.container));
	return true;
}

bool identity__key(const struct identity_labels *labels, const char *tool, char *out,
		   size_t out_size)
{
	size_t len = 0;
	int n;

	if (!out_size)
		return false;
	out[0] = '\0';
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		n = snprintf(out + len, out_size - len, "%s%c", labels->value[i], IDENTITY_KEY_SEP);
		if (n < 0 || (size_t)n >= out_size - len)
			return false;
		len += (size_t)n;
	}
	n = snprintf(out + len, out_size - len, "%s", tool ? tool : "");
	return n >= 0 && (size_t)n < out_size - len;
}

const char *identity__split_key(const char *key, struct identity_labels *labels)
{
	const char *p = key, *sep[IDENTITY_LABELS];

	memset(labels, 0, sizeof(*labels));
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		sep[i] = strchr(p, IDENTITY_KEY_SEP);
		if (!sep[i] || (size_t)(sep[i] - p) >= IDENTITY_NAME_MAX)
			return key;
		p = sep[i] + 1;
	}
	p = key;
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		memcpy(labels->value[i], p, (size_t)(sep[i] - p));
		labels->value[i][sep[i] - p] = '\0';
		p = sep[i] + 1;
	}
	return p;
}

/* Who a series is, for a log line. */
static void who(const struct identity_labels *l, char *out, size_t size)
{
	const char *const *v = (const char *const[]){
	    l->value[IDENTITY_LABEL_CONTAINER_ID], l->value[IDENTITY_LABEL_POD_UID],
	    l->value[IDENTITY_LABEL_NAMESPACE], l->value[IDENTITY_LABEL_POD],
	    l->value[IDENTITY_LABEL_CONTAINER]};

	if (v[IDENTITY_LABEL_NAMESPACE][0] || v[IDENTITY_LABEL_POD][0])
		snprintf(out, size, "%s/%s%s%s", v[IDENTITY_LABEL_NAMESPACE], v[IDENTITY_LABEL_POD],
			 v[IDENTITY_LABEL_CONTAINER][0] ? "/" : "", v[IDENTITY_LABEL_CONTAINER]);
	else if (v[IDENTITY_LABEL_POD_UID][0])
		snprintf(out, size, "pod_uid=%s", v[IDENTITY_LABEL_POD_UID]);
	else if (v[IDENTITY_LABEL_CONTAINER_ID][0])
		snprintf(out, size, "container_id=%.12s", v[IDENTITY_LABEL_CONTAINER_ID]);
	else
		snprintf(out, size, "host");
}

size_t identity__contributors(const struct identity_share *shares, size_t nr, const char *tool,
			      unsigned int max, char *out, size_t out_size)
{
	struct identity_labels l;
	uint64_t total = 0, last = UINT64_MAX;
	size_t named = 0, used = 0, last_i = SIZE_MAX;

	if (out_size)
		out[0] = '\0';
	if (!tool)
		return 0;
	for (size_t i = 0; i < nr; i++)
		if (shares[i].amount && !strcmp(identity__split_key(shares[i].key, &l), tool))
			total += shares[i].amount;
	/* max passes of selection: the next largest below (last, last_i) in (amount, index) */
	while (total && named < max) {
		size_t best = SIZE_MAX;
		char name[3 * IDENTITY_NAME_MAX + 8];
		int n;

		for (size_t i = 0; i < nr; i++) {
			uint64_t a = shares[i].amount;

			if (!a || a > last || (a == last && i <= last_i))
				continue;
			if (best != SIZE_MAX &&
			    (a < shares[best].amount || (a == shares[best].amount && i > best)))
				continue;
			if (strcmp(identity__split_key(shares[i].key, &l), tool))
				continue;
			best = i;
		}
		if (best == SIZE_MAX)
			break;
		identity__split_key(shares[best].key, &l);
		who(&l, name, sizeof(name));
		n = snprintf(
		    out + used, out_size > used ? out_size - used : 0, "%s%s %u%%",
		    named ? "," : "", name,
		    (unsigned int)((double)shares[best].amount * 100.0 / (double)total + 0.5));
		if (n < 0 || used + (size_t)n >= out_size) {
			if (out_size)
				out[used] = '\0'; /* a cut entry is not named at all */
			break;
		}
		used += (size_t)n;
		named++;
		last = shares[best].amount;
		last_i = best;
	}
	return named;
}

/* Copies a mountinfo field of len bytes into out, decoding \NNN octal escapes. */
static int copy_mountinfo_field(const char *s, size_t len, char *out, size_t out_size)
{
	size_t j = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (j + 1 >= out_size)
			return -ENAMETOOLONG;
		out[j++] = c;
	}
	out[j] = '\0';
	return 0;
}

int cgroup2__mount_point(const char *mountinfo, char *out, size_t out_size)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *p = line, *mnt = NULL, *sep;
		size_t line_len = end ? (size_t)(end - line) : strlen(line), mnt_len = 0;
		int field = 0;

		/* id parent major:minor root MOUNT_POINT options [optional...] - FSTYPE ... */
		while (p < line + line_len) {
			size_t len = strcspn(p, " \n");

			if (len > (size_t)(line + line_len - p))
				len = (size_t)(line + line_len - p);
			if (field == 4) {
				mnt = p;
				mnt_len = len;
			}
			field++;
			p += len;
			while (p < line + line_len && *p == ' ')
				p++;
		}
		sep = mnt ? strstr(mnt, " - ") : NULL;
		if (sep && sep < line + line_len && !strncmp(sep + 3, "cgroup2 ", 8))
			return copy_mountinfo_field(mnt, mnt_len, out, out_size);
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}
