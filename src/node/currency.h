/* ISO 4217 currencies the node knows: alphabetic code, numeric code (the ledger id) and
 * minor-unit digits. Any currency is configuration; this table only names them. */
#ifndef COR_NODE_CURRENCY_H
#define COR_NODE_CURRENCY_H

#include <stddef.h>
#include <stdint.h>

typedef struct cor_currency {
    const char *alpha;    /* "RUB" */
    uint16_t numeric;     /* 643 */
    uint8_t minor_digits; /* 2 */
} cor_currency;

/* NULL when code (length bytes) is not a known ISO 4217 code. */
const cor_currency *cor_currency_by_alpha(const char *code, size_t length);
const cor_currency *cor_currency_by_numeric(uint32_t numeric);

#endif
