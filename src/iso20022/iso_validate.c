/*
 * Text facets of the generated schema tables (iso_schema.c): lengths in characters,
 * enumerations, decimals (totalDigits, fractionDigits, non-negative), booleans, dates and
 * times, and XSD patterns of the small regex subset the ISO schemas use. Pure functions.
 *
 * Patterns are matched greedily without backtracking. That is exact for the ISO patterns
 * because each quantified atom is followed by an atom whose characters it cannot take (the
 * generator's input is fixed; tests/unit/iso20022/test_check.c covers every pattern shape).
 */
#include <string.h>

#include "common/assert.h"
#include "iso20022/iso_internal.h"

const cor__iso_schema *cor__iso_schema_find(const char *definition)
{
    for (uint32_t i = 0; i < cor__iso_schema_count; i++) {
        if (strcmp(cor__iso_schemas[i].definition, definition) == 0) return &cor__iso_schemas[i];
    }
    return NULL;
}

/* ---- patterns ------------------------------------------------------------------------- */

/* Length in pattern bytes of the atom at p: [class], \x, (group) or one character. */
static size_t pattern_atom_size(const char *p)
{
    if (p[0] == '\\') return p[1] != '\0' ? 2 : 1;
    if (p[0] == '[' || p[0] == '(') {
        char close = p[0] == '[' ? ']' : ')';
        size_t i = 1;
        while (p[i] != '\0' && p[i] != close)
            i += p[i] == '\\' && p[i + 1] != '\0' ? 2 : 1;
        COR_ASSERT(p[i] == close); /* generated patterns are well-formed */
        return i + 1;
    }
    return 1;
}

static bool pattern_class_matches(const char *p, size_t size, unsigned char c)
{
    for (size_t i = 1; i + 1 < size;) {
        unsigned char low = (unsigned char)p[i];
        size_t step = 1;
        if (low == '\\') {
            low = (unsigned char)p[i + 1];
            step = 2;
        }
        if (p[i + step] == '-' && i + step + 1 < size - 1) {
            unsigned char high = (unsigned char)p[i + step + 1];
            if (c >= low && c <= high) return true;
            i += step + 2;
            continue;
        }
        if (c == low) return true;
        i += step;
    }
    return false;
}

static bool pattern_atom_matches(const char *p, size_t size, unsigned char c)
{
    if (c == '\0') return false;
    if (p[0] == '[') return pattern_class_matches(p, size, c);
    if (p[0] == '\\') return c == (unsigned char)p[1];
    if (p[0] == '.') return c != '\n';
    return c == (unsigned char)p[0];
}

/* Quantifier at p ({n}, {n,m}, ?, *, +, or none); returns its size in pattern bytes. */
static size_t pattern_quantifier(const char *p, uint32_t *min, uint32_t *max)
{
    *min = 1;
    *max = 1;
    if (*p == '?' || *p == '*' || *p == '+') {
        *min = *p == '+' ? 1u : 0u;
        *max = *p == '?' ? 1u : UINT32_MAX;
        return 1;
    }
    if (*p != '{') return 0;
    size_t i = 1;
    uint32_t low = 0, high = 0;
    while (p[i] >= '0' && p[i] <= '9')
        low = low * 10u + (uint32_t)(p[i++] - '0');
    high = low;
    if (p[i] == ',') {
        i++;
        high = 0;
        while (p[i] >= '0' && p[i] <= '9')
            high = high * 10u + (uint32_t)(p[i++] - '0');
    }
    COR_ASSERT(p[i] == '}');
    *min = low;
    *max = high;
    return i + 1;
}

/* Matches pattern [p, end) (no groups) at text + *at greedily; advances *at on success. */
static bool pattern_match_atoms(const char *p, const char *end, const char *text, size_t *at)
{
    size_t position = *at;
    while (p < end) {
        size_t atom = pattern_atom_size(p);
        COR_ASSERT(p[0] != '('); /* groups do not nest in the ISO patterns */
        uint32_t min = 0, max = 0;
        size_t quantifier = pattern_quantifier(p + atom, &min, &max);
        uint32_t count = 0;
        while (count < max && pattern_atom_matches(p, atom, (unsigned char)text[position])) {
            position++;
            count++;
        }
        if (count < min) return false;
        p += atom + quantifier;
    }
    *at = position;
    return true;
}

bool cor__iso_pattern_match(const char *pattern, const char *text)
{
    size_t at = 0;
    const char *p = pattern;
    while (*p != '\0') {
        size_t atom = pattern_atom_size(p);
        uint32_t min = 0, max = 0;
        size_t quantifier = pattern_quantifier(p + atom, &min, &max);
        if (p[0] == '(') {
            uint32_t count = 0;
            while (count < max) {
                size_t before = at;
                if (!pattern_match_atoms(p + 1, p + atom - 1, text, &at) || at == before) {
                    at = before;
                    break;
                }
                count++;
            }
            if (count < min) return false;
        } else if (!pattern_match_atoms(p, p + atom + quantifier, text, &at)) {
            return false;
        }
        p += atom + quantifier;
    }
    return text[at] == '\0';
}

/* ---- text facets ---------------------------------------------------------------------- */

static bool text_enumerated(const char *list, const char *text)
{
    size_t length = strlen(text);
    for (const char *item = list; *item != '\0';) {
        const char *bar = strchr(item, '|');
        size_t size = bar != NULL ? (size_t)(bar - item) : strlen(item);
        if (size == length && memcmp(item, text, size) == 0) return true;
        if (bar == NULL) break;
        item = bar + 1;
    }
    return false;
}

static const char *text_decimal(const cor__iso_type *type, const char *text)
{
    const char *p = text;
    if (*p == '-' && type->non_negative) return "negative value not allowed";
    if (*p == '+' || *p == '-') p++;
    size_t whole = 0, fraction = 0, significant = 0, trailing_zeros = 0;
    bool point = false, leading = true;
    for (; *p != '\0'; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9') return "not a decimal number";
        if (point) {
            fraction++;
            trailing_zeros = *p == '0' ? trailing_zeros + 1 : 0;
        } else {
            whole++;
        }
        if (leading && *p == '0' && !point) continue;
        leading = false;
        significant++;
    }
    if (whole + fraction == 0) return "not a decimal number";
    significant -= trailing_zeros < significant ? trailing_zeros : significant;
    if (type->digits_fraction != 255 && fraction - trailing_zeros > type->digits_fraction) {
        return "too many fraction digits";
    }
    if (type->digits_total != 0 && significant > type->digits_total) return "too many digits";
    return NULL;
}

/* hh:mm:ss[.f][Z|+hh:mm] */
static bool text_time(const char *text)
{
    char datetime[48] = "2000-01-01T";
    if (strlen(text) > sizeof(datetime) - 12) return false;
    memcpy(datetime + 11, text, strlen(text) + 1);
    return cor_iso_datetime_valid(datetime);
}

/* YYYY-MM-DD with an optional zone, as xs:date allows. */
static bool text_date(const char *text)
{
    size_t length = strlen(text);
    if (length == 10) return cor_iso_date_valid(text);
    char datetime[48];
    if (length < 11 || length > 16) return false;
    memcpy(datetime, text, 10);
    memcpy(datetime + 10, "T00:00:00", 9);
    memcpy(datetime + 19, text + 10, length - 10 + 1);
    return cor_iso_datetime_valid(datetime);
}

const char *cor__iso_text_check(const cor__iso_type *type, const char *text)
{
    COR_ASSERT(type->kind == COR_ISO_SCHEMA_SIMPLE);
    switch (type->text) {
    case COR_ISO_TEXT_DECIMAL: {
        const char *problem = text_decimal(type, text);
        if (problem != NULL) return problem;
        break;
    }
    case COR_ISO_TEXT_BOOLEAN:
        if (!text_enumerated("true|false|1|0", text)) return "not a boolean";
        break;
    case COR_ISO_TEXT_DATE:
        if (!text_date(text)) return "invalid date";
        break;
    case COR_ISO_TEXT_DATETIME:
        if (!cor_iso_datetime_valid(text)) return "invalid date and time";
        break;
    case COR_ISO_TEXT_TIME:
        if (!text_time(text)) return "invalid time";
        break;
    case COR_ISO_TEXT_YEAR_MONTH: {
        char date[16];
        if (strlen(text) != 7) return "invalid year and month";
        memcpy(date, text, 7);
        memcpy(date + 7, "-01", 4);
        if (!cor_iso_date_valid(date)) return "invalid year and month";
        break;
    }
    default: {
        size_t length = cor__iso_utf8_length(text);
        if (type->length_min != 0 && length < type->length_min) return "text too short";
        if (type->length_max != 0 && length > type->length_max) return "text too long";
        break;
    }
    }
    if (type->pattern != NULL && !cor__iso_pattern_match(type->pattern, text)) {
        return "does not match the schema pattern";
    }
    if (type->enumeration != NULL && !text_enumerated(type->enumeration, text)) {
        return "value not in the schema's list";
    }
    return NULL;
}
