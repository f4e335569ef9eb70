/*
 * corridor: unsigned 128-bit integers for ids and amounts.
 *
 * IRR amounts in minor units overflow 64 bits at national scale, so every id and amount is
 * a u128. JSON and XML carry them as decimal strings; these helpers convert exactly, with
 * no floating point anywhere.
 */
#ifndef CORRIDOR_U128_H
#define CORRIDOR_U128_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 cor_u128;

#define COR_U128_MAX (~(cor_u128)0)
#define COR_U128_DECIMAL_SIZE_MAX 40u /* 39 digits + NUL */

static inline cor_u128 cor_u128_make(uint64_t high, uint64_t low)
{
    return ((cor_u128)high << 64) | (cor_u128)low;
}

/*
 * Parses a plain decimal (digits only, no sign, no spaces, no leading '+'; leading zeros
 * allowed; 1 to 39 digits). Returns false on empty input, any other character, or overflow.
 */
bool cor_u128_parse(const char *text, size_t text_size, cor_u128 *out);

/* Writes the decimal form and a NUL into buffer (at least COR_U128_DECIMAL_SIZE_MAX bytes);
 * returns the number of digits written. */
size_t cor_u128_format(cor_u128 value, char *buffer);

#endif
