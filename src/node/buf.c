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

/* Decimal digits of value < 10^19 into out, zero-padded to width (0: no padding). */
static size_t nbuf_u64_digits(uint64_t value, char *out, size_t width)
{
    static const char pairs[] = /* "00" .. "99" */
        "0001020304050607080910111213141516171819"
        "2021222324252627282930313233343536373839"
        "4041424344454647484950515253545556575859"
        "6061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char reversed[21];
    size_t count = 0;
    while (value >= 100u) { /* two digits a division */
        const char *pair = pairs + 2u * (value % 100u);
        reversed[count++] = pair[1];
        reversed[count++] = pair[0];
        value /= 100u;
    }
    reversed[count++] = (char)('0' + value % 10u);
    if (value >= 10u) reversed[count++] = (char)('0' + value / 10u);
    while (count < width) reversed[count++] = '0';
    for (size_t i = 0; i < count; i++) out[i] = reversed[count - 1 - i];
    return count;
}

/* A u128 as a JSON string. Splits it into base-10^19 chunks (at most two 128-bit divisions)
 * instead of dividing by 10 per digit: node ids near 2^127 have 39 digits. */
void cor_nbuf_u64(cor_nbuf *buf, uint64_t value)
{
    char digits[20];
    cor_nbuf_append(buf, digits, nbuf_u64_digits(value, digits, 0));
}

void cor_nbuf_json_u128(cor_nbuf *buf, cor_u128 value)
{
    if (value <= UINT64_MAX) { /* most values: no 128-bit division */
        char digits[22];
        digits[0] = '"';
        size_t at = 1 + nbuf_u64_digits((uint64_t)value, digits + 1, 0);
        digits[at++] = '"';
        cor_nbuf_append(buf, digits, at);
        return;
    }
    const uint64_t chunk = 10000000000000000000ull; /* 10^19 */
    uint64_t parts[3];
    size_t count = 0;
    do {
        parts[count++] = (uint64_t)(value % chunk);
        value /= chunk;
    } while (value != 0);
    char digits[COR_U128_DECIMAL_SIZE_MAX + 2];
    size_t at = 0;
    digits[at++] = '"';
    at += nbuf_u64_digits(parts[count - 1], digits + at, 0);
    for (size_t i = count - 1; i > 0; i--) at += nbuf_u64_digits(parts[i - 1], digits + at, 19);
    digits[at++] = '"';
    cor_nbuf_append(buf, digits, at);
}
