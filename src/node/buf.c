/* Bounded growable output buffer (see buf.h). */
#include "node/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

void cor_nbuf_init(cor_nbuf *buf, size_t size_bytes_max)
{
    memset(buf, 0, sizeof(*buf));
    buf->size_bytes_max = size_bytes_max;
}

void cor_nbuf_release(cor_nbuf *buf)
{
    cor_free(buf->data);
    memset(buf, 0, sizeof(*buf));
}

bool cor_nbuf_ok(const cor_nbuf *buf)
{
    return !buf->failed && buf->data != NULL;
}

void cor_nbuf_reset(cor_nbuf *buf)
{
    buf->size = 0;
    buf->failed = false;
    if (buf->data) buf->data[0] = '\0';
}

static bool nbuf_reserve(cor_nbuf *buf, size_t more)
{
    if (buf->failed) return false;
    size_t needed = buf->size + more + 1;
    if (needed > buf->size_bytes_max) {
        buf->failed = true;
        return false;
    }
    if (needed <= buf->capacity) return true;
    size_t capacity = buf->capacity ? buf->capacity : 1024;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > buf->size_bytes_max) capacity = buf->size_bytes_max;
    char *data = cor_alloc(capacity);
    if (data == NULL) {
        buf->failed = true;
        return false;
    }
    if (buf->size > 0) memcpy(data, buf->data, buf->size);
    cor_free(buf->data);
    buf->data = data;
    buf->capacity = capacity;
    return true;
}

void cor_nbuf_append(cor_nbuf *buf, const void *bytes, size_t size)
{
    if (!nbuf_reserve(buf, size)) return;
    memcpy(buf->data + buf->size, bytes, size);
    buf->size += size;
    buf->data[buf->size] = '\0';
}

void cor_nbuf_str(cor_nbuf *buf, const char *text)
{
    cor_nbuf_append(buf, text, strlen(text));
}

void cor_nbuf_printf(cor_nbuf *buf, const char *format, ...)
{
    char small[256];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(small, sizeof(small), format, args);
    va_end(args);
    if (length < 0) {
        buf->failed = true;
        return;
    }
    if ((size_t)length < sizeof(small)) {
        cor_nbuf_append(buf, small, (size_t)length);
        return;
    }
    if (!nbuf_reserve(buf, (size_t)length)) return;
    va_start(args, format);
    vsnprintf(buf->data + buf->size, (size_t)length + 1, format, args);
    va_end(args);
    buf->size += (size_t)length;
}

void cor_nbuf_json_string(cor_nbuf *buf, const char *text, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    if (!nbuf_reserve(buf, length * 6 + 2)) return;
    char *out = buf->data + buf->size;
    *out++ = '"';
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c < 0x20) {
            *out++ = '\\';
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '"';
    buf->size = (size_t)(out - buf->data);
    buf->data[buf->size] = '\0';
}

void cor_nbuf_json_u128(cor_nbuf *buf, cor_u128 value)
{
    if (value <= UINT64_MAX) { /* 128-bit division is slow; most values fit 64 bits */
        char small[24];
        int length = snprintf(small, sizeof(small), "\"%llu\"", (unsigned long long)value);
        cor_nbuf_append(buf, small, (size_t)length);
        return;
    }
    char digits[COR_U128_DECIMAL_SIZE_MAX + 2];
    digits[0] = '"';
    size_t length = cor_u128_format(value, digits + 1);
    digits[length + 1] = '"';
    cor_nbuf_append(buf, digits, length + 2);
}
