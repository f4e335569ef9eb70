/*
 * Watch-list screening: CSV loading (valid, malformed, limits) and matching by identifier and
 * by name (Latin, Cyrillic, Persian).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "corridor/screening.h"

#define HEADER "name,identifier,type,list,reference\n"

static cor_screening *scr;
static char detail[256];

static void setup(void)
{
    cor_screening_options options;
    cor_screening_options_default(&options);
    options.entries_max = 8;
    options.line_bytes_max = 512;
    options.size_bytes_max = 8192;
    cr_assert_eq(cor_screening_open(&options, &scr), COR_OK);
}

static void teardown(void)
{
    cor_screening_close(scr);
}

TestSuite(corridor_screening, .init = setup, .fini = teardown);

static cor_error load(const char *csv)
{
    return cor_screening_load(scr, csv, strlen(csv), detail, sizeof(detail));
}

static cor_screening_hit match(const char *name, const char *id)
{
    cor_screening_party party = {.name = name, .identifiers = &id, .identifier_count = id ? 1 : 0};
    cor_screening_hit hit;
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_OK);
    return hit;
}

static void expect_refused(const char *csv, cor_error want, const char *want_detail)
{
    cr_assert_eq(load(csv), want, "csv %s: got %s", csv, detail);
    cr_assert(strstr(detail, want_detail) != NULL, "detail '%s' lacks '%s'", detail, want_detail);
}

static const char *const sample =
    "\xEF\xBB\xBF"
    "name,identifier,type,list,reference\r\n"
    "\"PETROV, Ivan\",,individual,EU-2026,EU-17\r\n"
    "Acme Trading LLC,ACMERUMMXXX,entity,OFAC,OFAC-9\r\n"
    ",DE89 3704 0044 0532 0130 00,account,LOCAL,L-1\r\n"
    "\"Shell \"\"Oyster\"\" Co\",,entity,UN,UN-5\r\n"
    "\n"
    "Сергей Иванов,,individual,RU-LOCAL,R-3\r\n"
    "محمد رضایی,,individual,IR-LOCAL,I-4\n";

Test(corridor_screening, loads_a_valid_list)
{
    cr_assert_eq(cor_screening_count(scr), 0);
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 6);
    cor_screening_hit hit = match("Shell \"Oyster\" Co", NULL);
    cr_assert(hit.hit);
    cr_assert_str_eq(hit.reference, "UN-5");
    cr_assert_eq(hit.line, 5);
}

Test(corridor_screening, empty_list_and_header_only)
{
    cr_assert_eq(load("name,identifier,type,list,reference"), COR_OK, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 0);
    cr_assert_not(match("Ivan Petrov", "X").hit);
    /* columns in any order */
    cr_assert_eq(load("reference,list,type,identifier,name\nR1,L,,,Ivan Petrov\n"), COR_OK,
                 "%s", detail);
    cr_assert_str_eq(match("Petrov Ivan", NULL).reference, "R1");
}

Test(corridor_screening, name_matching_rules)
{
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cor_screening_hit hit = match("Ivan Petrov", NULL);
    cr_assert(hit.hit);
    cr_assert_eq(hit.reason, COR_SCREENING_NAME);
    cr_assert_str_eq(hit.reference, "EU-17");
    cr_assert_str_eq(hit.list, "EU-2026");
    cr_assert(strstr(hit.text, "PETROV, Ivan") != NULL, "%s", hit.text);
    cr_assert(match("  ivan   PETROV. ", NULL).hit);
    cr_assert(match("Petrov-Ivan", NULL).hit);
    cr_assert(match("Ivan Ivanovich Petrov", NULL).hit); /* entry words are a subset */
    cr_assert_not(match("Ivan", NULL).hit);              /* not all entry words present */
    cr_assert_not(match("Petrova Ivanna", NULL).hit);    /* whole words only */
    cr_assert_not(match("Ivan Petrovich", NULL).hit);
    cr_assert_not(match("", NULL).hit);
    cr_assert_not(match(NULL, NULL).hit);
    cr_assert_not(match("...", NULL).hit);
    cr_assert(match("ACME trading llc", NULL).hit);
    cr_assert_not(match("Acme Trading", NULL).hit);
}

Test(corridor_screening, one_word_entry_needs_the_whole_name)
{
    cr_assert_eq(load(HEADER "Oyster,,entity,UN,U1\n"), COR_OK, "%s", detail);
    cr_assert(match("OYSTER", NULL).hit);
    cr_assert_not(match("Oyster Bay Foods", NULL).hit);
}

Test(corridor_screening, repeated_words_count)
{
    cr_assert_eq(load(HEADER "Abdul Abdul Karim,,individual,UN,U1\n"), COR_OK, "%s", detail);
    cr_assert_not(match("Abdul Karim", NULL).hit);
    cr_assert(match("Karim Abdul Abdul", NULL).hit);
}

Test(corridor_screening, cyrillic_names)
{
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cr_assert(match("ИВАНОВ Сергей", NULL).hit);
    cr_assert(match("иванов, сергей", NULL).hit);
    cr_assert_not(match("Sergey Ivanov", NULL).hit); /* no transliteration */
    cr_assert_eq(load(HEADER "Фёдор Ёлкин,,individual,RU,R9\n"), COR_OK, "%s", detail);
    cr_assert(match("ФЕДОР ЕЛКИН", NULL).hit); /* ё and Ё fold to е */
    cr_assert(match("Ёлкин Фёдор", NULL).hit);
    cr_assert_eq(load(HEADER "Ѓорѓи Ѕвездев,,individual,MK,M1\n"), COR_OK, "%s",
                 detail);
    cr_assert(match("ѓорѓи ѕвездев", NULL).hit); /* U+0400..U+040F fold too */
}

Test(corridor_screening, persian_names)
{
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cr_assert_str_eq(match("رضایی محمد", NULL).reference, "I-4");
    /* Arabic yeh U+064A for Farsi yeh U+06CC, a tatweel and a fatha are ignored */
    cr_assert(match("محمد رضاي\u064A", NULL).hit);
    cr_assert(match("مُحمّد رضاي\u0640ي", NULL).hit);
    cr_assert(match("محمد، رضایی", NULL).hit); /* Arabic comma separates */
    cr_assert_eq(load(HEADER "علی اکبر,,individual,IR,I1\n"
                             "بهرام ۱۲۳,,individual,IR,I2\n"),
                 COR_OK, "%s", detail);
    cr_assert(match("علي أكبر", NULL).hit);  /* Arabic yeh, kaf and alef with hamza */
    cr_assert(match("بهرام 123", NULL).hit); /* Persian digits are digits */
    cr_assert(match("بهرام ١٢٣", NULL).hit); /* Arabic-Indic digits too */
    cr_assert_not(match("علی", NULL).hit);
    /* zero-width non-joiner joins; a space does not */
    cr_assert_eq(load(HEADER "محمد\u200Cرضا,,individual,IR,I3\n"), COR_OK, "%s", detail);
    cr_assert(match("محمدرضا", NULL).hit);
    cr_assert_not(match("محمد رضا", NULL).hit);
}

Test(corridor_screening, latin_diacritics_fold_case_only)
{
    cr_assert_eq(load(HEADER "Émile Łukasz Ÿves,,individual,X,X1\n"), COR_OK, "%s", detail);
    cr_assert(match("émile łukasz ÿves", NULL).hit);
    cr_assert_not(match("Emile Lukasz Yves", NULL).hit); /* diacritics are kept */
}

Test(corridor_screening, identifier_normalization)
{
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cor_screening_hit hit = match("Somebody Else", "acmerummxxx");
    cr_assert(hit.hit);
    cr_assert_eq(hit.reason, COR_SCREENING_IDENTIFIER);
    cr_assert_str_eq(hit.reference, "OFAC-9");
    cr_assert_eq(hit.line, 3);
    cr_assert(match(NULL, "DE89370400440532013000").hit);
    cr_assert(match(NULL, " de89 3704\t0044 0532 0130 00 ").hit);
    cr_assert_not(match(NULL, "DE89-3704-0044-0532-0130-00").hit); /* only spaces are removed */
    cr_assert_not(match(NULL, "ACMERUMM").hit);                   /* BIC8 is not BIC11 */
    cr_assert_not(match(NULL, "").hit);
    /* identifiers are checked before names, whatever the file order */
    const char *ids[2] = {"nothing", "ACMERUMMXXX"};
    cor_screening_party party = {.name = "Ivan Petrov", .identifiers = ids, .identifier_count = 2};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_OK);
    cr_assert_eq(hit.reason, COR_SCREENING_IDENTIFIER);
    cr_assert_str_eq(hit.reference, "OFAC-9");
}

Test(corridor_screening, first_entry_in_file_order_wins)
{
    cr_assert_eq(load(HEADER "Ivan Petrov,,individual,A,A1\nPetrov Ivan,,individual,B,B1\n"),
                 COR_OK, "%s", detail);
    for (int i = 0; i < 3; i++) cr_assert_str_eq(match("Ivan Petrov", NULL).reference, "A1");
}

Test(corridor_screening, malformed_csv_is_refused_with_line)
{
    expect_refused("", COR_ERR_PARSE, "missing header");
    expect_refused("\xEF\xBB\xBF", COR_ERR_PARSE, "missing header");
    expect_refused("\nname,identifier,type,list,reference\n", COR_ERR_PARSE,
                   "line 1: empty line before the header");
    expect_refused("name,identifier,type,list\n", COR_ERR_PARSE, "header has 4 columns");
    expect_refused("name,identifier,type,list,reference,extra\n", COR_ERR_PARSE,
                   "line 1: header has 6 columns, expected 5");
    expect_refused("name,identifier,type,list,ref\n", COR_ERR_PARSE, "unknown column 'ref'");
    expect_refused("name,name,type,list,reference\n", COR_ERR_PARSE, "column 'name' given twice");
    expect_refused("Name,identifier,type,list,reference\n", COR_ERR_PARSE, "unknown column");
    expect_refused(HEADER "a,,t,l,r\n\"Ivan,,t,l,r\n", COR_ERR_PARSE,
                   "line 3: unterminated quoted field");
    expect_refused(HEADER "\"Ivan\"x,,t,l,r\n", COR_ERR_PARSE,
                   "line 2: text after a closing quote");
    expect_refused(HEADER "Iv\"an,,t,l,r\n", COR_ERR_PARSE,
                   "line 2: quote inside an unquoted field");
    expect_refused(HEADER "Ivan,,t,l\n", COR_ERR_PARSE, "line 2: 4 fields, the header has 5");
    expect_refused(HEADER "Ivan,,t,l,r,x\n", COR_ERR_PARSE, "line 2: too many fields");
    expect_refused(HEADER "Ivan\r,,t,l,r\n", COR_ERR_PARSE, "line 2: carriage return inside");
    expect_refused(HEADER "Iv\tan,,t,l,r\n", COR_ERR_PARSE, "line 2: control character");
    expect_refused(HEADER "\"Iv\nan\",,t,l,r\n", COR_ERR_PARSE, "line 2: unterminated quoted");
    expect_refused(HEADER "Iv\xC3,,t,l,r\n", COR_ERR_PARSE, "line 2: invalid UTF-8");
    expect_refused(HEADER "Iv\xC0\x80,,t,l,r\n", COR_ERR_PARSE, "line 2: invalid UTF-8");
    expect_refused(HEADER "\xED\xA0\x80,,t,l,r\n", COR_ERR_PARSE, "line 2: invalid UTF-8");
    expect_refused(HEADER ",,t,l,r\n", COR_ERR_PARSE, "line 2: neither name nor identifier");
    expect_refused(HEADER "Ivan,,t,l,\n", COR_ERR_PARSE, "line 2: reference is empty");
    expect_refused(HEADER "Ivan,,t,,r\n", COR_ERR_PARSE, "line 2: list is empty");
    expect_refused(HEADER "--- ...,,t,l,r\n", COR_ERR_PARSE, "line 2: name has no letters");
    expect_refused(HEADER ",\"  \",t,l,r\n", COR_ERR_PARSE, "line 2: identifier is only spaces");
    expect_refused(HEADER ",ÄBC,t,l,r\n", COR_ERR_PARSE, "line 2: identifier is not ASCII");
    cr_assert_eq(cor_screening_load(scr, "a\0b", 3, detail, sizeof(detail)), COR_ERR_PARSE);
    cr_assert(strstr(detail, "line 1: control character") != NULL, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 0);
}

Test(corridor_screening, failed_load_keeps_the_previous_list)
{
    cr_assert_eq(load(sample), COR_OK, "%s", detail);
    cr_assert_eq(load(HEADER "New Name,,t,l,r\n\"broken\n"), COR_ERR_PARSE);
    cr_assert_eq(cor_screening_count(scr), 6);
    cr_assert(match("Ivan Petrov", NULL).hit);
    cr_assert_not(match("New Name", NULL).hit);
    cr_assert_eq(load(HEADER "New Name,,t,l,r\n"), COR_OK, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 1);
    cr_assert_not(match("Ivan Petrov", NULL).hit);
    cr_assert(match("New Name", NULL).hit);
}

Test(corridor_screening, limits)
{
    char csv[9000];
    /* file size */
    memset(csv, 'a', sizeof(csv));
    cr_assert_eq(cor_screening_load(scr, csv, 8193, detail, sizeof(detail)), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "8193 bytes, at most 8192") != NULL, "%s", detail);
    /* line length: 512 allowed, 513 refused */
    char line[600];
    memset(line, 'b', sizeof(line));
    snprintf(csv, sizeof(csv), HEADER "%.*s,,t,l,r\n", 513 - 7, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "line 2: 513 bytes, at most 512") != NULL, "%s", detail);
    /* name field limit (256 bytes) */
    snprintf(csv, sizeof(csv), HEADER "%.*s,,t,l,r\n", 257, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "line 2: name is 257 bytes, at most 256") != NULL, "%s", detail);
    snprintf(csv, sizeof(csv), HEADER "%.*s,,t,l,r\n", 256, line);
    cr_assert_eq(load(csv), COR_OK, "%s", detail);
    snprintf(csv, sizeof(csv), HEADER ",%.*s,t,l,r\n", 65, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "identifier is 65 bytes") != NULL, "%s", detail);
    snprintf(csv, sizeof(csv), HEADER "a,,t,l,%.*s\n", 65, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "reference is 65 bytes") != NULL, "%s", detail);
    snprintf(csv, sizeof(csv), HEADER "a,,t,%.*s,r\n", 65, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    snprintf(csv, sizeof(csv), HEADER "a,,%.*s,l,r\n", 33, line);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "type is 33 bytes") != NULL, "%s", detail);
    /* words per name: 16 allowed, 17 refused */
    cr_assert_eq(load(HEADER "a b c d e f g h i j k l m n o p,,t,l,r\n"), COR_OK, "%s", detail);
    cr_assert_eq(load(HEADER "a b c d e f g h i j k l m n o p q,,t,l,r\n"), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "line 2: name has more than 16 words") != NULL, "%s", detail);
    /* entries: 8 allowed, 9 refused */
    size_t used = (size_t)snprintf(csv, sizeof(csv), HEADER);
    for (int i = 0; i < 9; i++)
        used += (size_t)snprintf(csv + used, sizeof(csv) - used, "n%d x,,t,l,r%d\n", i, i);
    cr_assert_eq(load(csv), COR_ERR_LIMIT);
    cr_assert(strstr(detail, "line 10: more than 8 entries") != NULL, "%s", detail);
    csv[used - strlen("n8 x,,t,l,r8\n")] = '\0';
    cr_assert_eq(load(csv), COR_OK, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 8);
    cr_assert(match("x n7", NULL).hit);
}

Test(corridor_screening, rows_with_every_field_at_its_limit_load)
{
    /* 8 rows (entries_max) whose every field is at its limit, names of 2-byte characters */
    static char csv[8192];
    size_t used = (size_t)snprintf(csv, sizeof(csv), HEADER);
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 124; k++)
            used += (size_t)snprintf(csv + used, sizeof(csv) - used, "Ж");
        used += (size_t)snprintf(csv + used, sizeof(csv) - used, " %d,", i);
        for (int k = 0; k < 64; k++) csv[used++] = 'I';
        csv[used++] = ',';
        for (int k = 0; k < 32; k++) csv[used++] = 't';
        csv[used++] = ',';
        for (int k = 0; k < 64; k++) csv[used++] = 'l';
        csv[used++] = ',';
        for (int k = 0; k < 64; k++) csv[used++] = 'r';
        csv[used++] = '\n';
    }
    cr_assert_eq(cor_screening_load(scr, csv, used, detail, sizeof(detail)), COR_OK, "%s", detail);
    cr_assert_eq(cor_screening_count(scr), 8);
    char id[65];
    memset(id, 'i', 64);
    id[64] = '\0';
    cor_screening_hit hit = match(NULL, id); /* folded to the list's 'IIII...' */
    cr_assert(hit.hit);
    cr_assert_eq(hit.line, 2);
    cr_assert_eq(strlen(hit.reference), 64);
    cr_assert_eq(strlen(hit.list), 64);
}

Test(corridor_screening, bad_arguments)
{
    cor_screening_hit hit;
    cor_screening_party party = {.name = "Iv\xC3"};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_INVALID);
    cr_assert_not(hit.hit);
    cr_assert_eq(cor_screening_match(scr, NULL, &hit), COR_ERR_INVALID);
    cr_assert_eq(cor_screening_match(NULL, &party, &hit), COR_ERR_INVALID);
    cr_assert_eq(cor_screening_match(scr, &party, NULL), COR_ERR_INVALID);
    party = (cor_screening_party){.identifier_count = 1};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_INVALID);
    const char *ids[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    party = (cor_screening_party){.identifiers = ids, .identifier_count = 9};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_LIMIT);
    const char *null_id[1] = {NULL};
    party = (cor_screening_party){.identifiers = null_id, .identifier_count = 1};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_INVALID);
    char long_id[80];
    memset(long_id, 'Z', 79);
    long_id[79] = '\0';
    const char *long_ids[1] = {long_id};
    party = (cor_screening_party){.identifiers = long_ids, .identifier_count = 1};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_LIMIT);
    char long_name[300];
    memset(long_name, 'a', 299);
    long_name[299] = '\0';
    party = (cor_screening_party){.name = long_name};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_LIMIT);
    party = (cor_screening_party){.name = "a b c d e f g h i j k l m n o p q"};
    cr_assert_eq(cor_screening_match(scr, &party, &hit), COR_ERR_LIMIT);
    cr_assert_eq(cor_screening_load(NULL, "x", 1, NULL, 0), COR_ERR_INVALID);
    cr_assert_eq(cor_screening_load(scr, NULL, 1, NULL, 0), COR_ERR_INVALID);
    cr_assert_eq(cor_screening_load(scr, "x", 1, NULL, 0), COR_ERR_PARSE); /* no detail buffer */
}

Test(corridor_screening, open_validates_options_and_survives_allocation_failure)
{
    cor_screening_options options;
    cor_screening *other = (cor_screening *)&options;
    cor_screening_options_default(&options);
    options.entries_max = 0;
    cr_assert_eq(cor_screening_open(&options, &other), COR_ERR_INVALID);
    cr_assert_null(other);
    cor_screening_options_default(&options);
    options.line_bytes_max = COR_SCREENING_LINE_BYTES_MAX + 1;
    cr_assert_eq(cor_screening_open(&options, &other), COR_ERR_INVALID);
    cor_screening_options_default(&options);
    options.size_bytes_max = COR_SCREENING_SIZE_BYTES_MAX + 1;
    cr_assert_eq(cor_screening_open(&options, &other), COR_ERR_INVALID);
    cr_assert_eq(cor_screening_open(NULL, &other), COR_ERR_INVALID);
    cor_screening_options_default(&options);
    for (uint64_t nth = 1; nth <= 6; nth++) {
        cor_alloc_fail_after(nth);
        cor_error rc = cor_screening_open(&options, &other);
        cor_alloc_fail_after(0);
        cr_assert_eq(rc, COR_ERR_NOMEM, "allocation %llu", (unsigned long long)nth);
        cr_assert_null(other);
    }
    cr_assert_eq(cor_screening_open(&options, &other), COR_OK);
    cor_screening_close(other);
    cor_screening_close(NULL);
}
