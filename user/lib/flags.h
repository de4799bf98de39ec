/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One table-driven parser for every command line (`toolwatch agent`, `toolwatch trace`):
 * a table of flag specs, each naming a field of an options struct by its offset. One
 * behaviour everywhere: --flag=value, --flag value, bare switches, short aliases, and one
 * error line naming the flag. Pure: no libbpf, no I/O.
 */
#ifndef TOOLWATCH_FLAGS_H
#define TOOLWATCH_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_HELP = 1,    /* --help given: print usage, exit 0 */
	OPTIONS_VERSION = 2, /* --version given */
	OPTIONS_ERROR = -1,  /* err holds one line naming the flag: exit 2 */
};

/* What a flag's value is, and the type of the field it goes into. */
enum flag_kind {
	FLAG_BOOL,     /* bool: bare (true) or =true/false/yes/no/1/0; a repeat is harmless */
	FLAG_U32,      /* uint32_t: decimal in [min, max] */
	FLAG_U64,      /* uint64_t: decimal in [min, max] */
	FLAG_DURATION, /* uint64_t ns: parse_duration_ns() in [min, max] */
	FLAG_SIZE,     /* uint64_t bytes: parse_size_bytes() in [min, max] */
	FLAG_STRING,   /* char[size]: not empty, fits with its NUL (a path, a name, a pattern) */
	FLAG_LIST,     /* unsigned int: comma-separated names[i] -> bit i, "all" -> every bit */
	FLAG_DOUBLE,   /* double: a finite decimal number in [min_real, max_real] */
	FLAG_CUSTOM,   /* set() parses the value and writes the options itself */
};

struct flag {
	const char *name; /* long name, without the leading "--" */
	char short_name;  /* one-letter alias (-w), 0 for none */
	enum flag_kind kind;
	size_t offset;	   /* of the field in the options struct (not FLAG_CUSTOM) */
	size_t size;	   /* of that field: checked against the kind; capacity of a string */
	uint64_t min, max; /* numeric kinds; max 0 means the type's maximum */
	double min_real, max_real; /* FLAG_DOUBLE: inclusive bounds */
	const char *want;	   /* what a good value is, for the error line; NULL: by kind */
	const char *const *names;  /* FLAG_LIST: NULL-terminated, at most 32 */
	/*
	 * FLAG_CUSTOM: parses value into opts (the whole options struct). Returns 0, or
	 * -EINVAL with why set to the reason ("want ...") and opts unchanged.
	 */
	int (*set)(void *opts, const char *value, char *why, size_t why_size);
	bool repeatable; /* may be given again: the last wins, a FLAG_LIST adds up */
};

/* Offset and size of member of type, for a struct flag initializer. */
#define FLAG_FIELD(type, member)                                                                   \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

#define FLAGS_MAX 64 /* flags in one table */

/* One command line's flags. */
struct flag_set {
	const struct flag *flags;
	size_t count;	  /* at most FLAGS_MAX */
	bool has_version; /* --version is a flag (OPTIONS_VERSION) */
};

/*
 * Parses argv[0..argc) (flags only: no program or command name) into the options struct
 * opts, which holds defaults already. Accepts --flag=value, --flag value, short aliases
 * (-w), bare switches; -h/--help (and --version when set->has_version) end parsing.
 * Refuses, with one line in err naming the flag (or the argument), an unknown flag, a
 * positional argument, a missing or bad value, and a flag that is neither a switch nor
 * repeatable given twice. Fields of flags before the bad one may have been written.
 */
enum options_result flags__parse(const struct flag_set *set, void *opts, int argc, char **argv,
				 char *err, size_t err_size);

/*
 * Parses a comma-separated list of names (from the NULL-terminated names[], at most 32;
 * "all" selects all of them) into a mask, bit i for names[i]. Returns 0, or -EINVAL for an
 * empty list, an empty item or an unknown name (that item copied into bad, NUL
 * terminated; "" for an empty one) with *mask unchanged.
 */
int flag_list__parse(const char *const *names, const char *list, unsigned int *mask, char *bad,
		     size_t bad_size);

#endif /* TOOLWATCH_FLAGS_H */
