// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "lib/file.h"
#include "lib/strbuf.h"
#include "naming/rules.h"

#define RULES_FILE_MAX	 (1 << 20)    /* bytes of a rules file */
#define NO_VALUE	 "<no value>" /* what Go's templates print for a missing map key */
#define DEFAULT_TEMPLATE "{{.ExeBase}}"

enum part_kind {
	PART_TEXT,
	PART_COMM,
	PART_EXE_BASE,
	PART_EXE_FULL,
	PART_USERNAME,
	PART_MATCH, /* text is the group's name */
};

struct part {
	enum part_kind kind;
	char *text;
	size_t len;
};

struct rule {
	char **comms, **exes;
	size_t nr_comms, nr_exes;
	bool has_comm, has_exe;
	pcre2_code **regexes;
	pcre2_match_data **match_data;
	char **sources; /* each regex as written, for the message of a failed match */
	size_t nr_regexes;
	struct part *parts;
	size_t nr_parts;
};

struct rules {
	struct rule *rules;
	size_t nr_rules;
	char *line; /* argv joined with spaces, reused across calls */
	size_t line_cap;
	/* bounds every match: argv is written by whoever runs a process */
	pcre2_match_context *match_context;
	uint64_t match_errors[RULES_MATCH_ERROR_MAX]; /* since the last rules__take_match_errors */
	unsigned int failed_this_call;		      /* regexes that failed naming this process */
	const char *failed_regex;		      /* of the last failed match */
};

/* Where a parse stands, for its messages. */
struct parse {
	const char *file;
	char *err;
	size_t err_size;
	yaml_document_t *doc;
};

static int parse__fail(struct parse *ps, const yaml_node_t *node, const char *key, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static int parse__fail(struct parse *ps, const yaml_node_t *node, const char *key, const char *fmt,
		       ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->err_size)
		snprintf(ps->err, ps->err_size, "%s:%lu: %s%s%s", ps->file,
			 node ? (unsigned long)node->start_mark.line + 1 : 1UL, key ? key : "",
			 key ? ": " : "", msg);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value
						      : NULL;
}

static void rule__free(struct rule *rule)
{
	size_t i;

	for (i = 0; i < rule->nr_comms; i++)
		free(rule->comms[i]);
	for (i = 0; i < rule->nr_exes; i++)
		free(rule->exes[i]);
	for (i = 0; i < rule->nr_regexes; i++) {
		pcre2_match_data_free(rule->match_data[i]);
		pcre2_code_free(rule->regexes[i]);
		free(rule->sources[i]);
	}
	for (i = 0; i < rule->nr_parts; i++)
		free(rule->parts[i].text);
	free(rule->comms);
	free(rule->exes);
	free(rule->regexes);
	free(rule->match_data);
	free(rule->sources);
	free(rule->parts);
}

void rules__free(struct rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nr_rules; i++)
		rule__free(&r->rules[i]);
	free(r->rules);
	free(r->line);
	pcre2_match_context_free(r->match_context);
	free(r);
}

size_t rules__count(const struct rules *r)
{
	return r ? r->nr_rules : 0;
}

bool rules__read_args(const struct rules *r)
{
	for (size_t i = 0; r && i < r->nr_rules; i++) {
		const struct rule *rule = &r->rules[i];

		if (rule->has_exe || rule->nr_regexes)
			return true;
		/* {{.ExeBase}} (an unnamed rule's name) and {{.ExeFull}} expand argv[0] */
		for (size_t k = 0; k < rule->nr_parts; k++) {
			if (rule->parts[k].kind == PART_EXE_BASE ||
			    rule->parts[k].kind == PART_EXE_FULL)
				return true;
		}
	}
	return false;
}

static int template__add(struct rule *rule, enum part_kind kind, const char *text, size_t len)
{
	struct part *parts = reallocarray(rule->parts, rule->nr_parts + 1, sizeof(*parts));

	if (!parts)
		return -ENOMEM;
	rule->parts = parts;
	parts[rule->nr_parts] = (struct part){kind, NULL, len};
	if (text) {
		parts[rule->nr_parts].text = strndup(text, len);
		if (!parts[rule->nr_parts].text)
			return -ENOMEM;
	}
	rule->nr_parts++;
	return 0;
}

static bool is_identifier(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Splits a name template into text and the fields it names. */
static int template__parse(struct parse *ps, const yaml_node_t *node, const char *tmpl,
			   struct rule *rule)
{
	static const struct {
		const char *field;
		enum part_kind kind;
	} fields[] = {{".Comm", PART_COMM},
		      {".ExeBase", PART_EXE_BASE},
		      {".ExeFull", PART_EXE_FULL},
		      {".Username", PART_USERNAME}};
	const char *p = tmpl, *open, *close, *a, *b;
	size_t i;
	int err;

	while (*p) {
		open = strstr(p, "{{");
		if (!open)
			return template__add(rule, PART_TEXT, p, strlen(p));
		if (open > p && (err = template__add(rule, PART_TEXT, p, (size_t)(open - p))))
			return err;
		close = strstr(open + 2, "}}");
		if (!close)
			return parse__fail(ps, node, "name", "unclosed action in template '%s'",
					   tmpl);
		for (a = open + 2; a < close && *a == ' '; a++)
			;
		for (b = close; b > a && b[-1] == ' '; b--)
			;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if ((size_t)(b - a) == strlen(fields[i].field) &&
			    !memcmp(a, fields[i].field, (size_t)(b - a)))
				break;
		}
		if (i < sizeof(fields) / sizeof(fields[0])) {
			err = template__add(rule, fields[i].kind, NULL, 0);
		} else if (b - a > 9 && !memcmp(a, ".Matches.", 9) &&
			   is_identifier(a + 9, (size_t)(b - a - 9))) {
			err = template__add(rule, PART_MATCH, a + 9, (size_t)(b - a - 9));
		} else {
			return parse__fail(ps, node, "name", "unsupported template action '%.*s'",
					   (int)(close + 2 - open), open);
		}
		if (err)
			return err;
		p = close + 2;
	}
	return 0;
}

/* A list of scalars under key: strings copied into *out. */
static int strings__parse(struct parse *ps, const char *key, const yaml_node_t *node, char ***out,
			  size_t *nr)
{
	yaml_node_item_t *item;
	const char *s;

	if (node->type != YAML_SEQUENCE_NODE)
		return parse__fail(ps, node, key, "expected a list of strings");
	for (item = node->data.sequence.items.start; item < node->data.sequence.items.top; item++) {
		const yaml_node_t *v = yaml_document_get_node(ps->doc, *item);
		char **grown;

		s = scalar(v);
		if (!s)
			return parse__fail(ps, v ? v : node, key, "expected a string");
		grown = reallocarray(*out, *nr + 1, sizeof(**out));
		if (!grown)
			return -ENOMEM;
		*out = grown;
		grown[*nr] = strdup(s);
		if (!grown[*nr])
			return -ENOMEM;
		(*nr)++;
	}
	return 0;
}

static int regexes__compile(struct parse *ps, const yaml_node_t *node, struct rule *rule,
			    char **patterns, size_t nr)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE offset;
	int code;
	size_t i;

	rule->regexes = calloc(nr ? nr : 1, sizeof(*rule->regexes));
	rule->match_data = calloc(nr ? nr : 1, sizeof(*rule->match_data));
	rule->sources = calloc(nr ? nr : 1, sizeof(*rule->sources));
	if (!rule->regexes || !rule->match_data || !rule->sources)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		pcre2_code *re =
		    pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
				  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);

		if (!re) {
			pcre2_get_error_message(code, msg, sizeof(msg));
			return parse__fail(ps, node, "cmdline", "bad regex '%s': %s at offset %zu",
					   patterns[i], (const char *)msg, (size_t)offset);
		}
		rule->regexes[rule->nr_regexes] = re;
		rule->match_data[rule->nr_regexes] = pcre2_match_data_create_from_pattern(re, NULL);
		rule->sources[rule->nr_regexes] = strdup(patterns[i]);
		rule->nr_regexes++;
		if (!rule->match_data[i] || !rule->sources[i])
			return -ENOMEM;
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	}
	return 0;
}

static void patterns__free(char **patterns, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(patterns[i]);
	free(patterns);
}

static int rule__parse(struct parse *ps, const yaml_node_t *node, struct rule *rule)
{
	const char *tmpl = DEFAULT_TEMPLATE, *key;
	const yaml_node_t *name_node = node, *k, *v;
	char **patterns = NULL;
	size_t nr_patterns = 0;
	bool has_cmdline = false, has_name = false;
	yaml_node_pair_t *pair;
	int err = 0;

	if (node->type != YAML_MAPPING_NODE)
		return parse__fail(ps, node, "process_names",
				   "expected a mapping of name, comm, exe, cmdline");
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(ps->doc, pair->key);
		v = yaml_document_get_node(ps->doc, pair->value);
		key = scalar(k);
		if (!key || !v) {
			err = parse__fail(ps, k ? k : node, NULL, "expected a key");
		} else if ((!strcmp(key, "name") && has_name) ||
			   (!strcmp(key, "comm") && rule->has_comm) ||
			   (!strcmp(key, "exe") && rule->has_exe) ||
			   (!strcmp(key, "cmdline") && has_cmdline)) {
			/* a second cmdline would compile over the first: one of each */
			err = parse__fail(ps, k, key, "given twice");
		} else if (!strcmp(key, "name")) {
			has_name = true;
			tmpl = scalar(v);
			name_node = v;
			if (!tmpl)
				err = parse__fail(ps, v, key, "expected a string");
			else if (!*tmpl)
				tmpl = DEFAULT_TEMPLATE;
		} else if (!strcmp(key, "comm")) {
			rule->has_comm = true;
			err = strings__parse(ps, key, v, &rule->comms, &rule->nr_comms);
		} else if (!strcmp(key, "exe")) {
			rule->has_exe = true;
			err = strings__parse(ps, key, v, &rule->exes, &rule->nr_exes);
		} else if (!strcmp(key, "cmdline")) {
			has_cmdline = true;
			err = strings__parse(ps, key, v, &patterns, &nr_patterns);
			if (!err)
				err = regexes__compile(ps, v, rule, patterns, nr_patterns);
		} else {
			err =
			    parse__fail(ps, k, key, "unknown key (want name, comm, exe, cmdline)");
		}
		if (err)
			goto out;
	}
	if (!rule->has_comm && !rule->has_exe && !has_cmdline) {
		err = parse__fail(ps, node, "process_names", "rule without comm, exe or cmdline");
		goto out;
	}
	err = template__parse(ps, name_node, tmpl, rule);
out:
	patterns__free(patterns, nr_patterns);
	return err;
}

static int document__parse(struct parse *ps, struct rules *r)
{
	const yaml_node_t *root = yaml_document_get_root_node(ps->doc), *k, *v = NULL, *list = NULL;
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	const char *key;
	int err;

	if (!root)
		return parse__fail(ps, NULL, "process_names", "missing (empty document)");
	if (root->type != YAML_MAPPING_NODE)
		return parse__fail(ps, root, NULL, "expected a mapping with key process_names");
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(ps->doc, pair->key);
		v = yaml_document_get_node(ps->doc, pair->value);
		key = scalar(k);
		if (!key || strcmp(key, "process_names"))
			return parse__fail(ps, k ? k : root, key ? key : NULL,
					   "unknown key (want process_names)");
		if (list)
			return parse__fail(ps, k, key, "given twice");
		list = v;
	}
	if (!list)
		return parse__fail(ps, root, "process_names", "missing");
	if (list->type != YAML_SEQUENCE_NODE)
		return parse__fail(ps, list, "process_names", "expected a list of rules");
	for (item = list->data.sequence.items.start; item < list->data.sequence.items.top; item++) {
		struct rule *grown = reallocarray(r->rules, r->nr_rules + 1, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		r->rules = grown;
		memset(&grown[r->nr_rules], 0, sizeof(*grown));
		r->nr_rules++;
		err = rule__parse(ps, yaml_document_get_node(ps->doc, *item),
				  &r->rules[r->nr_rules - 1]);
		if (err)
			return err;
	}
	return 0;
}

int rules__parse(const char *text, size_t size, const char *file, struct rules **out, char *err,
		 size_t err_size)
{
	struct parse ps = {file ? file : "rules", err, err_size, NULL};
	yaml_parser_t parser;
	yaml_document_t doc;
	struct rules *r;
	int ret;

	*out = NULL;
	if (err && err_size)
		err[0] = '\0';
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->match_context = pcre2_match_context_create(NULL);
	if (!r->match_context || !yaml_parser_initialize(&parser)) {
		rules__free(r);
		return -ENOMEM;
	}
	/* the interpreter and the JIT both count calls; depth and heap bound the interpreter,
	 * the JIT's own stack (32 KiB) bounds it */
	pcre2_set_match_limit(r->match_context, RULES_MATCH_LIMIT_CALLS);
	pcre2_set_depth_limit(r->match_context, RULES_DEPTH_LIMIT_FRAMES);
	pcre2_set_heap_limit(r->match_context, RULES_HEAP_LIMIT_KIB);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
	if (!yaml_parser_load(&parser, &doc)) {
		if (err && err_size) {
			snprintf(err, err_size, "%s:%lu: %s", ps.file,
				 (unsigned long)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "not YAML");
			str__one_line(err); /* the file name is outside input too */
		}
		yaml_parser_delete(&parser);
		rules__free(r);
		return -EINVAL;
	}
	ps.doc = &doc;
	ret = document__parse(&ps, r);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret) {
		if (ret == -ENOMEM && err && err_size)
			snprintf(err, err_size, "%s: out of memory", ps.file);
		if (err && err_size) /* it may quote keys and values of the file */
			str__one_line(err);
		rules__free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int rules__load(const char *path, struct rules **out, char *err, size_t err_size)
{
	char *text;
	size_t used;
	int ret;

	*out = NULL;
	ret = file__read(path, RULES_FILE_MAX - 1, 0, &text, &used);
	if (ret == -EFBIG) {
		snprintf(err, err_size, "%s: larger than %d bytes", path, RULES_FILE_MAX);
		return ret;
	}
	if (ret) {
		errno = -ret;
		goto fail_errno;
	}
	ret = rules__parse(text, used, path, out, err, err_size);
	free(text);
	return ret;

fail_errno:
	ret = -errno;
	if (err && err_size)
		snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
	return ret;
}

/* Matching */

struct process_view {
	const struct rules_process *p;
	const char *exe_full; /* argv[0], or comm without argv */
	size_t exe_full_len;
	const char *exe_base;
	size_t exe_base_len;
	const char *line; /* argv joined with spaces */
	size_t line_len;
};

static bool rule__match_comm(const struct rule *rule, const char *comm)
{
	size_t i;

	for (i = 0; i < rule->nr_comms; i++) {
		if (!strcmp(rule->comms[i], comm))
			return true;
	}
	return false;
}

static bool rule__match_exe(const struct rule *rule, const struct process_view *v)
{
	const char *slash;
	size_t i, n;

	if (!v->p->args || !v->p->args_size)
		return false; /* process-exporter: no argv, no exe match */
	for (i = 0; i < rule->nr_exes; i++) {
		const char *e = rule->exes[i];

		n = strlen(e);
		slash = strrchr(e, '/');
		if (slash) {
			if (n == v->exe_full_len && !memcmp(e, v->exe_full, n))
				return true;
		} else if (n == v->exe_base_len && !memcmp(e, v->exe_base, n)) {
			return true;
		}
	}
	return false;
}

const char *rules_match_error__name(enum rules_match_error e)
{
	static const char *const names[RULES_MATCH_ERROR_MAX] = {
	    [RULES_MATCH_LIMIT] = "match_limit",
	    [RULES_DEPTH_LIMIT] = "depth_limit",
	    [RULES_MATCH_FAILED] = "error",
	};

	return (unsigned int)e < RULES_MATCH_ERROR_MAX ? names[e] : "unknown";
}

static enum rules_match_error match_error_of(int rc)
{
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
		return RULES_MATCH_LIMIT;
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return RULES_DEPTH_LIMIT;
	default:
		return RULES_MATCH_FAILED;
	}
}

/* A regex that fails (a limit hit: see RULES_MATCH_LIMIT_CALLS) does not match. */
static bool rule__match_cmdline(struct rules *r, const struct rule *rule,
				const struct process_view *v)
{
	size_t i;
	int rc;

	for (i = 0; i < rule->nr_regexes; i++) {
		rc = pcre2_match(rule->regexes[i], (PCRE2_SPTR)v->line, v->line_len, 0, 0,
				 rule->match_data[i], r->match_context);
		if (rc == PCRE2_ERROR_NOMATCH)
			return false;
		if (rc < 0) {
			r->match_errors[match_error_of(rc)]++;
			r->failed_regex = rule->sources[i];
			r->failed_this_call++;
			return false;
		}
	}
	return true;
}

static bool rule__matches(struct rules *r, const struct rule *rule, const struct process_view *v)
{
	if (rule->has_comm && !rule__match_comm(rule, v->p->comm ? v->p->comm : ""))
		return false;
	if (rule->has_exe && !rule__match_exe(rule, v))
		return false;
	return rule__match_cmdline(r, rule, v);
}

void rules__take_match_errors(struct rules *r, uint64_t counts[RULES_MATCH_ERROR_MAX])
{
	if (!r)
		return;
	for (int e = 0; e < RULES_MATCH_ERROR_MAX; e++) {
		counts[e] += r->match_errors[e];
		r->match_errors[e] = 0;
	}
}

const char *rules__failed_regex(const struct rules *r)
{
	return r ? r->failed_regex : NULL;
}

struct out_buf {
	char *p;
	size_t size, used;
	bool full;
};

static void out__put(struct out_buf *o, const char *s, size_t len)
{
	size_t room = o->size - 1 - o->used;

	if (o->full)
		return;
	if (len > room) {
		len = room;
		/* do not split a UTF-8 sequence */
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		o->full = true;
	}
	memcpy(o->p + o->used, s, len);
	o->used += len;
}

/*
 * Where the group name's value lies in the joined line, from the last regex of rule that has
 * the group (a group that took no part is empty); false when none has it.
 */
static bool rule__capture(const struct rule *rule, const char *name, size_t *off, size_t *len)
{
	size_t i = rule->nr_regexes;
	PCRE2_SIZE *ovector;
	int n;

	while (i--) {
		n = pcre2_substring_number_from_name(rule->regexes[i], (PCRE2_SPTR)name);
		if (n < 0)
			continue;
		ovector = pcre2_get_ovector_pointer(rule->match_data[i]);
		*off = 0;
		*len = 0;
		if (ovector[2 * n] != PCRE2_UNSET) {
			*off = ovector[2 * n];
			*len = ovector[2 * n + 1] - ovector[2 * n];
		}
		return true;
	}
	return false;
}

static void rule__expand(const struct rule *rule, const struct process_view *v, struct out_buf *o)
{
	char uid[16];
	size_t i, off, len;
	const char *s;

	for (i = 0; i < rule->nr_parts; i++) {
		const struct part *part = &rule->parts[i];

		switch (part->kind) {
		case PART_TEXT:
			out__put(o, part->text, part->len);
			break;
		case PART_COMM:
			s = v->p->comm ? v->p->comm : "";
			out__put(o, s, strlen(s));
			break;
		case PART_EXE_BASE:
			out__put(o, v->exe_base, v->exe_base_len);
			break;
		case PART_EXE_FULL:
			out__put(o, v->exe_full, v->exe_full_len);
			break;
		case PART_USERNAME:
			s = v->p->username ? v->p->username(v->p->uid, v->p->ctx) : NULL;
			if (!s) {
				snprintf(uid, sizeof(uid), "%u", v->p->uid);
				s = uid;
			}
			out__put(o, s, strlen(s));
			break;
		case PART_MATCH:
			if (rule__capture(rule, part->text, &off, &len))
				out__put(o, v->line + off, len);
			else
				out__put(o, NO_VALUE, strlen(NO_VALUE));
			break;
		}
	}
}

/* Joins argv with spaces into r->line, as process-exporter matches it. */
static int rules__join(struct rules *r, const struct rules_process *p, size_t *len)
{
	size_t n = p->args ? p->args_size : 0, i;

	if (n && p->args[n - 1] == '\0')
		n--;
	if (n + 1 > r->line_cap) {
		char *line = realloc(r->line, n + 1);

		if (!line)
			return -ENOMEM;
		r->line = line;
		r->line_cap = n + 1;
	}
	for (i = 0; i < n; i++)
		r->line[i] = p->args[i] ? p->args[i] : ' ';
	r->line[n] = '\0';
	*len = n;
	return 0;
}

bool rules__name(struct rules *r, const struct rules_process *p, char *out, size_t out_size)
{
	struct process_view v = {.p = p};
	struct out_buf o = {out, out_size, 0, false};
	const char *slash;
	size_t i, n;

	if (!r || !r->nr_rules || !out || !out_size)
		return false;
	if (rules__join(r, p, &v.line_len))
		return false;
	v.line = r->line;
	if (p->args && p->args_size) {
		n = strnlen(p->args, p->args_size);
		v.exe_full = p->args;
		v.exe_full_len = n;
		slash = memrchr(p->args, '/', n);
		v.exe_base = slash ? slash + 1 : p->args;
		v.exe_base_len = n - (size_t)(v.exe_base - p->args);
	} else {
		v.exe_full = v.exe_base = p->comm ? p->comm : "";
		v.exe_full_len = v.exe_base_len = strlen(v.exe_full);
	}
	r->failed_this_call = 0;
	for (i = 0; i < r->nr_rules; i++) {
		/* past RULES_FAILED_PER_EXEC bounded failures the default naming applies: what
		 * one execution costs is bounded however many regexes argv defeats */
		if (r->failed_this_call >= RULES_FAILED_PER_EXEC)
			return false;
		if (!rule__matches(r, &r->rules[i], &v))
			continue;
		rule__expand(&r->rules[i], &v, &o);
		out[o.used] = '\0';
		return o.used > 0;
	}
	return false;
}
