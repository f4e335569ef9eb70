/*
 * Watch-list screening: a bounded RFC 4180 CSV loader and a deterministic matcher.
 * Format and matching rules: docs/SCREENING.md.
 *
 * Memory: open reserves two tables (active and staging), each an entry array and a string
 * arena, plus one line scratch buffer. load parses into staging and swaps on success.
 */
#include "corridor/screening.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"

#define SCR_COLUMNS 5
enum { COL_NAME, COL_IDENTIFIER, COL_TYPE, COL_LIST, COL_REFERENCE };
static const char *const scr_column_names[SCR_COLUMNS] = {"name", "identifier", "type", "list",
                                                          "reference"};
static const uint32_t scr_column_max[SCR_COLUMNS] = {
    COR_SCREENING_NAME_BYTES_MAX, COR_SCREENING_ID_BYTES_MAX, COR_SCREENING_TYPE_BYTES_MAX,
    COR_SCREENING_LIST_BYTES_MAX, COR_SCREENING_REF_BYTES_MAX};

/* Normalized name: words joined by one space, at most this long (folding never grows text). */
#define SCR_KEY_BYTES_MAX (COR_SCREENING_NAME_BYTES_MAX + 8)

typedef struct scr_entry {
    uint32_t line;
    uint32_t name;       /* arena offsets of NUL-terminated strings; name is the original */
    uint32_t key;        /* sorted normalized words joined by ' ', "" when no name */
    uint32_t identifier; /* normalized, "" when none */
    uint32_t list;
    uint32_t reference;
} scr_entry;

typedef struct scr_table {
    scr_entry *entries;
    uint32_t count;
    char *arena;
    size_t arena_used;
} scr_table;

struct cor_screening {
    cor_screening_options options;
    size_t arena_size;
    scr_table tables[2];
    uint32_t active; /* index into tables */
    char *line;      /* line_bytes_max + 1, unescaped fields */
};

void cor_screening_options_default(cor_screening_options *options)
{
    COR_ASSERT(options != NULL);
    options->size_bytes_max = 1024u * 1024u;
    options->entries_max = 10000u;
    options->line_bytes_max = 1024u;
}

cor_error cor_screening_open(const cor_screening_options *options, cor_screening **out)
{
    if (out == NULL) return COR_ERR_INVALID;
    *out = NULL;
    if (options == NULL || options->size_bytes_max == 0 ||
        options->size_bytes_max > COR_SCREENING_SIZE_BYTES_MAX || options->entries_max == 0 ||
        options->entries_max > COR_SCREENING_ENTRIES_MAX || options->line_bytes_max < 64 ||
        options->line_bytes_max > COR_SCREENING_LINE_BYTES_MAX)
        return COR_ERR_INVALID;

    cor_error rc = COR_ERR_NOMEM;
    cor_screening *s = cor_calloc(1, sizeof(*s));
    if (s == NULL) goto fail;
    s->options = *options;
    /* Every stored string is a copy (or a no-longer fold) of a field of its row, each at most
     * twice (name and key), plus a NUL per string: 2 * file size + 8 per entry bounds it. */
    s->arena_size = 2 * options->size_bytes_max + 8 * (size_t)options->entries_max + 16;
    for (int i = 0; i < 2; i++) {
        s->tables[i].entries = cor_calloc(options->entries_max, sizeof(scr_entry));
        s->tables[i].arena = cor_alloc(s->arena_size);
        if (s->tables[i].entries == NULL || s->tables[i].arena == NULL) goto fail;
    }
    s->line = cor_alloc((size_t)options->line_bytes_max + 1);
    if (s->line == NULL) goto fail;
    *out = s;
    return COR_OK;
fail:
    cor_screening_close(s);
    return rc;
}

void cor_screening_close(cor_screening *s)
{
    if (s == NULL) return;
    for (int i = 0; i < 2; i++) {
        cor_free(s->tables[i].entries);
        cor_free(s->tables[i].arena);
    }
    cor_free(s->line);
    cor_free(s);
}

uint32_t cor_screening_count(const cor_screening *s)
{
    COR_ASSERT(s != NULL);
    return s->tables[s->active].count;
}

/* ---- UTF-8 and normalization ---------------------------------------------------------- */

/* Decodes one scalar value; returns its length, 0 when the bytes are not valid UTF-8. */
static size_t scr_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (n == 0) return 0;
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t value, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, value = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, value = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, value = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0u) != 0x80u) return 0;
        value = (value << 6) | (p[i] & 0x3Fu);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    *cp = value;
    return len;
}

static size_t scr_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

#define SCR_SEP  0xFFFFFFFEu /* word separator */
#define SCR_DROP 0xFFFFFFFFu /* removed, joins its neighbours */

/* Folds one code point for name comparison (table in docs/SCREENING.md). Never longer in
 * UTF-8 than the input code point. */
static uint32_t scr_fold(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return cp + 32;
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return cp;
        return SCR_SEP;
    }
    if (cp < 0xA0) return SCR_SEP;                      /* C1 controls */
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return SCR_SEP; /* Latin-1 punctuation, signs */
    if (cp >= 0xC0 && cp <= 0xDE) return cp + 0x20;
    if (cp == 0x178) return 0xFF;
    if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
        (cp >= 0x14A && cp <= 0x177))
        return (cp % 2 == 0) ? cp + 1 : cp;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
        return (cp % 2 == 1) ? cp + 1 : cp;
    if (cp >= 0x400 && cp <= 0x40F) cp += 0x50;          /* Cyrillic Ѐ..Џ */
    else if (cp >= 0x410 && cp <= 0x42F) cp += 0x20;     /* Cyrillic А..Я */
    if (cp == 0x451) return 0x435;                       /* ё -> е */
    if (cp == 0x622 || cp == 0x623 || cp == 0x625) return 0x627; /* alef with madda/hamza */
    if (cp == 0x649 || cp == 0x64A) return 0x6CC;        /* Arabic yeh, alef maksura -> Farsi yeh */
    if (cp == 0x643) return 0x6A9;                       /* Arabic kaf -> keheh */
    if (cp == 0x640 || (cp >= 0x64B && cp <= 0x65F) || cp == 0x670)
        return SCR_DROP; /* tatweel, harakat, superscript alef */
    if (cp >= 0x660 && cp <= 0x669) return '0' + (cp - 0x660);
    if (cp >= 0x6F0 && cp <= 0x6F9) return '0' + (cp - 0x6F0);
    if (cp == 0x60C || cp == 0x61B || cp == 0x61F || (cp >= 0x66A && cp <= 0x66D) || cp == 0x6D4)
        return SCR_SEP;
    if (cp == 0x200C || cp == 0x200D || cp == 0x200E || cp == 0x200F || cp == 0xFEFF ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
        return SCR_DROP;                                 /* joiners, direction marks, BOM */
    if ((cp >= 0x2000 && cp <= 0x205E) || cp == 0x3000) return SCR_SEP;
    return cp;
}

/*
 * Normalizes name (n bytes) into out (out_size bytes incl. NUL): folded words joined by one
 * space. *words receives the word count. COR_ERR_INVALID on invalid UTF-8, COR_ERR_LIMIT when
 * it does not fit or has more than COR_SCREENING_TOKENS_MAX words.
 */
static cor_error scr_normalize_name(const char *name, size_t n, char *out, size_t out_size,
                                    uint32_t *words)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t used = 0, i = 0;
    bool in_word = false;
    *words = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = scr_utf8_decode(p + i, n - i, &cp);
        if (len == 0) return COR_ERR_INVALID;
        i += len;
        uint32_t f = scr_fold(cp);
        if (f == SCR_DROP) continue;
        if (f == SCR_SEP) {
            in_word = false;
            continue;
        }
        if (!in_word) {
            if (*words == COR_SCREENING_TOKENS_MAX) return COR_ERR_LIMIT;
            if (*words > 0) {
                if (used + 1 >= out_size) return COR_ERR_LIMIT;
                out[used++] = ' ';
            }
            (*words)++;
            in_word = true;
        }
        if (used + 4 >= out_size) return COR_ERR_LIMIT;
        used += scr_utf8_encode(f, out + used);
    }
    out[used] = '\0';
    return COR_OK;
}

/* Splits a normalized name in place into words, sorted bytewise (stable, deterministic). */
static uint32_t scr_words_sorted(char *text, const char *words[COR_SCREENING_TOKENS_MAX])
{
    uint32_t count = 0;
    char *p = text;
    while (*p != '\0' && count < COR_SCREENING_TOKENS_MAX) {
        words[count++] = p;
        char *space = strchr(p, ' ');
        if (space == NULL) break;
        *space = '\0';
        p = space + 1;
    }
    for (uint32_t i = 1; i < count; i++) { /* insertion sort, count <= 16 */
        const char *w = words[i];
        uint32_t j = i;
        while (j > 0 && strcmp(words[j - 1], w) > 0) {
            words[j] = words[j - 1];
            j--;
        }
        words[j] = w;
    }
    return count;
}

/* Identifier: ASCII whitespace removed, ASCII letters upper-cased. COR_ERR_LIMIT if too long. */
static cor_error scr_normalize_identifier(const char *id, size_t n, char *out, size_t out_size)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') continue;
        if (c >= 'a' && c <= 'z') c = (char)(c - 32);
        if (used + 1 >= out_size) return COR_ERR_LIMIT;
        out[used++] = c;
    }
    out[used] = '\0';
    return COR_OK;
}

/* ---- CSV loading ---------------------------------------------------------------------- */

static void scr_detail(char *detail, size_t detail_size, const char *format, ...)
{
    if (detail == NULL || detail_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(detail, detail_size, format, args);
    va_end(args);
}

typedef struct scr_field {
    const char *text; /* inside the line scratch buffer, NUL-terminated */
    size_t size;
} scr_field;

/*
 * Splits one line (no line break) into fields, unescaping quotes into scratch. Returns NULL on
 * success or a static reason. *count receives the field count (at most max_fields + 1).
 */
static const char *scr_split(const char *line, size_t n, char *scratch, scr_field *fields,
                             uint32_t max_fields, uint32_t *count)
{
    size_t i = 0, w = 0;
    *count = 0;
    for (;;) {
        if (*count == max_fields) return "too many fields";
        scr_field *f = &fields[(*count)++];
        f->text = scratch + w;
        size_t start = w;
        if (i < n && line[i] == '"') {
            i++;
            for (;;) {
                if (i == n) return "unterminated quoted field";
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        scratch[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                scratch[w++] = line[i++];
            }
            if (i < n && line[i] != ',') return "text after a closing quote";
        } else {
            while (i < n && line[i] != ',') {
                if (line[i] == '"') return "quote inside an unquoted field";
                scratch[w++] = line[i++];
            }
        }
        f->size = w - start;
        scratch[w++] = '\0';
        if (i == n) return NULL;
        i++; /* the comma */
    }
}

static cor_error scr_store(scr_table *t, size_t arena_size, const char *text, size_t n,
                           uint32_t *offset)
{
    COR_ASSERT(t->arena_used + n + 1 <= arena_size); /* bounded by the arena sizing at open */
    (void)arena_size;
    memcpy(t->arena + t->arena_used, text, n);
    t->arena[t->arena_used + n] = '\0';
    *offset = (uint32_t)t->arena_used;
    t->arena_used += n + 1;
    return COR_OK;
}

/* Validates the raw bytes of a line: no control characters (tab included), valid UTF-8. */
static const char *scr_check_bytes(const char *line, size_t n)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x20 || p[i] == 0x7F) return p[i] == '\r' ? "carriage return inside a line"
                                                             : "control character";
        uint32_t cp;
        size_t len = scr_utf8_decode(p + i, n - i, &cp);
        if (len == 0) return "invalid UTF-8";
        i += len;
    }
    return NULL;
}

static cor_error scr_row(cor_screening *s, scr_table *t, const int columns[SCR_COLUMNS],
                         const scr_field *fields, uint32_t line_number, char *detail,
                         size_t detail_size)
{
    scr_field f[SCR_COLUMNS];
    for (int c = 0; c < SCR_COLUMNS; c++) {
        f[c] = fields[columns[c]];
        if (f[c].size > scr_column_max[c]) {
            scr_detail(detail, detail_size, "line %u: %s is %zu bytes, at most %u allowed",
                       line_number, scr_column_names[c], f[c].size, scr_column_max[c]);
            return COR_ERR_LIMIT;
        }
    }
    if (t->count == s->options.entries_max) {
        scr_detail(detail, detail_size, "line %u: more than %u entries", line_number,
                   s->options.entries_max);
        return COR_ERR_LIMIT;
    }
    if (f[COL_REFERENCE].size == 0 || f[COL_LIST].size == 0) {
        scr_detail(detail, detail_size, "line %u: %s is empty", line_number,
                   f[COL_REFERENCE].size == 0 ? "reference" : "list");
        return COR_ERR_PARSE;
    }
    if (f[COL_NAME].size == 0 && f[COL_IDENTIFIER].size == 0) {
        scr_detail(detail, detail_size, "line %u: neither name nor identifier given",
                   line_number);
        return COR_ERR_PARSE;
    }
    char key[SCR_KEY_BYTES_MAX + 1];
    uint32_t words = 0;
    key[0] = '\0';
    if (f[COL_NAME].size > 0) {
        cor_error rc = scr_normalize_name(f[COL_NAME].text, f[COL_NAME].size, key, sizeof(key),
                                          &words);
        if (rc == COR_ERR_LIMIT) {
            scr_detail(detail, detail_size, "line %u: name has more than %u words",
                       line_number, COR_SCREENING_TOKENS_MAX);
            return COR_ERR_LIMIT;
        }
        COR_ASSERT(rc == COR_OK); /* UTF-8 was checked for the whole line */
        if (words == 0) {
            scr_detail(detail, detail_size, "line %u: name has no letters or digits",
                       line_number);
            return COR_ERR_PARSE;
        }
    }
    char sorted[SCR_KEY_BYTES_MAX + 1];
    size_t sorted_size = 0;
    if (words > 0) {
        const char *list[COR_SCREENING_TOKENS_MAX];
        uint32_t count = scr_words_sorted(key, list);
        COR_ASSERT(count == words);
        for (uint32_t i = 0; i < count; i++) {
            size_t len = strlen(list[i]);
            if (i > 0) sorted[sorted_size++] = ' ';
            memcpy(sorted + sorted_size, list[i], len);
            sorted_size += len;
        }
    }
    sorted[sorted_size] = '\0';
    char id[COR_SCREENING_ID_BYTES_MAX + 1];
    id[0] = '\0';
    if (f[COL_IDENTIFIER].size > 0) {
        for (size_t i = 0; i < f[COL_IDENTIFIER].size; i++) {
            if ((unsigned char)f[COL_IDENTIFIER].text[i] >= 0x80) {
                scr_detail(detail, detail_size, "line %u: identifier is not ASCII", line_number);
                return COR_ERR_PARSE;
            }
        }
        cor_error rc = scr_normalize_identifier(f[COL_IDENTIFIER].text, f[COL_IDENTIFIER].size,
                                                id, sizeof(id));
        COR_ASSERT(rc == COR_OK); /* the field limit equals the buffer */
        if (id[0] == '\0') {
            scr_detail(detail, detail_size, "line %u: identifier is only spaces", line_number);
            return COR_ERR_PARSE;
        }
    }
    scr_entry *e = &t->entries[t->count];
    e->line = line_number;
    scr_store(t, s->arena_size, f[COL_NAME].text, f[COL_NAME].size, &e->name);
    scr_store(t, s->arena_size, sorted, sorted_size, &e->key);
    scr_store(t, s->arena_size, id, strlen(id), &e->identifier);
    scr_store(t, s->arena_size, f[COL_LIST].text, f[COL_LIST].size, &e->list);
    scr_store(t, s->arena_size, f[COL_REFERENCE].text, f[COL_REFERENCE].size, &e->reference);
    t->count++;
    return COR_OK;
}

static cor_error scr_header(const scr_field *fields, uint32_t count, int columns[SCR_COLUMNS],
                            char *detail, size_t detail_size)
{
    for (int c = 0; c < SCR_COLUMNS; c++) columns[c] = -1;
    if (count != SCR_COLUMNS) {
        scr_detail(detail, detail_size, "line 1: header has %u columns, expected %d", count,
                   SCR_COLUMNS);
        return COR_ERR_PARSE;
    }
    for (uint32_t i = 0; i < count; i++) {
        int found = -1;
        for (int c = 0; c < SCR_COLUMNS; c++)
            if (strcmp(fields[i].text, scr_column_names[c]) == 0) found = c;
        if (found < 0) {
            scr_detail(detail, detail_size, "line 1: unknown column '%.40s'", fields[i].text);
            return COR_ERR_PARSE;
        }
        if (columns[found] >= 0) {
            scr_detail(detail, detail_size, "line 1: column '%s' given twice",
                       scr_column_names[found]);
            return COR_ERR_PARSE;
        }
        columns[found] = (int)i;
    }
    return COR_OK;
}

cor_error cor_screening_load(cor_screening *s, const char *csv, size_t csv_size, char *detail,
                             size_t detail_size)
{
    if (detail != NULL && detail_size > 0) detail[0] = '\0';
    if (s == NULL || (csv == NULL && csv_size > 0)) return COR_ERR_INVALID;
    if (csv_size > s->options.size_bytes_max) {
        scr_detail(detail, detail_size, "list is %zu bytes, at most %zu allowed", csv_size,
                   s->options.size_bytes_max);
        return COR_ERR_LIMIT;
    }
    scr_table *t = &s->tables[1 - s->active];
    t->count = 0;
    t->arena_used = 0;
    size_t pos = 0;
    if (csv_size >= 3 && memcmp(csv, "\xEF\xBB\xBF", 3) == 0) pos = 3; /* UTF-8 BOM */
    uint32_t line_number = 0;
    int columns[SCR_COLUMNS];
    bool have_header = false;
    scr_field fields[SCR_COLUMNS + 1];
    while (pos < csv_size) {
        line_number++;
        const char *line = csv + pos;
        const char *nl = memchr(line, '\n', csv_size - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : csv_size - pos;
        pos += n + (nl != NULL ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r') n--;
        if (n > s->options.line_bytes_max) {
            scr_detail(detail, detail_size, "line %u: %zu bytes, at most %u allowed",
                       line_number, n, s->options.line_bytes_max);
            return COR_ERR_LIMIT;
        }
        if (n == 0) {
            if (!have_header) {
                scr_detail(detail, detail_size, "line %u: empty line before the header",
                           line_number);
                return COR_ERR_PARSE;
            }
            continue; /* blank lines between rows are skipped */
        }
        const char *why = scr_check_bytes(line, n);
        uint32_t count = 0;
        if (why == NULL)
            why = scr_split(line, n, s->line, fields, have_header ? SCR_COLUMNS : SCR_COLUMNS + 1,
                            &count);
        if (why != NULL) {
            scr_detail(detail, detail_size, "line %u: %s", line_number, why);
            return COR_ERR_PARSE;
        }
        cor_error rc;
        if (!have_header) {
            rc = scr_header(fields, count, columns, detail, detail_size);
            have_header = true;
        } else if (count != SCR_COLUMNS) {
            scr_detail(detail, detail_size, "line %u: %u fields, the header has %d",
                       line_number, count, SCR_COLUMNS);
            rc = COR_ERR_PARSE;
        } else {
            rc = scr_row(s, t, columns, fields, line_number, detail, detail_size);
        }
        if (rc != COR_OK) return rc;
    }
    if (!have_header) {
        scr_detail(detail, detail_size, "line 1: missing header");
        return COR_ERR_PARSE;
    }
    s->active = 1 - s->active;
    return COR_OK;
}

/* ---- Matching ------------------------------------------------------------------------- */

/* True when every word of entry (sorted) occurs in party (sorted), counting repeats. */
static bool scr_words_subset(const char *const *entry, uint32_t entry_count,
                             const char *const *party, uint32_t party_count)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < entry_count; i++) {
        while (j < party_count && strcmp(party[j], entry[i]) < 0) j++;
        if (j == party_count || strcmp(party[j], entry[i]) != 0) return false;
        j++;
    }
    return true;
}

static void scr_hit_fill(const scr_table *t, const scr_entry *e, cor_screening_reason reason,
                         cor_screening_hit *hit)
{
    hit->hit = true;
    hit->reason = reason;
    hit->line = e->line;
    snprintf(hit->reference, sizeof(hit->reference), "%s", t->arena + e->reference);
    snprintf(hit->list, sizeof(hit->list), "%s", t->arena + e->list);
    if (reason == COR_SCREENING_IDENTIFIER)
        snprintf(hit->text, sizeof(hit->text), "identifier %s is on list %s, reference %s",
                 t->arena + e->identifier, hit->list, hit->reference);
    else
        snprintf(hit->text, sizeof(hit->text), "name matches '%.256s' on list %s, reference %s",
                 t->arena + e->name, hit->list, hit->reference);
}

cor_error cor_screening_match(const cor_screening *s, const cor_screening_party *party,
                              cor_screening_hit *hit)
{
    if (hit == NULL) return COR_ERR_INVALID;
    memset(hit, 0, sizeof(*hit));
    if (s == NULL || party == NULL || (party->identifiers == NULL && party->identifier_count > 0))
        return COR_ERR_INVALID;
    if (party->identifier_count > COR_SCREENING_PARTY_IDS_MAX) return COR_ERR_LIMIT;

    char ids[COR_SCREENING_PARTY_IDS_MAX][COR_SCREENING_ID_BYTES_MAX + 1];
    for (uint32_t i = 0; i < party->identifier_count; i++) {
        const char *id = party->identifiers[i];
        if (id == NULL) return COR_ERR_INVALID;
        size_t n = strnlen(id, 4 * COR_SCREENING_ID_BYTES_MAX + 1);
        if (scr_normalize_identifier(id, n, ids[i], sizeof(ids[i])) != COR_OK)
            return COR_ERR_LIMIT;
    }
    char key[SCR_KEY_BYTES_MAX + 1];
    const char *words[COR_SCREENING_TOKENS_MAX];
    uint32_t word_count = 0;
    if (party->name != NULL) {
        size_t n = strnlen(party->name, COR_SCREENING_NAME_BYTES_MAX + 1);
        if (n > COR_SCREENING_NAME_BYTES_MAX) return COR_ERR_LIMIT;
        cor_error rc = scr_normalize_name(party->name, n, key, sizeof(key), &word_count);
        if (rc != COR_OK) return rc;
        if (word_count > 0) scr_words_sorted(key, words);
    }

    const scr_table *t = &s->tables[s->active];
    for (uint32_t e = 0; e < t->count && party->identifier_count > 0; e++) {
        const char *entry_id = t->arena + t->entries[e].identifier;
        if (entry_id[0] == '\0') continue;
        for (uint32_t i = 0; i < party->identifier_count; i++) {
            if (strcmp(entry_id, ids[i]) == 0) {
                scr_hit_fill(t, &t->entries[e], COR_SCREENING_IDENTIFIER, hit);
                return COR_OK;
            }
        }
    }
    for (uint32_t e = 0; e < t->count && word_count > 0; e++) {
        const char *entry_key = t->arena + t->entries[e].key;
        if (entry_key[0] == '\0') continue;
        char copy[SCR_KEY_BYTES_MAX + 1];
        snprintf(copy, sizeof(copy), "%s", entry_key);
        const char *entry_words[COR_SCREENING_TOKENS_MAX];
        uint32_t entry_count = scr_words_sorted(copy, entry_words);
        /* A one-word entry must equal the whole name; longer entries may be a subset. */
        bool match = entry_count == 1
                         ? (word_count == 1 && strcmp(entry_words[0], words[0]) == 0)
                         : scr_words_subset(entry_words, entry_count, words, word_count);
        if (match) {
            scr_hit_fill(t, &t->entries[e], COR_SCREENING_NAME, hit);
            return COR_OK;
        }
    }
    return COR_OK;
}
