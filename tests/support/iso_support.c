/* Test helpers for the ISO 20022 codec (see iso_support.h). */
#include "iso_support.h"

#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *cor_test_iso_dir(void)
{
    const char *dir = getenv("COR_ISO20022_DIR");
    return dir != NULL && dir[0] != '\0' ? dir : "../shared/iso20022";
}

void cor_test_iso_require_data(void)
{
    struct stat info;
    char manifest[512], schema[512];
    snprintf(manifest, sizeof(manifest), "%s/samples/MANIFEST.tsv", COR_TEST_ISO_DIR);
    snprintf(schema, sizeof(schema), "%s/xsd/pacs.008.001.08.xsd", COR_TEST_ISO_DIR);
    if (stat(manifest, &info) != 0 || stat(schema, &info) != 0) {
        cr_assert_fail("ISO 20022 test data missing: expected '%s' (samples/ and xsd/); run "
                       "tests from the repository root with shared/ cloned beside it, or set "
                       "COR_ISO20022_DIR", COR_TEST_ISO_DIR);
    }
}

char *cor_test_iso_read(const char *path, size_t *size_out)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1u);
    if (data != NULL && fread(data, 1, (size_t)size, file) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(file);
    if (data == NULL) return NULL;
    data[size] = '\0';
    *size_out = (size_t)size;
    return data;
}

static int iso_validate_part(xmlNodePtr part, char *error, size_t error_size)
{
    const char *uri = (const char *)part->ns->href;
    const char *definition = strrchr(uri, ':') + 1;
    char path[256];
    snprintf(path, sizeof(path), "%s/xsd/%s.xsd", COR_TEST_ISO_DIR, definition);
    xmlSchemaParserCtxtPtr parser_context = xmlSchemaNewParserCtxt(path);
    xmlSchemaPtr schema = parser_context ? xmlSchemaParse(parser_context) : NULL;
    xmlSchemaValidCtxtPtr valid_context = schema ? xmlSchemaNewValidCtxt(schema) : NULL;
    int rc = -1;
    if (valid_context == NULL) {
        snprintf(error, error_size, "cannot load schema %s", path);
    } else {
        xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr copy = xmlDocCopyNode(part, doc, 1);
        xmlDocSetRootElement(doc, copy);
        rc = xmlSchemaValidateDoc(valid_context, doc);
        if (rc != 0) snprintf(error, error_size, "%s: schema validation failed (%d)", definition, rc);
        xmlFreeDoc(doc);
    }
    xmlSchemaFreeValidCtxt(valid_context);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(parser_context);
    return rc == 0 ? 0 : -1;
}

int cor_test_iso_xsd_validate(const char *xml, size_t xml_size, char *error, size_t error_size)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)xml_size, "serialized.xml", NULL, XML_PARSE_NONET);
    if (doc == NULL) {
        snprintf(error, error_size, "serialized xml is not well-formed");
        return -1;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr parts[2] = {NULL, NULL};
    int count = 0;
    if (root->ns != NULL && strstr((const char *)root->ns->href, "urn:iso:std:iso:20022") != NULL) {
        parts[count++] = root;
    } else {
        for (xmlNodePtr child = root->children; child != NULL && count < 2; child = child->next) {
            if (child->type == XML_ELEMENT_NODE) parts[count++] = child;
        }
    }
    int result = count;
    for (int i = 0; i < count; i++) {
        if (iso_validate_part(parts[i], error, error_size) != 0) result = -1;
    }
    xmlFreeDoc(doc);
    if (count == 0) {
        snprintf(error, error_size, "no ISO part in the serialized xml");
        return -1;
    }
    return result;
}

bool cor_test_iso_roundtrip(cor_iso_parser *parser, const cor_iso_message *message, char *error,
                            size_t error_size)
{
    char *first = NULL, *second = NULL;
    size_t first_size = 0, second_size = 0;
    bool ok = false;
    cor_iso_message again;
    cor_iso_message_init(&again);
    cor_error rc = cor_iso_serialize(message, COR_ISO_SERIALIZE_WITH_HEADER, &first, &first_size);
    if (rc != COR_OK) {
        snprintf(error, error_size, "serialize: %s", cor_error_name(rc));
        goto done;
    }
    if (cor_test_iso_xsd_validate(first, first_size, error, error_size) < 1) goto done;
    rc = cor_iso_parse(parser, first, first_size, &again);
    if (rc != COR_OK || again.finding_total != 0) {
        snprintf(error, error_size, "reparse: %s %s %s", cor_error_name(rc),
                 again.finding_count ? again.findings[0].path : "",
                 again.finding_count ? again.findings[0].text : "");
        goto done;
    }
    rc = cor_iso_serialize(&again, COR_ISO_SERIALIZE_WITH_HEADER, &second, &second_size);
    if (rc != COR_OK) {
        snprintf(error, error_size, "second serialize: %s", cor_error_name(rc));
        goto done;
    }
    if (first_size != second_size || memcmp(first, second, first_size) != 0) {
        snprintf(error, error_size, "parse(serialize(x)) differs from x");
        goto done;
    }
    ok = true;
done:
    cor_iso_free(first);
    cor_iso_free(second);
    cor_iso_message_release(&again);
    return ok;
}
