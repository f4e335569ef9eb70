/* The fast snapshot checksum: independent of how the bytes are split, sensitive to every
 * bit and to the length. */
#include <criterion/criterion.h>
#include <string.h>

#include "journal/journal_internal.h"

static uint64_t checksum_of(const unsigned char *bytes, size_t size, size_t piece)
{
    cor__checksum state;
    cor__checksum_init(&state);
    for (size_t at = 0; at < size; at += piece) {
        cor__checksum_update(&state, bytes + at, size - at < piece ? size - at : piece);
    }
    return cor__checksum_final(&state);
}

Test(journal_checksum, split_points_do_not_matter)
{
    unsigned char bytes[1000];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 13 + 5);
    uint64_t whole = checksum_of(bytes, sizeof(bytes), sizeof(bytes));
    size_t pieces[] = {1, 3, 7, 31, 32, 33, 64, 999};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        cr_assert_eq(checksum_of(bytes, sizeof(bytes), pieces[i]), whole, "piece %zu", pieces[i]);
    }
}

Test(journal_checksum, every_bit_and_the_length_count)
{
    unsigned char bytes[200];
    memset(bytes, 0, sizeof(bytes));
    uint64_t base = checksum_of(bytes, sizeof(bytes), sizeof(bytes));
    for (size_t i = 0; i < sizeof(bytes); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            bytes[i] ^= (unsigned char)(1u << bit);
            cr_assert_neq(checksum_of(bytes, sizeof(bytes), sizeof(bytes)), base);
            bytes[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* Zero padding of the last stripe must not make lengths collide. */
    cr_assert_neq(checksum_of(bytes, 199, 199), base);
    cr_assert_neq(checksum_of(bytes, 0, 1), checksum_of(bytes, 1, 1));
}
