/* Exact decimal conversion of u128 values (see u128.h). */
#include "corridor/u128.h"

bool cor_u128_parse(const char *text, size_t text_size, cor_u128 *out)
{
    if (text_size == 0 || text_size > COR_U128_DECIMAL_SIZE_MAX - 1) return false;
    cor_u128 value = 0;
    for (size_t i = 0; i < text_size; i++) {
        char c = text[i];
        if (c < '0' || c > '9') return false;
        unsigned digit = (unsigned)(c - '0');
        if (value > (COR_U128_MAX - digit) / 10u) return false;
        value = value * 10u + digit;
    }
    *out = value;
    return true;
}

size_t cor_u128_format(cor_u128 value, char *buffer)
{
    char reversed[COR_U128_DECIMAL_SIZE_MAX];
    size_t count = 0;
    do {
        reversed[count++] = (char)('0' + (unsigned)(value % 10u));
        value /= 10u;
    } while (value != 0);
    for (size_t i = 0; i < count; i++) buffer[i] = reversed[count - 1 - i];
    buffer[count] = '\0';
    return count;
}
