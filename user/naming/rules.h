/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Naming rules in process-exporter's `process_names` format: comm/exe/cmdline matchers and
 * a name template per rule, the first matching rule names the execution. Pure apart from
 * rules__load, which reads the file.
 */
#ifndef TOOLWATCH_RULES_H
#define TOOLWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rules;

/*
 * Every cmdline regex runs against argv, which any user controls, so each match is bounded:
 * at most RULES_MATCH_LIMIT_CALLS internal calls (interpreter and JIT), a backtracking
 * depth of RULES_DEPTH_LIMIT_FRAMES and RULES_HEAP_LIMIT_KIB of heap (interpreter). A
 * match that hits a bound counts as no match and is counted (rules__take_match_errors);
 * after RULES_FAILED_PER_EXEC such failures naming one process, the rest of the rules are
 * skipped (the default naming applies). A bounded regex gives up after about 0.3 ms
 * (JIT) or 1.6 ms (interpreter) on a 2020s x86 core, so one execution costs at most a few
 * milliseconds of rules however hostile its argv.
 */
#define RULES_MATCH_LIMIT_CALLS	 100000
#define RULES_DEPTH_LIMIT_FRAMES 5000
#define RULES_HEAP_LIMIT_KIB	 1024
#define RULES_FAILED_PER_EXEC	 4

/* Why a regex gave no answer: the reason label of toolwatch_rules_match_errors_total. */
enum rules_match_error {
	RULES_MATCH_LIMIT,  /* match_limit: RULES_MATCH_LIMIT_CALLS */
	RULES_DEPTH_LIMIT,  /* depth_limit: depth, heap or JIT stack */
	RULES_MATCH_FAILED, /* error: any other failure (no memory, bad UTF-8 offsets) */
	RULES_MATCH_ERROR_MAX,
};

/* "match_limit", "depth_limit", "error"; "unknown" out of range. */
const char *rules_match_error__name(enum rules_match_error e);

/* What a rule sees of one execution; pointers valid during the call only. */
struct rules_process {
	const char *comm; /* task comm, NUL terminated */
	const char *args; /* argv words separated by NULs, last maybe cut short; NULL if none */
	size_t args_size;
	uint32_t uid;
	/* the user name of uid for {{.Username}}; NULL (or a NULL result) gives the number */
	const char *(*username)(uint32_t uid, void *ctx);
	void *ctx;
};

/*
 * Parses a YAML document of size bytes: a mapping whose only key is `process_names`, a list
 * of rules, each a mapping of `name` (a template, default "{{.ExeBase}}") and at least one
 * of `comm` (list of exact comms), `exe` (list: a word matches basename(argv[0]), a path
 * with a '/' matches argv[0] exactly), `cmdline` (list of regexes, all must match argv
 * joined with spaces; `(?P<name>...)` groups feed {{.Matches.name}}). Templates know
 * {{.Comm}}, {{.ExeBase}}, {{.ExeFull}}, {{.Username}} and {{.Matches.<group>}}.
 * file names the source in messages. Returns 0 and sets *out, or -EINVAL (bad document) or
 * -ENOMEM and writes one line naming file, line and key into err (no trailing newline).
 */
int rules__parse(const char *text, size_t size, const char *file, struct rules **out, char *err,
		 size_t err_size);

/* rules__parse on the contents of path; a file that cannot be read gives -errno and err. */
int rules__load(const char *path, struct rules **out, char *err, size_t err_size);

/* NULL-safe. */
void rules__free(struct rules *r);

/* Number of rules. */
size_t rules__count(const struct rules *r);

/*
 * Whether any rule reads argv: matches on it (an exe or a cmdline key) or names by it
 * ({{.ExeBase}}, an unnamed rule's name, or {{.ExeFull}}); false for NULL.
 */
bool rules__read_args(const struct rules *r);

/*
 * Names p by the first rule that matches it: returns true and writes the expanded template
 * into out (NUL terminated, cut to out_size - 1 bytes), or false when no rule matches, the
 * template expands to an empty name, or RULES_FAILED_PER_EXEC regexes failed on p (the
 * default naming applies then). Not reentrant:
 * one caller at a time per rules object.
 */
bool rules__name(struct rules *r, const struct rules_process *p, char *out, size_t out_size);

/* Adds to counts the regexes that failed (by reason) since the last call, and resets them. */
void rules__take_match_errors(struct rules *r, uint64_t counts[RULES_MATCH_ERROR_MAX]);
/* The regex, as the file wrote it, of the last failed match; NULL if none (r's lifetime). */
const char *rules__failed_regex(const struct rules *r);

#endif /* TOOLWATCH_RULES_H */
