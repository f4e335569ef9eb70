/*
 * A growable output buffer with a maximum fixed at init (response bodies). Appends past the
 * maximum or a failed allocation set a sticky failure flag instead of writing; the caller
 * checks cor_nbuf_ok once at the end.
 */
#ifndef COR_NODE_BUF_H
#define COR_NODE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/u128.h"

typedef struct cor_nbuf {
    char *data;            /* owned; NUL-terminated while ok */
    size_t size;           /* bytes used */
    size_t capacity;       /* bytes allocated */
    size_t size_bytes_max; /* appends beyond fail */
    bool failed;
} cor_nbuf;

void cor_nbuf_init(cor_nbuf *buf, size_t size_bytes_max);
void cor_nbuf_release(cor_nbuf *buf);
bool cor_nbuf_ok(const cor_nbuf *buf);
void cor_nbuf_reset(cor_nbuf *buf);

void cor_nbuf_append(cor_nbuf *buf, const void *bytes, size_t size);
void cor_nbuf_str(cor_nbuf *buf, const char *text);
void cor_nbuf_printf(cor_nbuf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal (quotes and escapes) of length bytes. */
void cor_nbuf_json_string(cor_nbuf *buf, const char *text, size_t length);
/* A u128 as a JSON string: "123". */
void cor_nbuf_json_u128(cor_nbuf *buf, cor_u128 value);
/* A u64 as a JSON number: 123 (callers keep it below 2^53 where clients read numbers). */
void cor_nbuf_u64(cor_nbuf *buf, uint64_t value);

#endif
