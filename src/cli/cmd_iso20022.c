/*
 * corridor iso20022: offline tools for operators and bank developers.
 *
 *   corridor iso20022 check FILE...     per document: "valid" or the first finding
 *   corridor iso20022 roundtrip FILE    parse, then print our own serialization
 *
 * A file holds one document, or several each followed by a line <!--EOD-->.
 * Exit: 0 every document valid (check) / serialized (roundtrip); 1 a document has a
 * finding; 2 usage; 3 a file cannot be read (or memory ran out).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "corridor/iso20022.h"

#define CLI_ISO_SEPARATOR               "<!--EOD-->"
#define CLI_ISO_FILE_SIZE_BYTES_MAX     (1024u * 1024u * 1024u) /* one file of many documents */
#define CLI_ISO_FILE_DOCUMENT_COUNT_MAX 1000000u

static void cli_iso_usage(FILE *out)
{
    fprintf(out, "usage: corridor iso20022 check FILE...\n"
                 "       corridor iso20022 roundtrip FILE\n");
}

/* Reads path whole into a cor_alloc'd buffer (caller frees). false with errno on failure. */
static bool cli_iso_read(const char *path, char **data_out, size_t *size_out)
{
    *data_out = NULL;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return false;
    size_t limit = CLI_ISO_FILE_SIZE_BYTES_MAX;
    size_t capacity = 64u * 1024u, size = 0;
    char *data = cor_alloc(capacity + 1u);
    bool ok = data != NULL;
    while (ok) {
        size_t got = fread(data + size, 1, capacity - size, file);
        size += got;
        if (got == 0) {
            ok = !ferror(file);
            break;
        }
        if (size == capacity) {
            if (capacity >= limit) {
                errno = EFBIG;
                ok = false;
                break;
            }
            char *bigger = cor_alloc(capacity * 2u + 1u);
            if (bigger == NULL) {
                ok = false;
                break;
            }
            memcpy(bigger, data, size);
            cor_free(data);
            data = bigger;
            capacity *= 2u;
        }
    }
    fclose(file);
    if (!ok) {
        cor_free(data);
        return false;
    }
    data[size] = '\0';
    *data_out = data;
    *size_out = size;
    return true;
}

/* Next document of [at, end): up to a line holding only <!--EOD--> (or the end). */
static bool cli_iso_next(const char **at, const char *end, const char **doc, size_t *doc_size)
{
    const char *start = *at;
    while (start < end && (*start == '\n' || *start == '\r' || *start == ' ' || *start == '\t')) {
        start++;
    }
    if (start >= end) return false;
    const char *search = start;
    for (;;) {
        const char *mark = memmem(search, (size_t)(end - search), CLI_ISO_SEPARATOR,
                                  sizeof(CLI_ISO_SEPARATOR) - 1u);
        if (mark == NULL) {
            *doc = start;
            *doc_size = (size_t)(end - start);
            *at = end;
            return true;
        }
        bool line_start = mark == start || mark[-1] == '\n';
        const char *after = mark + sizeof(CLI_ISO_SEPARATOR) - 1u;
        while (after < end && (*after == ' ' || *after == '\t' || *after == '\r'))
            after++;
        bool line_end = after == end || *after == '\n';
        if (line_start && line_end) {
            *doc = start;
            *doc_size = (size_t)(mark - start);
            *at = after;
            return true;
        }
        search = mark + 1;
    }
}

static void cli_iso_print_finding(const char *path, uint32_t number, const cor_iso_message *m)
{
    const cor_iso_finding *finding = &m->findings[0];
    printf("%s#%u: %s", path, number, finding->reason);
    if (finding->tx_index >= 0) printf(" tx %d", (int)finding->tx_index);
    if (finding->path[0] != '\0') printf(" %s", finding->path);
    printf(": %s", finding->text);
    if (m->finding_total > 1) printf(" (%u findings)", m->finding_total);
    printf("\n");
}

static int cli_iso_check(int argc, char **argv)
{
    cor_iso_parser *parser = NULL;
    if (cor_iso_parser_open(NULL, &parser) != COR_OK) {
        fprintf(stderr, "corridor: cannot create the xml parser\n");
        return COR_EXIT_ERROR;
    }
    cor_iso_message message;
    cor_iso_message_init(&message);
    int status = COR_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        char *data = NULL;
        size_t size = 0;
        if (!cli_iso_read(argv[i], &data, &size)) {
            fprintf(stderr, "corridor: cannot read '%s': %s\n", argv[i], strerror(errno));
            status = COR_EXIT_ERROR;
            continue;
        }
        const char *at = data, *doc = NULL;
        size_t doc_size = 0;
        uint32_t number = 0;
        while (number < CLI_ISO_FILE_DOCUMENT_COUNT_MAX &&
               cli_iso_next(&at, data + size, &doc, &doc_size)) {
            number++;
            cor_error rc = cor_iso_parse(parser, doc, doc_size, &message);
            if (rc == COR_ERR_NOMEM) {
                fprintf(stderr, "corridor: out of memory on '%s'\n", argv[i]);
                status = COR_EXIT_ERROR;
                break;
            }
            if (rc == COR_OK && message.finding_total == 0) {
                printf("%s#%u: valid %s\n", argv[i], number, cor_iso_msg_type_name(message.type));
            } else {
                cli_iso_print_finding(argv[i], number, &message);
                if (status == COR_EXIT_OK) status = COR_EXIT_PROBLEM;
            }
        }
        if (number == 0) {
            printf("%s#0: FF01: file holds no document\n", argv[i]);
            if (status == COR_EXIT_OK) status = COR_EXIT_PROBLEM;
        }
        cor_free(data);
    }
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
    return status;
}

static int cli_iso_roundtrip(const char *path)
{
    char *data = NULL;
    size_t size = 0;
    if (!cli_iso_read(path, &data, &size)) {
        fprintf(stderr, "corridor: cannot read '%s': %s\n", path, strerror(errno));
        return COR_EXIT_ERROR;
    }
    cor_iso_parser *parser = NULL;
    cor_iso_message message;
    cor_iso_message_init(&message);
    int status = COR_EXIT_ERROR;
    char *xml = NULL;
    size_t xml_size = 0;
    if (cor_iso_parser_open(NULL, &parser) != COR_OK) goto done;
    cor_error rc = cor_iso_parse(parser, data, size, &message);
    if (rc != COR_OK) {
        if (rc != COR_ERR_NOMEM) {
            cli_iso_print_finding(path, 1, &message);
            status = COR_EXIT_PROBLEM;
        }
        goto done;
    }
    rc = cor_iso_serialize(&message, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &xml_size);
    if (rc != COR_OK) {
        fprintf(stderr, "corridor: cannot serialize '%s': %s\n", path, cor_strerror(rc));
        status = rc == COR_ERR_NOMEM ? COR_EXIT_ERROR : COR_EXIT_PROBLEM;
        goto done;
    }
    fwrite(xml, 1, xml_size, stdout);
    status = message.finding_total == 0 ? COR_EXIT_OK : COR_EXIT_PROBLEM;
    if (message.finding_total != 0) {
        fprintf(stderr, "corridor: '%s' has %u rejected transaction(s); first: %s %s\n", path,
                message.rejected_tx_count, message.findings[0].reason, message.findings[0].text);
    }
done:
    cor_iso_free(xml);
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
    cor_free(data);
    return status;
}

int cor_cli_iso20022(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        cli_iso_usage(stdout);
        return COR_EXIT_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "check") == 0) return cli_iso_check(argc - 2, argv + 2);
    if (argc == 3 && strcmp(argv[1], "roundtrip") == 0) return cli_iso_roundtrip(argv[2]);
    cli_iso_usage(stderr);
    return COR_EXIT_USAGE;
}
