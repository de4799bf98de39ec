/* SPDX-License-Identifier: GPL-2.0 */
/* JSON string encoding for `toolwatch trace --json`, pure. */
#ifndef TOOLWATCH_JSON_H
#define TOOLWATCH_JSON_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Appends len bytes of s as a quoted JSON string. Escapes `"` and `\`; \n \r \t \b \f by
 * name; other bytes below 0x20 (NUL included) and 0x7f as \u00xx (lowercase hex). Each
 * byte that does not start a well-formed UTF-8 sequence becomes \ufffd; well-formed
 * multibyte sequences are copied as they are. The output is always valid UTF-8 JSON.
 */
void json__append_string(struct strbuf *sb, const char *s, size_t len);

/* json__append_string() of a NUL-terminated string; NULL is appended as "". */
void json__append_string0(struct strbuf *sb, const char *s);

#endif /* TOOLWATCH_JSON_H */
