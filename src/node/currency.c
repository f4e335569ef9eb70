/* The ISO 4217 table of the node (see currency.h). */
#include "node/currency.h"

#include <string.h>

static const cor_currency currencies[] = {
    {"AED", 784, 2}, {"ARS", 32, 2},  {"BRL", 986, 2}, {"BYN", 933, 2}, {"CHF", 756, 2},
    {"CNY", 156, 2}, {"EGP", 818, 2}, {"ETB", 230, 2}, {"EUR", 978, 2}, {"GBP", 826, 2},
    {"IDR", 360, 2}, {"INR", 356, 2}, {"IRR", 364, 2}, {"JPY", 392, 0}, {"KGS", 417, 2},
    {"KRW", 410, 0}, {"KZT", 398, 2}, {"MYR", 458, 2}, {"RUB", 643, 2}, {"SAR", 682, 2},
    {"THB", 764, 2}, {"TJS", 972, 2}, {"TRY", 949, 2}, {"USD", 840, 2}, {"UZS", 860, 2},
    {"VND", 704, 0}, {"ZAR", 710, 2},
};

const cor_currency *cor_currency_by_alpha(const char *code, size_t length)
{
    if (length != 3) return NULL;
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        if (memcmp(currencies[i].alpha, code, 3) == 0) return &currencies[i];
    }
    return NULL;
}

const cor_currency *cor_currency_by_numeric(uint32_t numeric)
{
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        if (currencies[i].numeric == numeric) return &currencies[i];
    }
    return NULL;
}
