/*
 * include/corridor/screening.h: watch-list screening of payment parties.
 *
 * The operator loads a watch list (CSV, format in docs/SCREENING.md); a payment's debtor and
 * creditor are matched against it, and a hit tells the caller to hold the payment for operator
 * review (the caller does the holding; this module only answers "hit or not, and why").
 *
 * Pure and bounded: cor_screening_open reserves every byte the object will use (two tables,
 * so that a failed load keeps the previous list); load and match never allocate.
 * Deterministic: the same list and the same party always give the same answer.
 * Not thread-safe for load; match only reads, so concurrent matches are fine while no load runs.
 */
#ifndef COR_SCREENING_H
#define COR_SCREENING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"

/* Hard ceilings for the options, and fixed per-field limits of the CSV format. */
#define COR_SCREENING_SIZE_BYTES_MAX   (64u * 1024u * 1024u)
#define COR_SCREENING_ENTRIES_MAX      1000000u
#define COR_SCREENING_LINE_BYTES_MAX   4096u
#define COR_SCREENING_NAME_BYTES_MAX   256u  /* name field, bytes of UTF-8 */
#define COR_SCREENING_TOKENS_MAX       16u   /* words in one name after normalization */
#define COR_SCREENING_ID_BYTES_MAX     64u   /* identifier field */
#define COR_SCREENING_TYPE_BYTES_MAX   32u
#define COR_SCREENING_LIST_BYTES_MAX   64u
#define COR_SCREENING_REF_BYTES_MAX    64u
#define COR_SCREENING_PARTY_IDS_MAX    8u    /* identifiers of one party */

typedef struct cor_screening cor_screening; /* opaque */

typedef struct cor_screening_options {
    size_t   size_bytes_max;  /* largest CSV accepted by load, 1..COR_SCREENING_SIZE_BYTES_MAX */
    uint32_t entries_max;     /* most data rows, 1..COR_SCREENING_ENTRIES_MAX */
    uint32_t line_bytes_max;  /* longest line without its line break, 64..LINE_BYTES_MAX */
} cor_screening_options;

/* size 1 MiB, 10000 entries, 1024-byte lines. */
void cor_screening_options_default(cor_screening_options *options);

/*
 * Reserves all memory for the given limits. Errors: COR_ERR_INVALID (NULL or a limit out of
 * range), COR_ERR_NOMEM. Success: *out must go to cor_screening_close. Failure: *out is NULL.
 * A new object holds an empty list (nothing matches).
 */
cor_error cor_screening_open(const cor_screening_options *options, cor_screening **out);
void cor_screening_close(cor_screening *screening); /* NULL is a no-op */

/*
 * Parses csv (csv_size bytes, need not be NUL-terminated; the caller keeps ownership) and, on
 * success, replaces the active list with it. On failure the previously active list stays
 * active unchanged, and detail (if not NULL, detail_size > 0) receives a NUL-terminated
 * reason naming the line, e.g. "line 7: unterminated quoted field".
 * Errors: COR_ERR_INVALID (NULL arguments), COR_ERR_LIMIT (file larger than size_bytes_max,
 * a line longer than line_bytes_max, more rows than entries_max, a field over its limit,
 * a name with more than COR_SCREENING_TOKENS_MAX words), COR_ERR_PARSE (malformed CSV or
 * header, invalid UTF-8, a row missing a required field).
 */
cor_error cor_screening_load(cor_screening *screening, const char *csv, size_t csv_size,
                             char *detail, size_t detail_size);

/* Number of entries in the active list. */
uint32_t cor_screening_count(const cor_screening *screening);

/* A party of a payment: debtor or creditor. Strings are NUL-terminated UTF-8, borrowed. */
typedef struct cor_screening_party {
    const char *name;                /* may be NULL or empty: no name matching */
    const char *const *identifiers;  /* BIC, LEI, account, ...; may be NULL when count is 0 */
    uint32_t identifier_count;       /* at most COR_SCREENING_PARTY_IDS_MAX */
} cor_screening_party;

typedef enum cor_screening_reason {
    COR_SCREENING_NONE = 0,
    COR_SCREENING_IDENTIFIER, /* an identifier of the party equals the entry's identifier */
    COR_SCREENING_NAME,       /* the entry's name words all occur in the party's name */
} cor_screening_reason;

typedef struct cor_screening_hit {
    bool hit;
    cor_screening_reason reason;
    uint32_t line;     /* CSV line of the matching entry (1 = header), 0 when no hit */
    char reference[COR_SCREENING_REF_BYTES_MAX + 1]; /* the entry's reference */
    char list[COR_SCREENING_LIST_BYTES_MAX + 1];     /* the entry's list */
    char text[512];    /* human-readable reason, e.g. "name matches entry 'PETROV, Ivan'" */
} cor_screening_hit;

/*
 * Matches party against the active list (rules in docs/SCREENING.md): first the entries whose
 * identifier equals one of the party's identifiers, then names; within each, the first entry
 * in file order wins. COR_OK with hit->hit false means no hit.
 * Errors (hit->hit is false then; a caller that screens payments should hold on any error):
 * COR_ERR_INVALID (NULL arguments, a name that is not valid UTF-8, a NULL identifier),
 * COR_ERR_LIMIT (name longer than COR_SCREENING_NAME_BYTES_MAX or with more than
 * COR_SCREENING_TOKENS_MAX words, too many identifiers, an identifier over its limit).
 */
cor_error cor_screening_match(const cor_screening *screening, const cor_screening_party *party,
                              cor_screening_hit *hit);

#endif
