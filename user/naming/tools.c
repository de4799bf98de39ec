// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "naming/tools.h"

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

/* w is one of the words of list (NULL terminated; NULL is empty). */
static bool span__in(struct span w, const char *const *list)
{
	for (; list && *list; list++) {
		if (span__eq(w, *list))
			return true;
	}
	return false;
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

/* The module of `mod[/mainclass]`. */
static struct span span__module(struct span w)
{
	const char *slash = memchr(w.p, '/', w.len);

	if (slash)
		w.len = (size_t)(slash - w.p);
	return w;
}

static bool letter__in(char c, const char *set)
{
	return set && c && strchr(set, c);
}

struct interpreter;

/* How an interpreter writes its options. */
enum option_style {
	/* clusters `-abc` (and `+abc`), long `--name[=value]`; `--` ends the options */
	OPTIONS_GETOPT,
	/* whole words starting with '-' or '@' (java -cp, -jar, @argfile), no `--` */
	OPTIONS_WORDS,
	/* none: the first word runs, and an option there means nothing does (busybox applet) */
	OPTIONS_NONE,
};

/* An option letter followed by optional digits of its own: perl -0777, -l0, -0x1F. */
struct digits_option {
	char letter;
	const char *digits;
	const char *hex_digits; /* after an 'x' right behind the letter, when not NULL */
};

/*
 * How an interpreter's argv, from argv[1] on, is read to find what it runs: the script,
 * module, main class or applet. The first plain word runs unless an option said otherwise.
 * Letter sets are strings, word lists NULL terminated; NULL is empty. Long options are
 * matched on what precedes their '=' (`--name=value` carries its value; java's
 * single-dash words never do); unknown options take no value.
 */
struct argv_rules {
	enum option_style style;
	bool plus_clusters;	/* `+o` is a cluster too; its inline letters are mere flags */
	bool dash_ends_options; /* `-` ends the options (sh), rather than being standard input */
	/* letters in a cluster, by what they take */
	const char *inline_letters;    /* inline code or standard input: nothing runs (-c, -e) */
	const char *value_letters;     /* a value: the rest of the word, else the next word */
	const char *runs_letters;      /* a value, as above, that names what runs (python -m) */
	const char *rest_letters;      /* the rest of the word, even empty (perl -Mstrict, -i) */
	const char *next_word_letters; /* the next word; the cluster goes on (sh -euo pipefail) */
	const struct digits_option *digits; /* ended by an entry whose letter is 0 */
	/* long options, and in OPTIONS_WORDS every option */
	const char *const *long_inline;
	const char *const *long_value;	     /* `--name value` or `--name=value` */
	const char *const *long_runs;	     /* a value, as above, that names what runs */
	const char *const *long_runs_module; /* a value `mod[/mainclass]`: mod runs (java -m) */
	const char *subcommand; /* a first plain word that is not what runs (node inspect) */
	/*
	 * When what runs is an interpreter of this table (ended by a NULL name), what that one
	 * runs instead, by its own rules: busybox's shells. A launcher (env) would point here
	 * at interpreters[].
	 */
	const struct interpreter *then;
};

struct interpreter {
	const char *name;
	bool versioned; /* also matches name + [0-9][0-9.]*: python3.11, perl5.36.0 */
	const struct argv_rules *rules;
};

/* sh, bash, dash, zsh, ksh, mksh, ash, hush */
static const struct argv_rules shell_rules = {
    .style = OPTIONS_GETOPT,
    .plus_clusters = true,
    .dash_ends_options = true,
    .inline_letters = "cs",
    .next_word_letters = "oO",
    .long_value = (const char *const[]){"--rcfile", "--init-file", "--emulate", NULL},
};

/* python*, pypy* */
static const struct argv_rules python_rules = {
    .style = OPTIONS_GETOPT,
    .inline_letters = "c",
    .value_letters = "WXQ",
    .runs_letters = "m",
    .long_value = (const char *const[]){"--check-hash-based-pycs", NULL},
};

/* node, nodejs */
static const struct argv_rules node_rules = {
    .style = OPTIONS_GETOPT,
    .inline_letters = "ep",
    .value_letters = "rC",
    .long_inline = (const char *const[]){"--eval", "--print", NULL},
    .long_value =
	(const char *const[]){
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
	},
    .subcommand = "inspect",
};

/* perl* */
static const struct argv_rules perl_rules = {
    .style = OPTIONS_GETOPT,
    .inline_letters = "eE",
    .value_letters = "I",
    .rest_letters = "MmixdDCV",
    .digits = (const struct digits_option[]){{'0', "01234567", "0123456789abcdefABCDEF"},
					     {'l', "01234567", NULL},
					     {0, NULL, NULL}},
};

/* ruby* */
static const struct argv_rules ruby_rules = {
    .style = OPTIONS_GETOPT,
    .inline_letters = "e",
    .value_letters = "IrCE",
    .rest_letters = "xFiKTW0",
    .long_value =
	(const char *const[]){"--enable", "--disable", "--encoding", "--external-encoding",
			      "--internal-encoding", "--dump", NULL},
};

/* java: `-jar x.jar` runs the jar, `-m mod[/cls]` the module, otherwise the main class */
static const struct argv_rules java_rules = {
    .style = OPTIONS_WORDS,
    .long_value =
	(const char *const[]){
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
	},
    .long_runs = (const char *const[]){"-jar", NULL},
    .long_runs_module = (const char *const[]){"-m", "--module", NULL},
};

/* The applets of busybox that run a script of their own. */
static const struct interpreter busybox_shells[] = {
    {"sh", false, &shell_rules},   {"ash", false, &shell_rules}, {"hush", false, &shell_rules},
    {"bash", false, &shell_rules}, {NULL, false, NULL},
};

/* busybox: `busybox applet args` runs the applet, `busybox sh x.sh` the script */
static const struct argv_rules busybox_rules = {
    .style = OPTIONS_NONE,
    .then = busybox_shells,
};

static const struct interpreter interpreters[] = {
    {"sh", false, &shell_rules},	{"bash", false, &shell_rules},
    {"rbash", false, &shell_rules},	{"dash", false, &shell_rules},
    {"zsh", false, &shell_rules},	{"ash", false, &shell_rules},
    {"ksh", false, &shell_rules},	{"ksh93", false, &shell_rules},
    {"mksh", false, &shell_rules},	{"pdksh", false, &shell_rules},
    {"hush", false, &shell_rules},	{"python", true, &python_rules},
    {"pypy", true, &python_rules},	{"node", false, &node_rules},
    {"nodejs", false, &node_rules},	{"perl", true, &perl_rules},
    {"ruby", true, &ruby_rules},	{"java", false, &java_rules},
    {"busybox", false, &busybox_rules}, {NULL, false, NULL},
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

/* The first entry of table (ended by a NULL name) that matches name, or NULL. */
static const struct interpreter *interpreter__find(const struct interpreter *table,
						   struct span name)
{
	for (; table->name; table++) {
		if (interpreter__matches(table, name))
			return table;
	}
	return NULL;
}

bool tool__is_shell(const char *comm)
{
	const struct interpreter *i;
	struct span name = {comm, comm ? strnlen(comm, 16) : 0};

	if (!name.len)
		return false;
	i = interpreter__find(interpreters, name);
	return i && i->rules == &shell_rules;
}

void tool__argv_key(const char *comm, char key[TOOL_COMM_LEN])
{
	size_t n = comm ? strnlen(comm, TOOL_COMM_LEN) : 0;

	while (n && ((comm[n - 1] >= '0' && comm[n - 1] <= '9') || comm[n - 1] == '.'))
		n--;
	memset(key, 0, TOOL_COMM_LEN);
	if (n)
		memcpy(key, comm, n);
}

/* Whether an interpreter before upto in the table has key (ksh93's is ksh's). */
static bool argv_key_seen(const struct interpreter *upto, const char key[TOOL_COMM_LEN])
{
	char k[TOOL_COMM_LEN];

	for (const struct interpreter *t = interpreters; t < upto; t++) {
		tool__argv_key(t->name, k);
		if (!memcmp(k, key, sizeof(k)))
			return true;
	}
	return false;
}

size_t tool__argv_keys(char (*keys)[TOOL_COMM_LEN], size_t max)
{
	size_t n = 1;

	/* the empty key (no interpreter's), then each interpreter's once */
	if (max)
		tool__argv_key("", keys[0]);
	for (const struct interpreter *t = interpreters; t->name; t++) {
		char key[TOOL_COMM_LEN];

		tool__argv_key(t->name, key);
		if (argv_key_seen(t, key))
			continue;
		if (n < max)
			memcpy(keys[n], key, sizeof(key));
		n++;
	}
	return n;
}

/* What one argv word told the walk: read on, this names what runs, or nothing runs. */
enum walk {
	WALK_ON,
	WALK_FOUND,
	WALK_NONE,
};

/* A long option (or an OPTIONS_WORDS option) w, whose value may be the next word. */
static enum walk long_option(const struct argv_rules *r, struct argv_iter *it, struct span w,
			     struct span *out)
{
	const char *eq = NULL;
	struct span name = w, value;
	bool module;

	if (w.len > 2 && w.p[0] == '-' && w.p[1] == '-')
		eq = memchr(w.p, '=', w.len);
	if (eq) {
		name.len = (size_t)(eq - w.p);
		value.p = eq + 1;
		value.len = w.len - name.len - 1;
	}
	if (span__in(name, r->long_inline))
		return WALK_NONE;
	if (span__in(name, r->long_value))
		return eq || argv_iter__next(it, &value) ? WALK_ON : WALK_NONE;
	module = span__in(name, r->long_runs_module);
	if (!module && !span__in(name, r->long_runs))
		return WALK_ON;
	if (eq && !value.len) /* `--module=` names nothing */
		return WALK_ON;
	if (!eq && !argv_iter__next(it, &value))
		return WALK_NONE;
	*out = module ? span__module(value) : value;
	return WALK_FOUND;
}

/* How many letters after w.p[i] are the digits of that option letter (perl -0777). */
static size_t digits_after(const struct digits_option *d, struct span w, size_t i)
{
	size_t n = 0;

	for (; d && d->letter; d++) {
		const char *digits = d->digits;

		if (d->letter != w.p[i])
			continue;
		if (d->hex_digits && i + 1 < w.len && w.p[i + 1] == 'x') {
			digits = d->hex_digits;
			n = 1;
		}
		while (i + 1 + n < w.len && letter__in(w.p[i + 1 + n], digits))
			n++;
		break;
	}
	return n;
}

/* A cluster of option letters w: `-abc`, or `+abc` where plus_clusters. */
static enum walk short_options(const struct argv_rules *r, struct argv_iter *it, struct span w,
			       struct span *out)
{
	unsigned int next_words = 0;
	struct span value;
	size_t i;

	for (i = 1; i < w.len; i++) {
		char c = w.p[i];

		if (letter__in(c, r->inline_letters)) {
			if (w.p[0] == '-')
				return WALK_NONE;
		} else if (letter__in(c, r->next_word_letters)) {
			next_words++;
		} else if (letter__in(c, r->value_letters) || letter__in(c, r->runs_letters)) {
			if (!option_argument(it, w, i, &value))
				return WALK_NONE;
			if (!letter__in(c, r->runs_letters))
				break;
			*out = value;
			return WALK_FOUND;
		} else if (letter__in(c, r->rest_letters)) {
			break;
		} else {
			i += digits_after(r->digits, w, i);
		}
	}
	while (next_words--) {
		if (!argv_iter__next(it, &value))
			return WALK_NONE;
	}
	return WALK_ON;
}

/* The first word, as busybox reads it: an applet, unless it is an option. */
static bool first_word(struct argv_iter *it, struct span *out)
{
	struct span w;

	if (!argv_iter__next(it, &w))
		return false;
	*out = span__basename(w);
	return out->len && out->p[0] != '-';
}

/* w is an option read as a whole word: a long one, or any in OPTIONS_WORDS. */
static bool rules__is_whole_option(const struct argv_rules *r, struct span w)
{
	if (r->style == OPTIONS_WORDS)
		return w.len && (w.p[0] == '-' || w.p[0] == '@');
	return span__is_long(w);
}

/* Reads argv on from it by r: true with the word that names what runs, false if none does. */
static bool rules__find(const struct argv_rules *r, struct argv_iter *it, struct span *out)
{
	bool getopt_style = r->style == OPTIONS_GETOPT, subcommand_seen = false;
	enum walk step;
	struct span w;

	if (r->style == OPTIONS_NONE)
		return first_word(it, out);
	while (argv_iter__next(it, &w)) {
		if (getopt_style &&
		    (span__eq(w, "--") || (r->dash_ends_options && span__eq(w, "-"))))
			return argv_iter__next(it, out);
		if (getopt_style && span__eq(w, "-"))
			return false; /* standard input */
		if (rules__is_whole_option(r, w)) {
			step = long_option(r, it, w, out);
		} else if (getopt_style && span__is_short(w, r->plus_clusters)) {
			step = short_options(r, it, w, out);
		} else if (r->subcommand && !subcommand_seen && span__eq(w, r->subcommand)) {
			subcommand_seen = true;
			step = WALK_ON;
		} else {
			*out = w;
			step = WALK_FOUND;
		}
		if (step != WALK_ON)
			return step == WALK_FOUND;
	}
	return false;
}

/* What runs by r; when that is an interpreter r->then knows, what that one runs. */
static bool rules__script(const struct argv_rules *r, struct argv_iter *it, struct span *out)
{
	const struct interpreter *next;
	struct span script;

	if (!rules__find(r, it, out))
		return false;
	for (; r->then; r = next->rules) {
		next = interpreter__find(r->then, span__basename(*out));
		if (!next || !rules__find(next->rules, it, &script))
			break;
		*out = script;
	}
	return true;
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

/* "/dev/fd/N", "/proc/self/fd/N", "/proc/<pid>/fd/N": the name of an fd, not of a file. */
static bool path__is_bare_fd(struct span path)
{
	static const char *const prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/", NULL};
	const char *const *prefix;
	size_t i, n;

	for (prefix = prefixes; *prefix; prefix++) {
		n = strlen(*prefix);
		if (path.len <= n || memcmp(path.p, *prefix, n))
			continue;
		i = n;
		if (!strcmp(*prefix, "/proc/")) { /* /proc/<pid>/fd/ */
			while (i < path.len && path.p[i] >= '0' && path.p[i] <= '9')
				i++;
			if (i == n || path.len - i <= 4 || memcmp(path.p + i, "/fd/", 4))
				continue;
			i += 4;
		}
		for (n = i; i < path.len && path.p[i] >= '0' && path.p[i] <= '9'; i++)
			;
		if (i == path.len && i > n)
			return true;
	}
	return false;
}

/* The basename of an exec'd path, or empty when it names no file a user would recognise. */
static struct span filename__name(const char *filename)
{
	static const char deleted[] = " (deleted)";
	struct span path = {filename, strlen(filename)}, name;
	size_t n = sizeof(deleted) - 1;

	if (path.len > n && !memcmp(path.p + path.len - n, deleted, n))
		path.len -= n; /* d_path of an unlinked file */
	if (path__is_bare_fd(path))
		return (struct span){"", 0};
	name = span__basename(path);
	if (name.len >= 6 && !memcmp(name.p, "memfd:", 6))
		return (struct span){"", 0};
	return name;
}

/* A comm of digits only: older kernels name an fexecve'd image after its fd ("3"). */
static bool comm__is_fd_number(const char *comm)
{
	size_t i, n = strnlen(comm, TOOL_COMM_LEN);

	for (i = 0; i < n; i++) {
		if (comm[i] < '0' || comm[i] > '9')
			return false;
	}
	return n > 0;
}

/* Launchers that may stand as a script's interpreter and only exec what they launch. */
static const char *const shebang_launchers[] = {"env", NULL};

/*
 * The kernel ran a script whose `#!` line names a launcher: argv is then the launcher, at
 * most one argument of the `#!` line, and the script's path as exec'd.
 */
static bool shebang_through_launcher(struct span argv0, struct argv_iter it, const char *filename)
{
	struct span word;
	int i;

	if (!filename || !*filename || !span__in(argv0, shebang_launchers))
		return false;
	for (i = 0; i < 2 && argv_iter__next(&it, &word); i++) {
		if (span__eq(word, filename))
			return true;
	}
	return false;
}

void tool__name(const char *filename, const char *comm, const char *args, size_t args_size,
		char *out, size_t out_size)
{
	struct argv_iter it = {args, args ? args_size : 0};
	const struct interpreter *interp;
	struct span name = {"", 0}, word, script, argv0 = {"", 0};

	if (!out || !out_size)
		return;
	if (filename)
		name = filename__name(filename);
	if (argv_iter__next(&it, &word)) {
		argv0 = span__basename(word);
		if (argv0.len && argv0.p[0] == '-') { /* login shell: "-bash" */
			argv0.p++;
			argv0.len--;
		}
		if (argv0.len >= 6 && !memcmp(argv0.p, "memfd:", 6))
			argv0.len = 0;
	}
	/* the shebang step of a `#!/usr/bin/env X` script: env runs, the script runs next */
	if (name.len && shebang_through_launcher(argv0, it, filename))
		name = argv0;
	if (!name.len)
		name = argv0;
	if (!name.len && comm && !comm__is_fd_number(comm)) {
		name.p = comm;
		name.len = strnlen(comm, TOOL_COMM_LEN);
	}
	interp = name.len ? interpreter__find(interpreters, name) : NULL;
	/* `bash /dev/fd/3` (process substitution) runs no named script */
	if (interp && rules__script(interp->rules, &it, &script) && !path__is_bare_fd(script)) {
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

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool word__looks_random(const char *w, size_t len)
{
	size_t i, digits = 0, hex = 0;

	for (i = 0; i < len; i++) {
		if (w[i] >= '0' && w[i] <= '9')
			digits++;
		else if ((w[i] >= 'a' && w[i] <= 'f') || (w[i] >= 'A' && w[i] <= 'F'))
			hex++;
	}
	if (digits == len)
		return len >= 4;
	return digits + hex == len && len >= 8 && digits;
}

bool tool__normalize(char *name)
{
	size_t in = 0, out = 0, start, len;
	bool changed = false;

	while (name[in]) {
		if (!is_alnum(name[in])) {
			name[out++] = name[in++];
			continue;
		}
		for (start = in; is_alnum(name[in]); in++)
			;
		len = in - start;
		if (word__looks_random(name + start, len)) {
			name[out++] = '*';
			changed = true;
		} else {
			memmove(name + out, name + start, len);
			out += len;
		}
	}
	name[out] = '\0';
	return changed;
}
