/*
 * libFuzzer harness for the watch-list CSV loader (src/corridor/screening.c) and the matcher.
 *
 * Input: csv [ NUL name [ NUL identifier ] ]. The loader refuses NUL bytes, so the first NUL
 * cleanly splits the list from the party that is matched after the load. Properties:
 *   - a refused load leaves the previously active list (loaded once at start) in place and
 *     always writes a non-empty detail naming a line or the size;
 *   - an accepted load holds at most entries_max entries;
 *   - a hit names a data line (>= 2), a non-empty reference and list;
 *   - matching twice gives the same answer (determinism).
 * Seeds: fuzz/seeds/screening_csv/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/screening.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BASE "name,identifier,type,list,reference\nIvan Petrov,AAAA,individual,L,R1\n"

static cor_screening *fuzz_screening;
static cor_screening_options fuzz_options;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cor_screening_options_default(&fuzz_options);
    fuzz_options.size_bytes_max = 65536;
    fuzz_options.entries_max = 256;
    fuzz_options.line_bytes_max = 1024;
    if (cor_screening_open(&fuzz_options, &fuzz_screening) != COR_OK) abort();
    return 0;
}

static void fuzz_match(const char *name, const char *id)
{
    const char *ids[1] = {id};
    cor_screening_party party = {.name = name, .identifiers = ids, .identifier_count = id ? 1 : 0};
    cor_screening_hit a, b;
    cor_error rc_a = cor_screening_match(fuzz_screening, &party, &a);
    cor_error rc_b = cor_screening_match(fuzz_screening, &party, &b);
    if (rc_a != rc_b || a.hit != b.hit || a.reason != b.reason || a.line != b.line ||
        strcmp(a.reference, b.reference) != 0 || strcmp(a.text, b.text) != 0)
        abort();
    if (rc_a != COR_OK && a.hit) abort();
    if (a.hit && (a.line < 2 || a.reference[0] == '\0' || a.list[0] == '\0' ||
                  a.reason == COR_SCREENING_NONE))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char detail[256];
    if (cor_screening_load(fuzz_screening, FUZZ_BASE, strlen(FUZZ_BASE), detail, sizeof(detail)) !=
        COR_OK)
        abort();
    const uint8_t *nul = memchr(data, 0, size);
    size_t csv_size = nul != NULL ? (size_t)(nul - data) : size;
    char *copy = malloc(size + 2); /* party strings, NUL-terminated */
    if (copy == NULL) return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    const char *name = NULL, *id = NULL;
    if (nul != NULL) {
        name = copy + csv_size + 1;
        const char *second = memchr(name, 0, size - csv_size - 1);
        if (second != NULL) id = second + 1;
    }

    detail[0] = 'x';
    cor_error rc = cor_screening_load(fuzz_screening, (const char *)data, csv_size, detail,
                                      sizeof(detail));
    if (rc != COR_OK) {
        if (detail[0] == '\0' || memchr(detail, 0, sizeof(detail)) == NULL) abort();
        if (cor_screening_count(fuzz_screening) != 1) abort();
        cor_screening_hit hit;
        cor_screening_party base = {.name = "PETROV ivan"};
        if (cor_screening_match(fuzz_screening, &base, &hit) != COR_OK || !hit.hit ||
            strcmp(hit.reference, "R1") != 0)
            abort();
    } else if (cor_screening_count(fuzz_screening) > fuzz_options.entries_max) {
        abort();
    }
    fuzz_match(name, id);
    free(copy);
    return 0;
}
