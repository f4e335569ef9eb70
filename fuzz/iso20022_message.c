/*
 * libFuzzer harness for the ISO 20022 parser: any bytes go through cor_iso_parse; whatever it
 * accepts must serialize, and a serialization must parse back without a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/assert.h"
#include "corridor/iso20022.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cor_iso_parser *parser = NULL;
    static cor_iso_message message;
    if (parser == NULL) {
        cor_iso_parser_options options = {.document_size_bytes_max = 1024u * 1024u};
        COR_ASSERT(cor_iso_parser_open(&options, &parser) == COR_OK);
        cor_iso_message_init(&message);
    }
    cor_error rc = cor_iso_parse(parser, (const char *)data, size, &message);
    if (rc != COR_OK) {
        COR_ASSERT(rc == COR_ERR_NOMEM || message.finding_count > 0);
        return 0;
    }
    if (message.finding_total != 0) return 0;
    char *xml = NULL;
    size_t xml_size = 0;
    if (cor_iso_serialize(&message, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &xml_size) != COR_OK) {
        return 0; /* e.g. a status code the schema allows but we do not write */
    }
    cor_iso_message again;
    cor_iso_message_init(&again);
    rc = cor_iso_parse(parser, xml, xml_size, &again);
    COR_ASSERT(rc == COR_OK);
    COR_ASSERT(again.finding_total == 0);
    COR_ASSERT(again.type == message.type);
    COR_ASSERT(again.tx_count == message.tx_count);
    cor_iso_message_release(&again);
    cor_iso_free(xml);
    return 0;
}
