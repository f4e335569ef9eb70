/*
 * The public face of the ISO 20022 codec: parser lifecycle, message storage (text arena
 * and transaction arrays, reused across parses so a steady stream of similar messages
 * allocates nothing), findings, and cor_iso_parse() which runs the SAX reader and the mapper.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "iso20022/iso_internal.h"

struct cor_iso_parser {
    cor_iso_parser_options limits;
    cor__iso_xml *xml;
};

static const char *const message_type_names[COR_ISO_MSG_TYPE_COUNT] = {
    [COR_ISO_MSG_NONE] = "",
    [COR_ISO_MSG_PACS_008] = "pacs.008.001.08",
    [COR_ISO_MSG_PACS_002] = "pacs.002.001.10",
    [COR_ISO_MSG_PACS_004] = "pacs.004.001.09",
    [COR_ISO_MSG_PACS_009] = "pacs.009.001.08",
    [COR_ISO_MSG_PACS_028] = "pacs.028.001.03",
    [COR_ISO_MSG_CAMT_056] = "camt.056.001.08",
    [COR_ISO_MSG_CAMT_029] = "camt.029.001.09",
    [COR_ISO_MSG_CAMT_053] = "camt.053.001.08",
    [COR_ISO_MSG_CAMT_054] = "camt.054.001.08",
    [COR_ISO_MSG_PACS_004_V10] = "pacs.004.001.10",
    [COR_ISO_MSG_HEAD_001] = "head.001.001.02",
};

const char *cor_iso_msg_type_name(cor_iso_msg_type type)
{
    if ((unsigned)type >= COR_ISO_MSG_TYPE_COUNT) return "";
    return message_type_names[type];
}

/* ---- message storage ------------------------------------------------------------------ */

void cor_iso_message_init(cor_iso_message *message)
{
    COR_ASSERT(message != NULL);
    memset(message, 0, sizeof(*message));
}

void cor_iso_message_release(cor_iso_message *message)
{
    if (message == NULL) return;
    cor_free(message->text_arena);
    cor_free(message->transfers);
    cor_free(message->related);
    cor_free(message->entries);
    cor_iso_message_init(message);
}

cor_error cor__iso_arena_reset(cor_iso_message *message, size_t size_bytes)
{
    if (message->text_arena_size_bytes < size_bytes) {
        char *arena = cor_alloc(size_bytes);
        if (arena == NULL) return COR_ERR_NOMEM;
        cor_free(message->text_arena);
        message->text_arena = arena;
        message->text_arena_size_bytes = size_bytes;
    }
    message->text_arena_used_bytes = 0;
    return COR_OK;
}

char *cor__iso_arena_copy(cor_iso_message *message, const char *text, size_t size)
{
    size_t left = message->text_arena_size_bytes - message->text_arena_used_bytes;
    if (size >= left) return NULL;
    char *copy = message->text_arena + message->text_arena_used_bytes;
    memcpy(copy, text, size);
    copy[size] = '\0';
    message->text_arena_used_bytes += size + 1u;
    return copy;
}

cor_error cor__iso_message_reserve(cor_iso_message *message, uint32_t tx_count)
{
    if (tx_count > message->tx_capacity) {
        uint32_t capacity = tx_count < 16u ? 16u : tx_count;
        cor_iso_credit_transfer *transfers = cor_calloc(capacity, sizeof(*transfers));
        cor_iso_related_tx *related = cor_calloc(capacity, sizeof(*related));
        cor_iso_entry *entries = cor_calloc(capacity, sizeof(*entries));
        if (transfers == NULL || related == NULL || entries == NULL) {
            cor_free(transfers);
            cor_free(related);
            cor_free(entries);
            return COR_ERR_NOMEM;
        }
        cor_free(message->transfers);
        cor_free(message->related);
        cor_free(message->entries);
        message->transfers = transfers;
        message->related = related;
        message->entries = entries;
        message->tx_capacity = capacity;
        return COR_OK;
    }
    if (tx_count > 0) {
        memset(message->transfers, 0, tx_count * sizeof(*message->transfers));
        memset(message->related, 0, tx_count * sizeof(*message->related));
        memset(message->entries, 0, tx_count * sizeof(*message->entries));
    }
    return COR_OK;
}

void cor__iso_finding_add(cor_iso_message *message, int32_t tx_index, const char *reason,
                          const char *path, const char *format, ...)
{
    COR_ASSERT(reason != NULL && strlen(reason) == 4);
    if (path != NULL && path[0] != '\0') {
        for (uint32_t i = 0; i < message->finding_count; i++) {
            const cor_iso_finding *seen = &message->findings[i];
            if (seen->tx_index == tx_index && strcmp(seen->path, path) == 0) return;
        }
    }
    message->finding_total++;
    if (message->finding_count >= COR_ISO_FINDINGS_MAX) return;
    cor_iso_finding *finding = &message->findings[message->finding_count++];
    finding->tx_index = tx_index;
    memcpy(finding->reason, reason, 5);
    snprintf(finding->path, sizeof(finding->path), "%s", path != NULL ? path : "");
    va_list args;
    va_start(args, format);
    vsnprintf(finding->text, sizeof(finding->text), format, args);
    va_end(args);
}

/* ---- parser --------------------------------------------------------------------------- */

static uint32_t parser_limit(uint32_t wanted, uint32_t fallback, uint32_t ceiling)
{
    if (wanted == 0) return fallback;
    return wanted < ceiling ? wanted : ceiling;
}

cor_error cor_iso_parser_open(const cor_iso_parser_options *options, cor_iso_parser **parser_out)
{
    COR_ASSERT(parser_out != NULL);
    *parser_out = NULL;
    cor_iso_parser_options given = {0};
    if (options != NULL) given = *options;
    cor_iso_parser *parser = cor_calloc(1, sizeof(*parser));
    if (parser == NULL) return COR_ERR_NOMEM;
    parser->limits.document_size_bytes_max =
        parser_limit(given.document_size_bytes_max, COR_ISO_DOCUMENT_SIZE_BYTES_DEFAULT,
                     COR_ISO_DOCUMENT_SIZE_BYTES_MAX);
    parser->limits.depth_max = parser_limit(given.depth_max, COR_ISO_DEPTH_MAX, COR_ISO_DEPTH_MAX);
    parser->limits.element_count_max = parser_limit(
        given.element_count_max, COR_ISO_ELEMENT_COUNT_DEFAULT, COR_ISO_ELEMENT_COUNT_MAX);
    parser->limits.text_size_bytes_max = parser_limit(
        given.text_size_bytes_max, COR_ISO_TEXT_SIZE_BYTES_DEFAULT, COR_ISO_TEXT_SIZE_BYTES_MAX);
    parser->limits.tx_count_max =
        parser_limit(given.tx_count_max, COR_ISO_TX_COUNT_DEFAULT, COR_ISO_TX_COUNT_MAX);
    cor_error rc = cor__iso_xml_open(&parser->limits, &parser->xml);
    if (rc != COR_OK) {
        cor_free(parser);
        return rc;
    }
    *parser_out = parser;
    return COR_OK;
}

void cor_iso_parser_close(cor_iso_parser *parser)
{
    if (parser == NULL) return;
    cor__iso_xml_close(parser->xml);
    cor_free(parser);
}

static void parse_reset_results(cor_iso_message *message)
{
    message->type = COR_ISO_MSG_NONE;
    memset(&message->header, 0, sizeof(message->header));
    memset(&message->group, 0, sizeof(message->group));
    memset(&message->report, 0, sizeof(message->report));
    message->tx_count = 0;
    message->rejected_tx_count = 0;
    message->finding_count = 0;
    message->finding_total = 0;
}

cor_error cor_iso_parse(cor_iso_parser *parser, const char *xml, size_t xml_size,
                        cor_iso_message *message)
{
    COR_ASSERT(parser != NULL);
    COR_ASSERT(message != NULL);
    parse_reset_results(message);
    cor__iso_tree *tree = NULL;
    cor_error rc = cor__iso_xml_parse(parser->xml, xml, xml_size, message, &tree);
    if (rc != COR_OK) return rc;
    COR_ASSERT(tree != NULL);
    rc = cor__iso_map(tree, &parser->limits, message);
    COR_ASSERT(rc == COR_OK || rc == COR_ERR_NOMEM || message->finding_count > 0);
    return rc;
}

void cor_iso_free(void *pointer)
{
    cor_free(pointer);
}
