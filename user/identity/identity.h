/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Container and pod identity: cgroup v2 path -> container id, pod uid and QoS class, the
 * label names of --metrics.labels, the name source interface (pod uid -> namespace, pod,
 * container names) and the series key built from them. Pure: no I/O.
 */
#ifndef TOOLWATCH_IDENTITY_H
#define TOOLWATCH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDENTITY_ID_MAX	  129 /* container id: 12..128 lowercase hex digits, NUL */
#define IDENTITY_UID_MAX  65  /* pod uid: 1..64 of [0-9A-Za-z-], NUL */
#define IDENTITY_NAME_MAX 254 /* namespace, pod or container name, NUL */

enum identity_qos {
	IDENTITY_QOS_NONE, /* not in a pod */
	IDENTITY_QOS_GUARANTEED,
	IDENTITY_QOS_BURSTABLE,
	IDENTITY_QOS_BESTEFFORT,
};

/* "guaranteed", "burstable", "besteffort"; "" for none or out of range. */
const char *identity_qos__name(enum identity_qos q);

/* What a cgroup path says about the container and pod a task runs in. */
struct cgroup_identity {
	char container_id[IDENTITY_ID_MAX]; /* "" outside a container */
	char pod_uid[IDENTITY_UID_MAX];	    /* "" outside a pod; dashes, never underscores */
	enum identity_qos qos;
};

/*
 * Parses a cgroup path (relative to the cgroup2 mount, as /proc/PID/cgroup shows it, or
 * any suffix of one) into id. Recognised components, anywhere in the path:
 *   systemd driver: kubepods[-<qos>]-pod<uid>.slice (uid with '_' for '-'),
 *     kubepods-<qos>.slice, <runtime>-<id>.scope for runtime cri-containerd, crio,
 *     docker, libpod (crio-conmon-<id>.scope is not a container);
 *   cgroupfs driver: kubepods[/<qos>]/pod<uid>/<id>, docker/<id>, and <id> or
 *     crio-<id> directly under a pod<uid> directory.
 * <id> is 12..128 lowercase hex digits, <qos> burstable or besteffort (a pod directly under
 * kubepods is guaranteed). Nested containers (a container runtime inside a container or a
 * pod) yield the innermost container id and the innermost pod uid; a pod component
 * resets the container id found before it. Anything else leaves id empty. Returns true
 * when a container id or a pod uid was found.
 */
bool identity__parse(const char *path, struct cgroup_identity *id);

/* The labels --metrics.labels may ask for, in the order series show them. */
enum identity_label {
	IDENTITY_LABEL_CONTAINER_ID,
	IDENTITY_LABEL_POD_UID,
	IDENTITY_LABEL_NAMESPACE,
	IDENTITY_LABEL_POD,
	IDENTITY_LABEL_CONTAINER,
	IDENTITY_LABELS,
};

/* NULL-terminated label names, index = enum identity_label (for FLAG_LIST). */
extern const char *const identity_label_names[IDENTITY_LABELS + 1];

/* Names a name source knows for a pod uid and container id. */
struct kube_pod_names {
	char namespace_[IDENTITY_NAME_MAX];
	char pod[IDENTITY_NAME_MAX];
	char container[IDENTITY_NAME_MAX];
};

/*
 * A name source: lookup fills out and returns true when it knows pod_uid (container may
 * stay "" when it does not know container_id, which may be ""); false when it knows
 * nothing. Must not block and must be safe to call from the event loop while another
 * thread refreshes the source. kube__lookup(struct kube *, ...) has this shape.
 */
typedef bool (*kube_lookup_fn)(void *ctx, const char *pod_uid, const char *container_id,
			       struct kube_pod_names *out);

struct name_source {
	kube_lookup_fn lookup; /* NULL: no names */
	void *ctx;
};

/* The five label values of one execution: "" for each that is unknown or not asked for. */
struct identity_labels {
	char value[IDENTITY_LABELS][IDENTITY_NAME_MAX];
};

/*
 * Fills labels from id and, for a pod, the names src knows (src or src->lookup may be
 * NULL): only the labels whose bit (1 << enum identity_label) is in mask are set, the
 * others "". Names with control bytes or 0x1f are refused (left ""). Returns true when
 * src knew the pod.
 */
bool identity__labels(const struct cgroup_identity *id, const struct name_source *src,
		      unsigned int mask, struct identity_labels *labels);

#define IDENTITY_KEY_SEP '\x1f'

/*
 * Writes the series key of tool under labels into out: the five values, each followed by
 * IDENTITY_KEY_SEP, then the tool name (which may hold any byte but NUL). Truncated, NUL
 * terminated, at out_size - 1 (false then).
 */
bool identity__key(const struct identity_labels *labels, const char *tool, char *out,
		   size_t out_size);

/*
 * Splits a series key back: the labels and a pointer to the tool name inside key. A key
 * without the five separators (e.g. "other") is a tool name with every label "". Returns
 * the tool name.
 */
const char *identity__split_key(const char *key, struct identity_labels *labels);

/* What one series (by key) added in a window to the figure a flag is about. */
struct identity_share {
	const char *key; /* identity__key() */
	uint64_t amount;
};

/*
 * Writes into out the (at most max) identities among shares of the series of tool with
 * the largest amounts, largest first, comma separated, each with its percentage of the
 * tool's total: "prod/web-1/app 62%,pod_uid=1b4e... 30%,host 8%". An identity is
 * namespace/pod/container when a name is known, else pod_uid=UID, else
 * container_id=ID (12 digits), else host. "" when the tool has no amount. Returns how many
 * were named.
 */
size_t identity__contributors(const struct identity_share *shares, size_t nr, const char *tool,
			      unsigned int max, char *out, size_t out_size);

/*
 * Finds the first cgroup2 mount point in the text of /proc/self/mountinfo and copies it
 * (octal escapes such as \040 decoded) into out. Returns 0, -ENOENT when there is none,
 * -ENAMETOOLONG when it does not fit in out_size.
 */
int cgroup2__mount_point(const char *mountinfo, char *out, size_t out_size);

#endif /* TOOLWATCH_IDENTITY_H */
