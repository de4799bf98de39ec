/* SPDX-License-Identifier: GPL-2.0 */
/* JSON encoding for `toolwatch trace --json`: strings and flat objects, pure. */
#ifndef TOOLWATCH_JSON_H
#define TOOLWATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/*
 * Appends len bytes of s as a quoted JSON string. Escapes `"` and `\`; \n \r \t \b \f by
 * name; other bytes below 0x20 (NUL included) and 0x7f as \u00xx (lowercase hex). Each
 * byte that does not start a well-formed UTF-8 sequence becomes \ufffd; well-formed
 * multibyte sequences are copied as they are. The output is always valid UTF-8 JSON.
 */
void json__append_string(struct strbuf *sb, const char *s, size_t len);

/* json__append_string() of a NUL-terminated string; NULL is appended as "". */
void json__append_string0(struct strbuf *sb, const char *s);

/*
 * Appends the visible form of the NUL-terminated s (strbuf__put_visible()) as a quoted JSON
 * string: the same value the exposition gives a label, e.g. for tool names.
 */
void json__append_visible(struct strbuf *sb, const char *s);

/* The members of one JSON object being appended: commas go between them. */
struct json_object {
	struct strbuf *sb;
	bool first;
};

/* Appends "{" to sb and starts o there. */
void json_object__begin(struct json_object *o, struct strbuf *sb);

/* Appends "}". */
void json_object__end(struct json_object *o);

/* Appends the name of the next member, `"key":` (key is plain ASCII); the value is next. */
void json_object__key(struct json_object *o, const char *key);

/* A string member (json__append_string0); null when s is NULL. */
void json_object__string(struct json_object *o, const char *key, const char *s);

/* A member holding the visible form of s (json__append_visible); null when s is NULL. */
void json_object__visible(struct json_object *o, const char *key, const char *s);

/* A number member. */
void json_object__u64(struct json_object *o, const char *key, uint64_t v);

/* A number member, or null when not known. */
void json_object__u64_or_null(struct json_object *o, const char *key, bool known, uint64_t v);

/* A true/false member. */
void json_object__bool(struct json_object *o, const char *key, bool v);

#endif /* TOOLWATCH_JSON_H */
