// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "identity/cgroup.h"
#include "identity/identity.h"
#include "lib/file.h"
#include "lib/strbuf.h"

#define MOUNTINFO_MAX_BYTES (4 << 20)
#define CGROUP2_MAGIC	    0x63677270 /* CGROUP2_SUPER_MAGIC */

static bool is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_MAGIC && !stat(path, &st) &&
	       S_ISDIR(st.st_mode);
}

/*
 * The id bpf_get_current_cgroup_id() reports for tasks in the cgroup name under dirfd ("":
 * dirfd itself): the kernfs node id, as a file handle carries it; else the inode number,
 * which is the same id with a 64-bit ino_t. The runtime's default seccomp profile refuses
 * name_to_handle_at() to a container without CAP_SYS_ADMIN, hence the second way.
 */
static int id_at(int dirfd, const char *name, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id, flags = name[0] ? 0 : AT_EMPTY_PATH;
	struct stat st;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (!name_to_handle_at(dirfd, name, &h.fh, &mount_id, flags) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (fstatat(dirfd, name, &st, flags | AT_SYMLINK_NOFOLLOW))
		return -errno;
	*id = st.st_ino;
	return 0;
}

/* The id of the cgroup at path. */
static int cgroup_id_of(const char *path, uint64_t *id)
{
	return id_at(AT_FDCWD, path, id);
}

int cgroup__resolve(const char *arg, uint64_t *id, char *err, size_t err_size)
{
	struct strbuf path = {};
	char mnt[PATH_MAX], *mountinfo;
	size_t len;
	int e;

	if (arg[0] == '/' && is_cgroup2_dir(arg)) {
		e = cgroup_id_of(arg, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
		return e;
	}
	e = file__read("/proc/self/mountinfo", MOUNTINFO_MAX_BYTES, 0, &mountinfo, &len);
	if (!e)
		e = cgroup2__mount_point(mountinfo, mnt, sizeof(mnt));
	free(mountinfo);
	if (e) {
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg,
			 e == -ENOENT ? "no cgroup v2 file system is mounted" : strerror(-e));
		return e;
	}
	strbuf__appendf(&path, "%s/%s", mnt, arg + strspn(arg, "/"));
	if (path.oom) {
		e = -ENOMEM;
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	} else if (!is_cgroup2_dir(path.buf)) {
		e = -ENOENT;
		snprintf(err, err_size,
			 "invalid --cgroup '%.200s': not a cgroup v2 directory (nor is '%.200s')",
			 arg, path.buf);
	} else {
		e = cgroup_id_of(path.buf, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	}
	strbuf__free(&path);
	return e;
}

#define WALK_MAX_DEPTH 64
/* The hierarchy's root cgroup has id 1: a mount whose root has it shows every cgroup. */
#define CGROUP_ROOT_ID 1
/*
 * A cgroup id no walk has looked for yet gets a walk of its own: at most one walk per this
 * many times the CPU time the last one took (walks take at most a quarter of a CPU), waiting
 * up to WALK_WAIT_MAX_NS for it rather than leaving the execution without its pod.
 */
#define WALK_GAP_FACTOR	 3
#define WALK_WAIT_MAX_NS 50000000ULL
/* cgroup_resolver__exists() without opening by id: a walk at most this old answers */
#define EXISTS_WALK_MAX_AGE_NS 1000000000ULL

/* A slot of the id index: small, so that the index's pages are few (RSS stays flat). */
struct resolver_entry {
	uint64_t id; /* 0: empty slot */
	uint64_t retry_ns;
	uint64_t used_ns; /* last looked up (cgroup_resolver__expire) */
	uint32_t index;	  /* in the dense identity pool */
	bool known;	  /* false: unresolved, retry after retry_ns */
	bool waiting;	  /* unresolved, and no walk has looked for it yet */
	bool looked_up;	  /* found by a lookup (else only by a walk): counted once */
};

struct cgroup_resolver {
	char mount[PATH_MAX];
	struct resolver_entry *slots;
	size_t cap; /* power of two, at least 2 * max */
	size_t used, max;
	struct cgroup_identity *pool; /* used of them, grown up to max */
	size_t pool_cap;
	uint64_t last_walk_ns; /* when the last walk ended */
	uint64_t walk_cost_ns; /* the CPU time it took */
	bool walked;
	int mount_fd;	 /* for open_by_handle_at(); -1 without */
	int handle_type; /* of the mount's cgroup file handles */
	bool by_handle;	 /* open_by_handle_at() works (CAP_DAC_READ_SEARCH) */
	bool whole_tree; /* the mount shows the hierarchy's root: walks see every cgroup */
	struct cgroup_resolver_stats stats;
};

/* Whether the cgroup of id exists, opened by id: 1 yes, 0 gone, -errno cannot tell. */
static int open_by_id(struct cgroup_resolver *r, uint64_t id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int fd;

	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = r->handle_type;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(r->mount_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == ESTALE || errno == ENOENT)
		return 0;
	return -errno;
}

/*
 * Opens the mount for cgroup_resolver__exists() and tries it on the mount's root: handles
 * are opened by id, so the test is exact (a removed cgroup's id is never handed out again
 * while the system runs) and costs no path walk.
 */
static void probe_setup(struct cgroup_resolver *r)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	uint64_t root;
	int mount_id;

	r->mount_fd = open(r->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->mount_fd < 0 || id_at(r->mount_fd, "", &root))
		return;
	r->whole_tree = root == CGROUP_ROOT_ID;
	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(r->mount_fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) ||
	    h.fh.handle_bytes != sizeof(uint64_t))
		return;
	r->handle_type = h.fh.handle_type;
	r->by_handle = open_by_id(r, root) == 1;
}

static struct resolver_entry *slot_for(struct cgroup_resolver *r, uint64_t id);
static void walk_all(struct cgroup_resolver *r);

static uint64_t clock_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t monotonic_ns(void)
{
	return clock_of(CLOCK_MONOTONIC);
}

int cgroup_resolver__exists(struct cgroup_resolver *r, uint64_t id)
{
	struct resolver_entry *e;
	int ret;

	if (r->by_handle) {
		r->stats.probes++;
		ret = open_by_id(r, id);
	} else if (r->whole_tree) {
		/* every cgroup that exists is in a walk: one a second answers for all ids */
		r->stats.probes++;
		if (!r->walked || monotonic_ns() - r->last_walk_ns >= EXISTS_WALK_MAX_AGE_NS)
			walk_all(r);
		e = slot_for(r, id);
		ret = e->id && e->known;
	} else {
		return -EOPNOTSUPP;
	}
	r->stats.gone += ret == 0;
	return ret;
}

bool cgroup_resolver__can_probe(const struct cgroup_resolver *r)
{
	return r->by_handle || r->whole_tree;
}

bool cgroup_resolver__by_handle(const struct cgroup_resolver *r)
{
	return r->by_handle;
}

bool cgroup_resolver__whole_tree(const struct cgroup_resolver *r)
{
	return r->whole_tree;
}

struct cgroup_resolver *cgroup_resolver__new(const char *mount, size_t max_entries)
{
	struct cgroup_resolver *r = calloc(1, sizeof(*r));
	char *mountinfo;
	size_t len;
	int e = 0;

	if (!r)
		return NULL;
	if (mount) {
		snprintf(r->mount, sizeof(r->mount), "%s", mount);
	} else {
		e = file__read("/proc/self/mountinfo", MOUNTINFO_MAX_BYTES, 0, &mountinfo, &len);
		if (!e)
			e = cgroup2__mount_point(mountinfo, r->mount, sizeof(r->mount));
		free(mountinfo);
	}
	if (!e && !is_cgroup2_dir(r->mount))
		e = -ENOENT;
	r->max = max_entries ? max_entries : 1;
	for (r->cap = 16; r->cap < 2 * r->max; r->cap *= 2)
		;
	r->slots = e ? NULL : calloc(r->cap, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		errno = e ? -e : ENOMEM;
		return NULL;
	}
	probe_setup(r);
	return r;
}

void cgroup_resolver__free(struct cgroup_resolver *r)
{
	if (!r)
		return;
	if (r->mount_fd >= 0)
		close(r->mount_fd);
	free(r->slots);
	free(r->pool);
	free(r);
}

const char *cgroup_resolver__mount(const struct cgroup_resolver *r)
{
	return r->mount;
}

void cgroup_resolver__stats(const struct cgroup_resolver *r, struct cgroup_resolver_stats *st)
{
	*st = r->stats;
	st->cached = r->used;
}

static struct resolver_entry *slot_for(struct cgroup_resolver *r, uint64_t id)
{
	size_t i = (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (r->cap - 1);

	while (r->slots[i].id && r->slots[i].id != id)
		i = (i + 1) & (r->cap - 1);
	return &r->slots[i];
}

static struct cgroup_identity *identity_of(struct cgroup_resolver *r, struct resolver_entry *e)
{
	return &r->pool[e->index];
}

/*
 * The entry of id, added (with an empty identity) when new; the cache starts over when
 * full. NULL when the pool cannot grow.
 */
static struct resolver_entry *entry_add(struct cgroup_resolver *r, uint64_t id)
{
	struct resolver_entry *e = slot_for(r, id);

	if (e->id)
		return e;
	if (r->used >= r->pool_cap && r->pool_cap < r->max) {
		size_t cap = r->pool_cap ? r->pool_cap * 2 : 256;
		struct cgroup_identity *p;

		cap = cap < r->max ? cap : r->max;
		p = reallocarray(r->pool, cap, sizeof(*p));
		if (!p)
			return NULL;
		r->pool = p;
		r->pool_cap = cap;
	}
	if (r->used >= r->max) {
		memset(r->slots, 0, r->cap * sizeof(*r->slots));
		r->used = 0;
		r->stats.resets++;
		e = slot_for(r, id);
	}
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->index = (uint32_t)r->used++;
	memset(identity_of(r, e), 0, sizeof(struct cgroup_identity));
	return e;
}

static void clear(struct cgroup_resolver *r)
{
	memset(r->slots, 0, r->cap * sizeof(*r->slots));
	r->used = 0;
}

/* Every directory under dirfd (path rel), added to the cache; depth-first, bounded. */
static void walk(struct cgroup_resolver *r, int dirfd, struct strbuf *rel, int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > WALK_MAX_DEPTH)
		return;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = rel->len;
		struct resolver_entry *e;
		uint64_t id;
		int fd;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* kernfs reports the node id as the inode number: no system call per cgroup */
		if (sizeof(de->d_ino) >= sizeof(id))
			id = de->d_ino;
		else if (id_at(dirfd, de->d_name, &id))
			continue;
		strbuf__appendf(rel, "/%s", de->d_name);
		if (rel->oom)
			break;
		e = entry_add(r, id);
		if (!e)
			break;
		e->known = true;
		identity__parse(rel->buf, identity_of(r, e));
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			walk(r, fd, rel, depth + 1);
		rel->len = len;
		rel->buf[len] = '\0';
	}
	closedir(d);
}

/* The cgroup v2 path of tgid when it has id, from /proc/tgid/cgroup ("0::/path"). */
static bool proc_path(struct cgroup_resolver *r, uint32_t tgid, uint64_t id, struct strbuf *out)
{
	struct strbuf full = {};
	char name[64], *text = NULL;
	const char *line;
	size_t len;
	uint64_t found = 0;
	bool ok = false;

	snprintf(name, sizeof(name), "/proc/%u/cgroup", tgid);
	if (!tgid || file__read(name, 1 << 16, 0, &text, &len))
		goto out;
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "0::", 3))
			continue;
		line += 3;
		strbuf__append(out, line, strcspn(line, "\n"));
		break;
	}
	if (!out->buf || out->oom)
		goto out;
	/*
	 * Outside our cgroup namespace (the agent in a pod: its cgroup2 mount shows its own
	 * subtree only) the path starts with "/..": it cannot be checked against the id, and
	 * the walk would not find it either. The process exists (its file was read), so the
	 * path is its cgroup's, give or take a move since the exec.
	 */
	if (!strncmp(out->buf, "/..", 3)) {
		ok = true;
		goto out;
	}
	strbuf__appendf(&full, "%s%s", r->mount, out->buf);
	ok = !full.oom && !cgroup_id_of(full.buf, &found) && found == id;
out:
	free(text);
	strbuf__free(&full);
	return ok;
}

/* Replaces the cache with every cgroup under the mount, the root included. */
static void walk_all(struct cgroup_resolver *r)
{
	struct strbuf path = {};
	struct resolver_entry *e, *kept = NULL;
	uint64_t cpu = clock_of(CLOCK_THREAD_CPUTIME_ID), root;
	size_t nr_kept = 0;
	int fd;

	r->stats.walks++;
	/* what lookups knew of the ids (when last used, already counted) outlives the walk */
	kept = malloc((r->used ? r->used : 1) * sizeof(*kept));
	for (size_t i = 0; kept && i < r->cap; i++)
		if (r->slots[i].id && r->slots[i].known && r->slots[i].looked_up)
			kept[nr_kept++] = r->slots[i];
	clear(r);
	/* the root: outside every container */
	fd = open(r->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (!cgroup_id_of(r->mount, &root) && (e = entry_add(r, root)))
			e->known = true;
		strbuf__puts(&path, "");
		walk(r, fd, &path, 0);
		strbuf__free(&path);
	}
	for (size_t i = 0; i < nr_kept; i++) {
		e = slot_for(r, kept[i].id);
		if (e->id && e->known) {
			e->looked_up = true;
			e->used_ns = kept[i].used_ns;
		}
	}
	free(kept);
	r->walked = true;
	r->last_walk_ns = monotonic_ns();
	r->walk_cost_ns = clock_of(CLOCK_THREAD_CPUTIME_ID) - cpu;
}

/*
 * Whether to walk now for an id that is not cached: at the interval; an id no walk has
 * looked for yet (fresh: a new cgroup, most likely) sooner, after a gap of a few times the
 * last walk's CPU time, waited for when it is short. A short-lived process is gone by the time its
 * record is read, so /proc cannot name its cgroup; the cgroup itself lives on (a pod
 * outlives its tools) and a walk finds it.
 */
static bool walk_due(struct cgroup_resolver *r, bool fresh, uint64_t min_walk_interval_ns)
{
	uint64_t now = monotonic_ns(), ready;

	if (!r->walked || now - r->last_walk_ns >= min_walk_interval_ns)
		return true;
	if (!fresh)
		return false;
	ready = r->last_walk_ns + WALK_GAP_FACTOR * r->walk_cost_ns;
	if (now >= ready)
		return true;
	if (ready - now > WALK_WAIT_MAX_NS)
		return false;
	nanosleep(&(struct timespec){.tv_nsec = (long)(ready - now)}, NULL);
	return true;
}

const struct cgroup_identity *cgroup_resolver__lookup(struct cgroup_resolver *r, uint64_t id,
						      uint32_t tgid, uint64_t now_ns,
						      uint64_t min_walk_interval_ns)
{
	struct resolver_entry *e = slot_for(r, id);
	struct strbuf path = {};
	bool fresh, walked = false, gone;

	if (!id)
		return NULL;
	if (e->id && e->known) {
		/* a new id that a walk for another one found: resolved by a walk */
		if (!e->looked_up) {
			e->looked_up = true;
			r->stats.walk_hits++;
		}
		e->used_ns = now_ns;
		return identity_of(r, e);
	}
	if (e->id && now_ns < e->retry_ns) {
		r->stats.unresolved++;
		return NULL;
	}
	fresh = !e->id || e->waiting;
	if (proc_path(r, tgid, id, &path) && (e = entry_add(r, id))) {
		e->known = true;
		e->looked_up = true;
		e->used_ns = now_ns;
		identity__parse(path.buf, identity_of(r, e));
		strbuf__free(&path);
		r->stats.proc_hits++;
		return identity_of(r, e);
	}
	strbuf__free(&path);
	/* removed already (opened by id): no walk would find it */
	gone = r->by_handle && open_by_id(r, id) == 0;
	if (!gone && walk_due(r, fresh, min_walk_interval_ns)) {
		walk_all(r);
		walked = true;
		e = slot_for(r, id);
		if (e->id && e->known) {
			r->stats.walk_hits++;
			e->looked_up = true;
			e->used_ns = now_ns;
			return identity_of(r, e);
		}
	}
	e = entry_add(r, id);
	if (e) {
		e->used_ns = now_ns;
		e->known = false;
		/* a new id no walk could look for yet: its next lookup tries again */
		e->waiting = fresh && !walked && !gone;
		e->retry_ns = e->waiting ? 0 : now_ns + min_walk_interval_ns;
	}
	r->stats.unresolved++;
	return NULL;
}

size_t cgroup_resolver__expire(struct cgroup_resolver *r, uint64_t now_ns, uint64_t idle_ns)
{
	struct resolver_entry *old = r->slots, *e;
	struct cgroup_identity *old_pool = r->pool, *pool;
	size_t old_cap = r->cap, old_used = r->used, keep = 0, cap;

	for (size_t i = 0; i < old_cap; i++)
		keep += old[i].id && now_ns - old[i].used_ns < idle_ns;
	if (keep == old_used)
		return 0;
	cap = keep * 2 > 256 ? keep * 2 : 256;
	cap = cap < r->max ? cap : r->max;
	pool = malloc(cap * sizeof(*pool));
	r->slots = pool ? calloc(old_cap, sizeof(*r->slots)) : NULL;
	if (!r->slots) {
		free(pool);
		r->slots = old;
		return 0;
	}
	r->pool = pool;
	r->pool_cap = cap;
	r->used = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].id || now_ns - old[i].used_ns >= idle_ns)
			continue;
		e = slot_for(r, old[i].id);
		*e = old[i];
		e->index = (uint32_t)r->used++;
		r->pool[e->index] = old_pool[old[i].index];
	}
	free(old);
	free(old_pool);
	r->stats.expired += old_used - r->used;
	return old_used - r->used;
}
