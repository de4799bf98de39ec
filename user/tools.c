// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tools.h"

#define COMM_LEN 16 /* TASK_COMM_LEN */

/* A word that is not NUL terminated: argv words may be cut short. */
struct span {
	const char *p;
	size_t len;
};

/* Walks the NUL-separated words of a raw argv copy without reading past its end. */
struct argv_iter {
	const char *p;
	size_t left;
};

static bool argv_iter__next(struct argv_iter *it, struct span *word)
{
	const char *nul;

	if (!it->left)
		return false;
	nul = memchr(it->p, '\0', it->left);
	word->p = it->p;
	if (nul) {
		word->len = (size_t)(nul - it->p);
		it->p = nul + 1;
		it->left -= word->len + 1;
	} else {
		word->len = it->left;
		it->p += it->left;
		it->left = 0;
	}
	return true;
}

static bool span__eq(struct span w, const char *s)
{
	size_t n = strlen(s);

	return w.len == n && !memcmp(w.p, s, n);
}

static bool span__in(struct span w, const char *const *list)
{
	for (; *list; list++) {
		if (span__eq(w, *list))
			return true;
	}
	return false;
}

static bool span__has(struct span w, char c)
{
	return memchr(w.p, c, w.len) != NULL;
}

/* A long option `--x`, without its `=value` when it has one. */
static bool span__is_long(struct span w)
{
	return w.len > 2 && w.p[0] == '-' && w.p[1] == '-';
}

/* A cluster of short options: `-x...` (or `+x...` where allow_plus). */
static bool span__is_short(struct span w, bool allow_plus)
{
	return w.len >= 2 && (w.p[0] == '-' || (allow_plus && w.p[0] == '+')) && w.p[1] != '-';
}

/* The last path component, trailing slashes ignored; empty for "" and "/". */
static struct span span__basename(struct span w)
{
	const char *slash;

	while (w.len && w.p[w.len - 1] == '/')
		w.len--;
	slash = memrchr(w.p, '/', w.len);
	if (slash) {
		w.len -= (size_t)(slash + 1 - w.p);
		w.p = slash + 1;
	}
	return w;
}

/* The argument of the option letter at w.p[i]: the rest of the word or the next word. */
static bool option_argument(struct argv_iter *it, struct span w, size_t i, struct span *arg)
{
	if (i + 1 < w.len) {
		arg->p = w.p + i + 1;
		arg->len = w.len - i - 1;
		return true;
	}
	return argv_iter__next(it, arg);
}

/*
 * Each interpreter's argv scanner starts after argv[0] and returns true with the word that
 * names what runs (script, module, main class, applet), or false to keep the interpreter's
 * name (inline code, standard input, no script).
 */

static const char *const shell_long_with_argument[] = {
    "--rcfile",
    "--init-file",
    "--emulate",
    NULL,
};

/* sh, bash, dash, zsh, ksh, mksh, ash, hush: -o/-O/+o/+O take a word; -c and -s: no script. */
static bool shell__script(struct argv_iter *it, struct span *out)
{
	struct span w, skipped;
	unsigned int takes;
	size_t i;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "--") || span__eq(w, "-"))
			return argv_iter__next(it, out);
		if (span__is_long(w)) {
			if (!span__has(w, '=') && span__in(w, shell_long_with_argument) &&
			    !argv_iter__next(it, &skipped))
				return false;
			continue;
		}
		if (!span__is_short(w, true)) {
			*out = w;
			return true;
		}
		takes = 0;
		for (i = 1; i < w.len; i++) {
			if (w.p[0] == '-' && (w.p[i] == 'c' || w.p[i] == 's'))
				return false;
			if (w.p[i] == 'o' || w.p[i] == 'O')
				takes++;
		}
		while (takes--) {
			if (!argv_iter__next(it, &skipped))
				return false;
		}
	}
	return false;
}

static const char *const python_long_with_argument[] = {
    "--check-hash-based-pycs",
    NULL,
};

/* python*, pypy*: -W/-X/-Q take an argument, -m mod names the module, -c is inline code. */
static bool python__script(struct argv_iter *it, struct span *out)
{
	struct span w, arg;
	size_t i;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "-"))
			return false;
		if (span__eq(w, "--"))
			return argv_iter__next(it, out);
		if (span__is_long(w)) {
			if (!span__has(w, '=') && span__in(w, python_long_with_argument) &&
			    !argv_iter__next(it, &arg))
				return false;
			continue;
		}
		if (!span__is_short(w, false)) {
			*out = w;
			return true;
		}
		for (i = 1; i < w.len; i++) {
			if (!strchr("cmWXQ", w.p[i]))
				continue;
			if (!option_argument(it, w, i, &arg) || w.p[i] == 'c')
				return false;
			if (w.p[i] == 'm') {
				*out = arg;
				return true;
			}
			break;
		}
	}
	return false;
}

static const char *const node_long_inline[] = {
    "--eval",
    "--print",
    NULL,
};

static const char *const node_long_with_argument[] = {
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "--conditions",
    "--input-type",
    "--title",
    "--env-file",
    "--watch-path",
    "--inspect-port",
    "--debug-port",
    "--cpu-prof-dir",
    "--cpu-prof-name",
    "--heap-prof-dir",
    "--heap-prof-name",
    "--heapsnapshot-signal",
    "--diagnostic-dir",
    "--report-dir",
    "--report-directory",
    "--report-filename",
    "--report-signal",
    "--redirect-warnings",
    "--disable-warning",
    "--icu-data-dir",
    "--openssl-config",
    "--tls-keylog",
    "--unhandled-rejections",
    "--dns-result-order",
    "--experimental-policy",
    "--policy-integrity",
    "--secure-heap",
    "--secure-heap-min",
    "--trace-event-categories",
    "--trace-event-file-pattern",
    "--use-largepages",
    "--stack-trace-limit",
    "--run",
    NULL,
};

/* node, nodejs: -r/-C take an argument, -e/-p/--eval/--print are inline code. */
static bool node__script(struct argv_iter *it, struct span *out)
{
	struct span w, arg, name;
	bool first_positional = true;
	size_t i;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "-"))
			return false;
		if (span__eq(w, "--"))
			return argv_iter__next(it, out);
		if (span__is_long(w)) {
			name = w;
			if (span__has(w, '='))
				name.len = (size_t)((const char *)memchr(w.p, '=', w.len) - w.p);
			if (span__in(name, node_long_inline))
				return false;
			if (name.len == w.len && span__in(w, node_long_with_argument) &&
			    !argv_iter__next(it, &arg))
				return false;
			continue;
		}
		if (span__is_short(w, false)) {
			for (i = 1; i < w.len; i++) {
				if (w.p[i] == 'e' || w.p[i] == 'p')
					return false;
				if (w.p[i] == 'r' || w.p[i] == 'C') {
					if (!option_argument(it, w, i, &arg))
						return false;
					break;
				}
			}
			continue;
		}
		/* `node inspect app.js` runs the debugger on app.js */
		if (first_positional && span__eq(w, "inspect")) {
			first_positional = false;
			continue;
		}
		*out = w;
		return true;
	}
	return false;
}

/* perl*: -e/-E are inline code, -I takes an argument, -M -m -i -x -d -D -C -V eat the word. */
static bool perl__script(struct argv_iter *it, struct span *out)
{
	struct span w, arg;
	size_t i;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "-"))
			return false;
		if (span__eq(w, "--"))
			return argv_iter__next(it, out);
		if (span__is_long(w))
			continue;
		if (!span__is_short(w, false)) {
			*out = w;
			return true;
		}
		for (i = 1; i < w.len; i++) {
			char c = w.p[i];

			if (c == 'e' || c == 'E')
				return false;
			if (c == 'I') {
				if (!option_argument(it, w, i, &arg))
					return false;
				break;
			}
			if (strchr("MmixdDCV", c))
				break;
			if (c == '0') {
				while (i + 1 < w.len &&
				       strchr("0123456789abcdefABCDEFx", w.p[i + 1]))
					i++;
			} else if (c == 'l') {
				while (i + 1 < w.len && w.p[i + 1] >= '0' && w.p[i + 1] <= '7')
					i++;
			}
		}
	}
	return false;
}

static const char *const ruby_long_with_argument[] = {
    "--enable", "--disable", "--encoding", "--external-encoding", "--internal-encoding",
    "--dump",	NULL,
};

/* ruby*: -e is inline code, -I -r -C -E take an argument, -x -F -i -K -T -W -0 eat the word. */
static bool ruby__script(struct argv_iter *it, struct span *out)
{
	struct span w, arg;
	size_t i;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "-"))
			return false;
		if (span__eq(w, "--"))
			return argv_iter__next(it, out);
		if (span__is_long(w)) {
			if (!span__has(w, '=') && span__in(w, ruby_long_with_argument) &&
			    !argv_iter__next(it, &arg))
				return false;
			continue;
		}
		if (!span__is_short(w, false)) {
			*out = w;
			return true;
		}
		for (i = 1; i < w.len; i++) {
			char c = w.p[i];

			if (c == 'e')
				return false;
			if (strchr("IrCE", c)) {
				if (!option_argument(it, w, i, &arg))
					return false;
				break;
			}
			if (strchr("xFiKTW0", c))
				break;
		}
	}
	return false;
}

static const char *const java_with_argument[] = {
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--upgrade-module-path",
    "--add-modules",
    "--limit-modules",
    "--add-reads",
    "--add-exports",
    "--add-opens",
    "--patch-module",
    "--enable-native-access",
    "--source",
    "-d",
    "--describe-module",
    NULL,
};

/* The module of `mod[/mainclass]`. */
static struct span java__module(struct span w)
{
	const char *slash = memchr(w.p, '/', w.len);

	if (slash)
		w.len = (size_t)(slash - w.p);
	return w;
}

/* java: `-jar x.jar` -> the jar, `-m mod[/cls]` -> mod, otherwise the main class (or file). */
static bool java__script(struct argv_iter *it, struct span *out)
{
	struct span w, arg;

	while (argv_iter__next(it, &w)) {
		if (span__eq(w, "-jar"))
			return argv_iter__next(it, out);
		if (span__eq(w, "-m") || span__eq(w, "--module")) {
			if (!argv_iter__next(it, &arg))
				return false;
			*out = java__module(arg);
			return true;
		}
		if (w.len > 9 && !memcmp(w.p, "--module=", 9)) {
			arg.p = w.p + 9;
			arg.len = w.len - 9;
			*out = java__module(arg);
			return true;
		}
		if (w.len && (w.p[0] == '-' || w.p[0] == '@')) {
			if (span__in(w, java_with_argument) && !argv_iter__next(it, &arg))
				return false;
			continue;
		}
		*out = w;
		return true;
	}
	return false;
}

static const char *const busybox_shells[] = {
    "sh", "ash", "hush", "bash", NULL,
};

/* busybox: `busybox applet args` -> the applet, or the script when the applet is a shell. */
static bool busybox__script(struct argv_iter *it, struct span *out)
{
	struct span applet, script;

	if (!argv_iter__next(it, &applet))
		return false;
	applet = span__basename(applet);
	if (!applet.len || applet.p[0] == '-')
		return false;
	*out = applet;
	if (span__in(applet, busybox_shells) && shell__script(it, &script))
		*out = script;
	return true;
}

struct interpreter {
	const char *name;
	bool versioned; /* also matches name + [0-9][0-9.]*: python3.11, perl5.36.0 */
	bool (*script)(struct argv_iter *it, struct span *out);
};

static const struct interpreter interpreters[] = {
    {"sh", false, shell__script},	 {"bash", false, shell__script},
    {"rbash", false, shell__script},	 {"dash", false, shell__script},
    {"zsh", false, shell__script},	 {"ash", false, shell__script},
    {"ksh", false, shell__script},	 {"ksh93", false, shell__script},
    {"mksh", false, shell__script},	 {"pdksh", false, shell__script},
    {"hush", false, shell__script},	 {"python", true, python__script},
    {"pypy", true, python__script},	 {"node", false, node__script},
    {"nodejs", false, node__script},	 {"perl", true, perl__script},
    {"ruby", true, ruby__script},	 {"java", false, java__script},
    {"busybox", false, busybox__script},
};

static bool interpreter__matches(const struct interpreter *interp, struct span name)
{
	size_t n = strlen(interp->name), i;

	if (name.len < n || memcmp(name.p, interp->name, n))
		return false;
	if (name.len == n)
		return true;
	if (!interp->versioned || name.p[n] < '0' || name.p[n] > '9')
		return false;
	for (i = n + 1; i < name.len; i++) {
		if ((name.p[i] < '0' || name.p[i] > '9') && name.p[i] != '.')
			return false;
	}
	return true;
}

static const struct interpreter *interpreter__find(struct span name)
{
	size_t i;

	for (i = 0; i < sizeof(interpreters) / sizeof(interpreters[0]); i++) {
		if (interpreter__matches(&interpreters[i], name))
			return &interpreters[i];
	}
	return NULL;
}

/* Copies name into out, cut to out_size - 1 bytes on a UTF-8 sequence boundary. */
static void copy_bounded(struct span name, char *out, size_t out_size)
{
	const unsigned char *s = (const unsigned char *)name.p;
	size_t used = 0, seq;

	while (used < name.len) {
		seq = utf8__seq_len(s + used, name.len - used);
		if (!seq)
			seq = 1; /* an invalid byte stands alone */
		if (seq > out_size - 1 - used)
			break;
		used += seq;
	}
	memcpy(out, name.p, used);
	out[used] = '\0';
}

void tool__name(const char *filename, const char *comm, const char *args, size_t args_size,
		char *out, size_t out_size)
{
	struct argv_iter it = {args, args ? args_size : 0};
	const struct interpreter *interp;
	struct span name = {"", 0}, word, script;

	if (!out || !out_size)
		return;
	if (filename) {
		word.p = filename;
		word.len = strlen(filename);
		name = span__basename(word);
	}
	if (argv_iter__next(&it, &word) && !name.len) {
		name = span__basename(word);
		if (name.len && name.p[0] == '-') { /* login shell: "-bash" */
			name.p++;
			name.len--;
		}
	}
	if (!name.len && comm) {
		name.p = comm;
		name.len = strnlen(comm, COMM_LEN);
	}
	interp = name.len ? interpreter__find(name) : NULL;
	if (interp && interp->script(&it, &script)) {
		script = span__basename(script);
		if (script.len)
			name = script;
	}
	if (!name.len) {
		name.p = TOOL_UNKNOWN_NAME;
		name.len = strlen(TOOL_UNKNOWN_NAME);
	}
	copy_bounded(name, out, out_size);
}

/* Tool table: names by id, and an open-addressing index (linear probing) of ids by name. */

#define INDEX_MIN_SLOTS 64 /* power of two */

struct index_slot {
	uint32_t hash;
	uint32_t id; /* 0: empty ("other" is never indexed) */
};

struct tool_table {
	unsigned int max_tools;
	unsigned int nr_names; /* real names, ids 1..nr_names */
	unsigned int names_cap;
	char **names; /* names[id], names[0] unused */
	struct index_slot *slots;
	size_t nr_slots; /* power of two, kept at least twice nr_names */
	uint64_t overflows;
};

/* FNV-1a, folded to 32 bits. */
static uint32_t name__hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* The slot holding name, or the empty slot where it would go. */
static struct index_slot *index__find(const struct index_slot *slots, size_t nr_slots,
				      char *const *names, const char *name, uint32_t hash)
{
	size_t mask = nr_slots - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		const struct index_slot *slot = &slots[i];

		if (!slot->id || (slot->hash == hash && !strcmp(names[slot->id], name)))
			return (struct index_slot *)slot;
	}
}

static int index__grow(struct tool_table *t)
{
	size_t nr_slots = t->nr_slots * 2, i;
	struct index_slot *slots;

	if (nr_slots / 2 != t->nr_slots || nr_slots > SIZE_MAX / sizeof(*slots))
		return -ENOMEM;
	slots = calloc(nr_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->nr_slots; i++) {
		const struct index_slot *old = &t->slots[i];

		if (old->id)
			*index__find(slots, nr_slots, t->names, t->names[old->id], old->hash) =
			    *old;
	}
	free(t->slots);
	t->slots = slots;
	t->nr_slots = nr_slots;
	return 0;
}

static int names__grow(struct tool_table *t)
{
	unsigned int cap = t->names_cap * 2;
	char **names;

	if (cap <= t->names_cap)
		return -ENOMEM;
	names = reallocarray(t->names, cap, sizeof(*names));
	if (!names)
		return -ENOMEM;
	t->names = names;
	t->names_cap = cap;
	return 0;
}

struct tool_table *tool_table__new(unsigned int max_tools)
{
	struct tool_table *t;

	if (max_tools > INT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto err_out;
	t->max_tools = max_tools;
	t->names_cap = INDEX_MIN_SLOTS / 2;
	t->names = calloc(t->names_cap, sizeof(*t->names));
	if (!t->names)
		goto err_free_table;
	t->nr_slots = INDEX_MIN_SLOTS;
	t->slots = calloc(t->nr_slots, sizeof(*t->slots));
	if (!t->slots)
		goto err_free_names;
	return t;

err_free_names:
	free(t->names);
err_free_table:
	free(t);
err_out:
	errno = ENOMEM;
	return NULL;
}

void tool_table__free(struct tool_table *t)
{
	unsigned int id;

	if (!t)
		return;
	for (id = 1; id <= t->nr_names; id++)
		free(t->names[id]);
	free(t->names);
	free(t->slots);
	free(t);
}

unsigned int tool_table__intern(struct tool_table *t, const char *name)
{
	struct index_slot *slot;
	size_t len;
	uint32_t hash;
	char *copy;

	if (!name || !strcmp(name, TOOL_OTHER_NAME))
		return TOOL_OTHER_ID;
	len = strlen(name);
	hash = name__hash(name, len);
	slot = index__find(t->slots, t->nr_slots, t->names, name, hash);
	if (slot->id)
		return slot->id;
	if (t->nr_names >= t->max_tools)
		goto overflow;
	/* keep the load factor at most 1/2 so that probe runs stay short */
	if ((size_t)(t->nr_names + 1) * 2 > t->nr_slots) {
		if (index__grow(t))
			goto overflow;
		slot = index__find(t->slots, t->nr_slots, t->names, name, hash);
	}
	if (t->nr_names + 1 >= t->names_cap && names__grow(t))
		goto overflow;
	copy = malloc(len + 1);
	if (!copy)
		goto overflow;
	memcpy(copy, name, len + 1);
	t->nr_names++;
	t->names[t->nr_names] = copy;
	slot->hash = hash;
	slot->id = t->nr_names;
	return slot->id;

overflow:
	t->overflows++;
	return TOOL_OTHER_ID;
}

int tool_table__lookup(const struct tool_table *t, const char *name)
{
	const struct index_slot *slot;

	if (!name)
		return -1;
	if (!strcmp(name, TOOL_OTHER_NAME))
		return TOOL_OTHER_ID;
	slot = index__find(t->slots, t->nr_slots, t->names, name, name__hash(name, strlen(name)));
	return slot->id ? (int)slot->id : -1;
}

const char *tool_table__name(const struct tool_table *t, unsigned int id)
{
	if (id == TOOL_OTHER_ID)
		return TOOL_OTHER_NAME;
	return id <= t->nr_names ? t->names[id] : NULL;
}

unsigned int tool_table__count(const struct tool_table *t)
{
	return t->nr_names + 1;
}

uint64_t tool_table__overflows(const struct tool_table *t)
{
	return t->overflows;
}
