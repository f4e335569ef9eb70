/*
 * Pure field checks of the ISO 20022 codec: identifiers (BIC, IBAN, LEI, UETR, ABA routing
 * numbers), dates, ISO 4217 currencies and exact decimal amounts, and the generated code
 * tables. No allocation, no state; every function takes NUL-terminated text.
 *
 * Amounts never touch floating point: "1250.5" in EUR becomes 125050 minor units by digit
 * arithmetic, and a fraction longer than the currency's minor units is refused unless the
 * extra digits are zeros (JPY "500.00" is 500; JPY "100.01" is refused).
 */
#include <string.h>

#include "common/assert.h"
#include "iso20022/iso_internal.h"

/* ---- character classes ---------------------------------------------------------------- */

static bool check_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool check_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool check_upper_alnum(char c)
{
    return check_upper(c) || check_digit(c);
}

/* ---- identifiers ---------------------------------------------------------------------- */

/* BICFIDec2014Identifier / AnyBICDec2014Identifier:
 * [A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})? */
bool cor_iso_bic_valid(const char *text)
{
    if (text == NULL) return false;
    size_t length = strlen(text);
    if (length != 8 && length != 11) return false;
    for (size_t i = 0; i < length; i++) {
        bool letter_only = i == 4 || i == 5;
        if (letter_only ? !check_upper(text[i]) : !check_upper_alnum(text[i])) return false;
    }
    return true;
}

/* ISO 7064 mod 97-10 over text rearranged as IBAN/LEI require: letters count as 10..35. */
static uint32_t check_mod97(const char *text, size_t length, size_t start)
{
    uint32_t remainder = 0;
    for (size_t step = 0; step < length; step++) {
        char c = text[(start + step) % length];
        if (check_digit(c)) {
            remainder = (remainder * 10u + (uint32_t)(c - '0')) % 97u;
        } else {
            uint32_t value = (uint32_t)(c >= 'a' ? c - 'a' : c - 'A') + 10u;
            remainder = (remainder * 100u + value) % 97u;
        }
    }
    return remainder;
}

/* IBAN2007Identifier: [A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}, then mod 97 == 1 with the first
 * four characters moved to the end. */
bool cor_iso_iban_valid(const char *text)
{
    if (text == NULL) return false;
    size_t length = strlen(text);
    if (length < 5 || length > 34) return false;
    if (!check_upper(text[0]) || !check_upper(text[1])) return false;
    if (!check_digit(text[2]) || !check_digit(text[3])) return false;
    for (size_t i = 4; i < length; i++) {
        char c = text[i];
        if (!check_upper_alnum(c) && !(c >= 'a' && c <= 'z')) return false;
    }
    return check_mod97(text, length, 4) == 1u;
}

/* LEIIdentifier: [A-Z0-9]{18}[0-9]{2}, ISO 17442 check digits: mod 97 == 1. */
bool cor_iso_lei_valid(const char *text)
{
    if (text == NULL || strlen(text) != 20) return false;
    for (size_t i = 0; i < 18; i++) {
        if (!check_upper_alnum(text[i])) return false;
    }
    if (!check_digit(text[18]) || !check_digit(text[19])) return false;
    return check_mod97(text, 20, 0) == 1u;
}

/* UUIDv4Identifier: [a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12} */
bool cor_iso_uetr_valid(const char *text)
{
    if (text == NULL || strlen(text) != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!check_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
    }
    if (text[14] != '4') return false;
    return text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b';
}

/* US ABA routing number: 9 digits, weights 3 7 1, sum divisible by 10. */
bool cor__iso_aba_valid(const char *text)
{
    static const uint32_t weights[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    if (text == NULL || strlen(text) != 9) return false;
    uint32_t sum = 0;
    for (size_t i = 0; i < 9; i++) {
        if (!check_digit(text[i])) return false;
        sum += weights[i] * (uint32_t)(text[i] - '0');
    }
    return sum % 10u == 0;
}

/* ---- dates ---------------------------------------------------------------------------- */

static bool check_number(const char *text, size_t count, uint32_t *out)
{
    uint32_t value = 0;
    for (size_t i = 0; i < count; i++) {
        if (!check_digit(text[i])) return false;
        value = value * 10u + (uint32_t)(text[i] - '0');
    }
    *out = value;
    return true;
}

static bool check_date_prefix(const char *text)
{
    uint32_t year = 0, month = 0, day = 0;
    if (!check_number(text, 4, &year) || text[4] != '-') return false;
    if (!check_number(text + 5, 2, &month) || text[7] != '-') return false;
    if (!check_number(text + 8, 2, &day)) return false;
    if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
    static const uint32_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4u == 0 && year % 100u != 0) || year % 400u == 0;
    uint32_t limit = days[month - 1] + (month == 2 && leap ? 1u : 0u);
    return day <= limit;
}

bool cor_iso_date_valid(const char *text)
{
    if (text == NULL || strlen(text) != 10) return false;
    return check_date_prefix(text);
}

/* YYYY-MM-DDThh:mm:ss[.f{1,9}][Z|(+|-)hh:mm] */
bool cor_iso_datetime_valid(const char *text)
{
    if (text == NULL) return false;
    size_t length = strlen(text);
    if (length < 19 || length > 35) return false;
    if (!check_date_prefix(text) || text[10] != 'T') return false;
    uint32_t hour = 0, minute = 0, second = 0;
    if (!check_number(text + 11, 2, &hour) || text[13] != ':') return false;
    if (!check_number(text + 14, 2, &minute) || text[16] != ':') return false;
    if (!check_number(text + 17, 2, &second)) return false;
    if (hour > 23 || minute > 59 || second > 59) return false;
    size_t at = 19;
    if (text[at] == '.') {
        size_t digits = 0;
        for (at++; check_digit(text[at]); at++)
            digits++;
        if (digits == 0 || digits > 9) return false;
    }
    if (text[at] == '\0') return true;
    if (text[at] == 'Z') return text[at + 1] == '\0';
    if (text[at] != '+' && text[at] != '-') return false;
    if (strlen(text + at) != 6 || text[at + 3] != ':') return false;
    uint32_t zone_hour = 0, zone_minute = 0;
    if (!check_number(text + at + 1, 2, &zone_hour)) return false;
    if (!check_number(text + at + 4, 2, &zone_minute)) return false;
    return zone_hour <= 14 && zone_minute <= 59;
}

/* ---- currencies and amounts ----------------------------------------------------------- */

typedef struct check_currency {
    char code[4];
    uint8_t exponent;
} check_currency;

/* ISO 4217 active codes with their minor units. Codes whose minor unit is "N.A." (precious
 * metals, SDR, bond units) use exponent 0. XTS (testing) and XXX (no currency) are absent. */
static const check_currency check_currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
    {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2},
    {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
    {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
    {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0},
    {"XAG", 0}, {"XAU", 0}, {"XBA", 0}, {"XBB", 0}, {"XBC", 0}, {"XBD", 0}, {"XCD", 2}, {"XCG", 2},
    {"XDR", 0}, {"XOF", 0}, {"XPD", 0}, {"XPF", 0}, {"XPT", 0}, {"XSU", 0}, {"XUA", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
};

#define CHECK_CURRENCY_COUNT (sizeof(check_currencies) / sizeof(check_currencies[0]))

int cor_iso_currency_exponent(const char *code)
{
    if (code == NULL || strlen(code) != 3) return -1;
    size_t low = 0, high = CHECK_CURRENCY_COUNT;
    while (low < high) {
        size_t middle = low + (high - low) / 2u;
        int order = memcmp(code, check_currencies[middle].code, 3);
        if (order == 0) return check_currencies[middle].exponent;
        if (order < 0) {
            high = middle;
        } else {
            low = middle + 1u;
        }
    }
    return -1;
}

/* XSD decimal as ISO amounts use it: digits, optional '.' and digits; at most 18
 * significant digits (totalDigits) and 5 fraction digits (fractionDigits). */
bool cor_iso_amount_parse(const char *text, size_t text_size, const char *currency,
                          cor_u128 *amount_minor_out)
{
    int exponent = cor_iso_currency_exponent(currency);
    if (text == NULL || exponent < 0 || text_size == 0 || text_size > 40) return false;
    size_t point = text_size;
    for (size_t i = 0; i < text_size; i++) {
        if (text[i] == '.') {
            if (point != text_size) return false;
            point = i;
        } else if (!check_digit(text[i])) {
            return false;
        }
    }
    if (point == 0 || point + 1 == text_size) return false; /* ".5" and "5." refused */
    size_t fraction_size = point == text_size ? 0 : text_size - point - 1;
    if (fraction_size > 5) return false;
    size_t significant = 0;
    bool leading = true;
    cor_u128 value = 0;
    for (size_t i = 0; i < point; i++) {
        if (leading && text[i] == '0') continue;
        leading = false;
        significant++;
        value = value * 10u + (unsigned)(text[i] - '0');
    }
    size_t fraction_used = 0;
    for (size_t i = 0; i < fraction_size; i++) {
        char c = text[point + 1 + i];
        if (i < (size_t)exponent) {
            value = value * 10u + (unsigned)(c - '0');
            fraction_used++;
        } else if (c != '0') {
            return false; /* more decimals than the currency has */
        }
    }
    size_t trailing = fraction_size;
    while (trailing > 0 && text[point + trailing] == '0')
        trailing--;
    significant += trailing;
    if (significant > 18) return false;
    for (; fraction_used < (size_t)exponent; fraction_used++)
        value *= 10u;
    *amount_minor_out = value;
    return true;
}

size_t cor_iso_amount_format(cor_u128 amount_minor, const char *currency, char *buffer,
                             size_t buffer_size)
{
    int exponent = cor_iso_currency_exponent(currency);
    if (exponent < 0 || buffer_size < 48) return 0;
    char digits[COR_U128_DECIMAL_SIZE_MAX];
    size_t count = cor_u128_format(amount_minor, digits);
    size_t places = (size_t)exponent;
    size_t at = 0;
    if (count <= places) {
        buffer[at++] = '0';
    } else {
        memcpy(buffer, digits, count - places);
        at = count - places;
    }
    if (places > 0) {
        buffer[at++] = '.';
        for (size_t i = count; i < places; i++)
            buffer[at++] = '0';
        size_t from = count > places ? count - places : 0;
        memcpy(buffer + at, digits + from, count - from);
        at += count - from;
    }
    buffer[at] = '\0';
    return at;
}

/* ---- code tables ---------------------------------------------------------------------- */

static const cor__iso_code *check_code_find(const cor__iso_code *codes, uint32_t count,
                                            const char *code)
{
    if (code == NULL || strlen(code) != 4) return NULL;
    uint32_t low = 0, high = count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2u;
        int order = memcmp(code, codes[middle].code, 4);
        if (order == 0) return &codes[middle];
        if (order < 0) {
            high = middle;
        } else {
            low = middle + 1u;
        }
    }
    return NULL;
}

bool cor_iso_status_reason_known(const char *code)
{
    return check_code_find(iso_status_reason_codes, iso_status_reason_count, code) != NULL;
}

bool cor_iso_tx_status_known(const char *code)
{
    return check_code_find(iso_tx_status_codes, iso_tx_status_count, code) != NULL;
}

bool cor_iso_group_status_known(const char *code)
{
    return check_code_find(iso_group_status_codes, iso_group_status_count, code) != NULL;
}

bool cor_iso_return_reason_known(const char *code)
{
    return check_code_find(iso_return_reason_codes, iso_return_reason_count, code) != NULL;
}

bool cor_iso_cancellation_reason_known(const char *code)
{
    return check_code_find(iso_cancellation_reason_codes, iso_cancellation_reason_count, code) !=
           NULL;
}

bool cor_iso_investigation_status_known(const char *code)
{
    return check_code_find(iso_investigation_status_codes, iso_investigation_status_count, code) !=
           NULL;
}

size_t cor__iso_utf8_length(const char *text)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p & 0xC0u) != 0x80u) count++;
    }
    return count;
}
