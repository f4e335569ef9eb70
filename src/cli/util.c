/* Small helpers shared by the subcommands. */
#include <stddef.h>

#include "cli/cli.h"

bool cor_cli_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || *text == '\0') return false;
    uint64_t value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t digit = (uint64_t)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10u) return false;
        value = value * 10u + digit;
    }
    *out = value;
    return true;
}
