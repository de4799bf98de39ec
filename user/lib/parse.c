// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/parse.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS (1000 * NS_PER_US)
#define NS_PER_S  (1000 * NS_PER_MS)
#define NS_PER_M  (60 * NS_PER_S)
#define NS_PER_H  (60 * NS_PER_M)
#define NS_PER_D  (24 * NS_PER_H)
#define NS_PER_W  (7 * NS_PER_D)
#define NS_PER_Y  (365 * NS_PER_D)

/* Fraction digits beyond this change the result by less than 1ns even for years. */
#define FRACTION_DIGITS_MAX 19

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Longest spelling first where one is a prefix of another (ms before m). µs: U+00B5, U+03BC. */
static const struct duration_unit {
	const char *name;
	uint64_t ns;
} duration_units[] = {
    {"y", NS_PER_Y},	      {"w", NS_PER_W},		{"d", NS_PER_D}, {"h", NS_PER_H},
    {"ms", NS_PER_MS},	      {"m", NS_PER_M},		{"s", NS_PER_S}, {"us", NS_PER_US},
    {"\xc2\xb5s", NS_PER_US}, {"\xce\xbcs", NS_PER_US}, {"ns", 1},
};

/* The unit spelled at s (its index in duration_units, *len its length) or -1. */
static int duration_unit__match(const char *s, size_t *len)
{
	size_t i, n;

	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		n = strlen(duration_units[i].name);
		if (!strncmp(s, duration_units[i].name, n)) {
			*len = n;
			return (int)i;
		}
	}
	return -1;
}

int parse_duration_ns(const char *s, uint64_t *out_ns)
{
	unsigned __int128 total = 0, whole, frac, scale, part;
	uint64_t last_unit_ns = UINT64_MAX;
	bool overflow = false;
	int unit;
	size_t digits, len;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*out_ns = 0;
		return 0;
	}
	while (*s) {
		if (!is_digit(*s))
			return -EINVAL;
		whole = 0;
		for (; is_digit(*s); s++) {
			whole = whole * 10 + (unsigned)(*s - '0');
			if (whole > UINT64_MAX) {
				overflow = true;
				whole = (unsigned __int128)UINT64_MAX + 1; /* keep it finite */
			}
		}
		frac = 0;
		scale = 1;
		if (*s == '.') {
			s++;
			if (!is_digit(*s))
				return -EINVAL;
			for (digits = 0; is_digit(*s); s++, digits++) {
				if (digits < FRACTION_DIGITS_MAX) {
					frac = frac * 10 + (unsigned)(*s - '0');
					scale *= 10;
				}
			}
		}
		unit = duration_unit__match(s, &len);
		/* strictly decreasing units: 1h30m, not 30m1h nor 1s2s */
		if (unit < 0 || duration_units[unit].ns >= last_unit_ns)
			return -EINVAL;
		last_unit_ns = duration_units[unit].ns;
		s += len;
		/* whole <= 2^64 and ns < 2^55: the product fits in 128 bits, as does frac * ns */
		part = whole * duration_units[unit].ns + frac * duration_units[unit].ns / scale;
		if (part > UINT64_MAX)
			overflow = true;
		else
			total += part;
		if (total > UINT64_MAX)
			overflow = true;
	}
	if (overflow)
		return -ERANGE;
	*out_ns = (uint64_t)total;
	return 0;
}

/* Parses the leading digits of s into *out (0 if none); *end points after them. */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;
	const char *p;

	for (p = s; is_digit(*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*end = p;
	if (p == s)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_digits(s, &end, &v);
	if (*end)
		return -EINVAL;
	if (err)
		return err;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct size_unit {
	const char *name;
	unsigned int shift;
} size_units[] = {
    {"", 0},	 {"B", 0},   {"K", 10},	  {"k", 10},   {"Ki", 10},  {"KiB", 10}, {"M", 20},
    {"m", 20},	 {"Mi", 20}, {"MiB", 20}, {"G", 30},   {"g", 30},   {"Gi", 30},	 {"GiB", 30},
    {"T", 40},	 {"t", 40},  {"Ti", 40},  {"TiB", 40}, {"P", 50},   {"p", 50},	 {"Pi", 50},
    {"PiB", 50}, {"E", 60},  {"e", 60},	  {"Ei", 60},  {"EiB", 60},
};

int parse_size_bytes(const char *s, uint64_t *out)
{
	const struct size_unit *unit = NULL;
	const char *end;
	uint64_t v;
	size_t i;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_digits(s, &end, &v);
	if (end == s)
		return -EINVAL;
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (!strcmp(end, size_units[i].name)) {
			unit = &size_units[i];
			break;
		}
	}
	if (!unit)
		return -EINVAL;
	if (err)
		return err;
	if (unit->shift && v > UINT64_MAX >> unit->shift)
		return -ERANGE;
	*out = v << unit->shift;
	return 0;
}

static bool is_name_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
	       c == '-' || c == '_';
}

/* Hex digits, ':' and '.' (embedded IPv4), then an optional %zone of name characters. */
static bool is_ipv6_host(const char *s, size_t len)
{
	bool colon = false, zone = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (zone) {
			if (!is_name_char(c))
				return false;
		} else if (c == '%') {
			if (i + 1 == len)
				return false;
			zone = true;
		} else if (c == ':') {
			colon = true;
		} else if (!is_digit(c) && c != '.' && !(c >= 'a' && c <= 'f') &&
			   !(c >= 'A' && c <= 'F')) {
			return false;
		}
	}
	return colon;
}

int parse_listen_address(const char *s, char *host, size_t host_size, uint16_t *port)
{
	const char *host_start, *colon;
	size_t host_len;
	uint64_t v;
	size_t i;
	int err;

	if (!s || !host || !host_size)
		return -EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host_start = s + 1;
		host_len = (size_t)(close - host_start);
		colon = close + 1;
		if (!is_ipv6_host(host_start, host_len))
			return -EINVAL;
	} else {
		colon = strchr(s, ':');
		if (!colon)
			return -EINVAL; /* no port */
		host_start = s;
		host_len = (size_t)(colon - s);
		for (i = 0; i < host_len; i++) {
			if (!is_name_char(s[i]))
				return -EINVAL;
		}
	}
	err = parse_u64(colon + 1, 0, UINT16_MAX, &v);
	if (err)
		return err;
	if (host_len >= host_size)
		return -EINVAL;
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const truths[] = {"true", "yes", "1"};
	static const char *const lies[] = {"false", "no", "0"};
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		if (!strcasecmp(s, truths[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, lies[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_path(const char *s, char *out, size_t out_size)
{
	size_t len = strlen(s);

	if (!len)
		return -EINVAL;
	if (len >= out_size)
		return -ENAMETOOLONG;
	memcpy(out, s, len + 1);
	return 0;
}
