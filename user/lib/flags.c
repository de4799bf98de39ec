// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/flags.h"
#include "lib/strbuf.h"
#include "lib/parse.h"

#define LIST_NAMES_MAX	32
#define SHOWN_VALUE_MAX 64 /* bytes of a bad value quoted in the error line */

int flag_list__parse(const char *const *names, const char *list, unsigned int *mask, char *bad,
		     size_t bad_size)
{
	unsigned int m = 0, all = 0;
	const char *p = list;

	for (unsigned int i = 0; names[i] && i < LIST_NAMES_MAX; i++)
		all |= 1u << i;
	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = len == 3 && !strncmp(p, "all", 3);

		if (found)
			m |= all;
		for (unsigned int i = 0; names[i] && i < LIST_NAMES_MAX && !found; i++) {
			if (strlen(names[i]) == len && !strncmp(p, names[i], len)) {
				m |= 1u << i;
				found = true;
			}
		}
		if (!found) {
			snprintf(bad, bad_size, "%.*s", (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (!*p)
			break;
		p++; /* the comma: an item must follow it */
	}
	*mask = m;
	return 0;
}

/* "a, b, c or all": the names of a FLAG_LIST, for its error line. */
static void list_names(const char *const *names, char *out, size_t out_size)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned int i = 0; names[i] && i < LIST_NAMES_MAX && used < out_size; i++)
		used +=
		    (size_t)snprintf(out + used, out_size - used, "%s%s", i ? ", " : "", names[i]);
	if (used < out_size)
		snprintf(out + used, out_size - used, " or all");
}

/* The largest unit that divides ns exactly: "1s", "1ms", "90s". */
static void format_duration(uint64_t ns, char *out, size_t out_size)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
	    {"d", 86400000000000ULL}, {"h", 3600000000000ULL}, {"m", 60000000000ULL},
	    {"s", 1000000000ULL},     {"ms", 1000000ULL},      {"us", 1000ULL},
	};
	size_t i = 0;

	while (i < sizeof(units) / sizeof(units[0]) && (ns < units[i].ns || ns % units[i].ns))
		i++;
	if (i == sizeof(units) / sizeof(units[0]))
		snprintf(out, out_size, "%lluns", (unsigned long long)ns);
	else
		snprintf(out, out_size, "%llu%s", (unsigned long long)(ns / units[i].ns),
			 units[i].unit);
}

/* The largest binary unit that divides bytes exactly: "4KiB", "1GiB", "3000B". */
static void format_size(uint64_t bytes, char *out, size_t out_size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned int i = 0;

	while (bytes && !(bytes & 1023) && i + 1 < sizeof(units) / sizeof(units[0])) {
		bytes >>= 10;
		i++;
	}
	snprintf(out, out_size, "%llu%s", (unsigned long long)bytes, units[i]);
}

/* The field a flag writes: NULL when the table gives it the wrong size for its kind. */
static void *field(const struct flag *f, void *opts)
{
	size_t want;

	switch (f->kind) {
	case FLAG_BOOL:
		want = sizeof(bool);
		break;
	case FLAG_U32:
		want = sizeof(uint32_t);
		break;
	case FLAG_U64:
	case FLAG_DURATION:
	case FLAG_SIZE:
		want = sizeof(uint64_t);
		break;
	case FLAG_LIST:
		want = sizeof(unsigned int);
		break;
	case FLAG_DOUBLE:
		want = sizeof(double);
		break;
	case FLAG_STRING:
		return f->size >= 2 ? (char *)opts + f->offset : NULL;
	default:
		return NULL;
	}
	return f->size == want ? (char *)opts + f->offset : NULL;
}

/* Numeric kinds: the upper limit, max 0 meaning the field type's own. */
static uint64_t max_of(const struct flag *f)
{
	if (f->max)
		return f->max;
	return f->kind == FLAG_U32 ? UINT32_MAX : UINT64_MAX;
}

/* Why a duration was refused: the examples, and the limits when there are any. */
static void duration_why(const struct flag *f, char *why, size_t n)
{
	char lo[32], hi[32], range[80] = "";

	format_duration(f->min, lo, sizeof(lo));
	format_duration(max_of(f), hi, sizeof(hi));
	if (f->min > 1 && f->max)
		snprintf(range, sizeof(range), " (%s..%s)", lo, hi);
	else if (f->min > 1)
		snprintf(range, sizeof(range), " (at least %s)", lo);
	else if (f->max)
		snprintf(range, sizeof(range), " (at most %s)", hi);
	snprintf(why, n, "want a %sduration such as 500us, 10ms, 1.5s, 2m or 1h%s",
		 f->min == 1 ? "positive " : "", range);
}

/*
 * Parses value into the field of f. Returns 0, or -EINVAL with why set to the reason;
 * first says whether this is the flag's first occurrence (a repeated list adds up).
 */
static int set_value(const struct flag *f, void *opts, const char *value, bool first, char *why,
		     size_t n)
{
	char lo[32], hi[32], bad[SHOWN_VALUE_MAX + 1], names[256];
	void *dst = f->kind == FLAG_CUSTOM ? NULL : field(f, opts);
	unsigned int mask;
	uint64_t x;

	if (f->kind != FLAG_CUSTOM && !dst) {
		snprintf(why, n, "flag table gives it a field of the wrong size");
		return -EINVAL;
	}
	switch (f->kind) {
	case FLAG_BOOL:
		if (!parse_bool(value, dst))
			return 0;
		snprintf(why, n, "want true or false (or no value)");
		return -EINVAL;
	case FLAG_U32:
	case FLAG_U64:
		if (!parse_u64(value, f->min, max_of(f), &x)) {
			if (f->kind == FLAG_U32)
				*(uint32_t *)dst = (uint32_t)x;
			else
				*(uint64_t *)dst = x;
			return 0;
		}
		snprintf(why, n, "want %s%s%llu..%llu", f->want ? f->want : "", f->want ? ", " : "",
			 (unsigned long long)f->min, (unsigned long long)max_of(f));
		return -EINVAL;
	case FLAG_DURATION:
		if (!parse_duration_ns(value, &x) && x >= f->min && x <= max_of(f)) {
			*(uint64_t *)dst = x;
			return 0;
		}
		duration_why(f, why, n);
		return -EINVAL;
	case FLAG_SIZE:
		if (!parse_size_bytes(value, &x) && x >= f->min && x <= max_of(f)) {
			*(uint64_t *)dst = x;
			return 0;
		}
		format_size(f->min, lo, sizeof(lo));
		format_size(max_of(f), hi, sizeof(hi));
		snprintf(why, n, "want %s, %s..%s",
			 f->want ? f->want : "a size such as 64KiB or 4MiB", lo, hi);
		return -EINVAL;
	case FLAG_STRING:
		if (!parse_path(value, dst, f->size))
			return 0;
		snprintf(why, n, "want %s%s1..%zu bytes", f->want ? f->want : "",
			 f->want ? ", " : "", f->size - 1);
		return -EINVAL;
	case FLAG_LIST:
		if (!flag_list__parse(f->names, value, &mask, bad, sizeof(bad))) {
			if (!first && f->repeatable)
				mask |= *(unsigned int *)dst;
			*(unsigned int *)dst = mask;
			return 0;
		}
		list_names(f->names, names, sizeof(names));
		snprintf(why, n, "%s%s%swant a list of %s",
			 bad[0] ? "unknown item '" : "empty item; ", bad, bad[0] ? "'; " : "",
			 names);
		return -EINVAL;
	case FLAG_DOUBLE: {
		double d;
		char *end;

		errno = 0;
		d = *value && !strpbrk(value, "xXiInN ") ? strtod(value, &end) : NAN;
		if (isfinite(d) && !errno && !*end && d >= f->min_real && d <= f->max_real) {
			*(double *)dst = d;
			return 0;
		}
		snprintf(why, n, "want %s%sa number in %g..%g", f->want ? f->want : "",
			 f->want ? ", " : "", f->min_real, f->max_real);
		return -EINVAL;
	}
	case FLAG_CUSTOM:
		why[0] = '\0';
		if (!f->set(opts, value, why, n))
			return 0;
		if (!why[0])
			snprintf(why, n, "want %s", f->want ? f->want : "another value");
		return -EINVAL;
	}
	snprintf(why, n, "flag table gives it an unknown kind");
	return -EINVAL;
}

/* s cut to SHOWN_VALUE_MAX bytes ("..." after), control characters as '?': one line. */
static void shown_value(const char *s, char *out, size_t out_size)
{
	size_t len = strnlen(s, SHOWN_VALUE_MAX + 1);

	snprintf(out, out_size, "%.*s%s", SHOWN_VALUE_MAX, s, len > SHOWN_VALUE_MAX ? "..." : "");
	for (size_t i = 0; out[i]; i++)
		if ((unsigned char)out[i] < ' ' || out[i] == 0x7f)
			out[i] = '?';
}

/* The flag spelled by arg ("--name[=v]" or "-c"); *value is the "=v" part or NULL. */
static const struct flag *lookup(const struct flag_set *set, const char *arg, const char **value)
{
	const char *name, *eq;
	size_t len;

	*value = NULL;
	if (arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2]) {
		for (size_t k = 0; k < set->count; k++)
			if (set->flags[k].short_name == arg[1])
				return &set->flags[k];
		return NULL;
	}
	if (strncmp(arg, "--", 2))
		return NULL;
	name = arg + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t k = 0; k < set->count; k++) {
		if (strlen(set->flags[k].name) == len && !strncmp(set->flags[k].name, name, len)) {
			*value = eq ? eq + 1 : NULL;
			return &set->flags[k];
		}
	}
	return NULL;
}

enum options_result flags__parse(const struct flag_set *set, void *opts, int argc, char **argv,
				 char *err, size_t err_size)
{
	char why[512], shown[SHOWN_VALUE_MAX + 4];
	bool given[FLAGS_MAX] = {};

	if (set->count > FLAGS_MAX) {
		snprintf(err, err_size, "flag table holds %zu flags, more than %d", set->count,
			 FLAGS_MAX);
		return OPTIONS_ERROR;
	}
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *value;
		const struct flag *f;
		bool first;
		size_t k;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return OPTIONS_HELP;
		if (set->has_version && !strcmp(arg, "--version"))
			return OPTIONS_VERSION;
		if (arg[0] != '-' || !arg[1]) {
			shown_value(arg, shown, sizeof(shown));
			snprintf(err, err_size, "unexpected argument '%s'", shown);
			return OPTIONS_ERROR;
		}
		f = lookup(set, arg, &value);
		if (!f) {
			shown_value(arg, shown, sizeof(shown));
			shown[strcspn(shown, "=")] = '\0';
			snprintf(err, err_size, "unknown flag '%s'", shown);
			return OPTIONS_ERROR;
		}
		k = (size_t)(f - set->flags);
		first = !given[k];
		/* two filters of one kind are ambiguous (and? or?): refuse rather than guess */
		if (!first && !f->repeatable && f->kind != FLAG_BOOL) {
			snprintf(err, err_size, "flag '--%s' given twice", f->name);
			return OPTIONS_ERROR;
		}
		given[k] = true;
		if (!value) {
			if (f->kind == FLAG_BOOL) {
				value = "true";
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				snprintf(err, err_size, "flag '--%s' needs a value", f->name);
				return OPTIONS_ERROR;
			}
		}
		if (set_value(f, opts, value, first, why, sizeof(why))) {
			shown_value(value, shown, sizeof(shown));
			str__one_line(why); /* it may quote a list item or part of the value */
			snprintf(err, err_size, "invalid --%s '%s': %s", f->name, shown, why);
			return OPTIONS_ERROR;
		}
	}
	return OPTIONS_OK;
}
