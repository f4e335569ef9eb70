/*
 * Hardened streaming XML reader: libxml2 SAX2 into a compact node tree.
 *
 * Tuned for many small documents (a 3-4 KB pacs.008) parsed back to back: one libxml2 push
 * context is created at open and reset per document, the node array is allocated once and
 * reused, and every name and text is copied once into the message's text arena where the
 * mapped structs point at it.
 *
 * Hardening (see docs/ISO20022.md): XML_PARSE_NONET; no DTD loading, no entity
 * substitution, no XInclude. Beyond those options the SAX handler refuses outright any
 * internal or external DTD subset, any entity declaration or reference, and any element in
 * the XInclude namespace, then stops the parser. Limits: document size (checked before
 * parsing), depth, node count, text size per node, attributes per element, namespaces.
 *
 * Invariants: nodes form a tree rooted at tree.root; a node's text is set only when it has
 * no element children (ISO 20022 has no mixed content, which we refuse).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "iso20022/iso_internal.h"

#define XML_XINCLUDE_NS     "http://www.w3.org/2001/XInclude"
#define XML_XINCLUDE_NS_OLD "http://www.w3.org/2003/XInclude"

struct cor__iso_xml {
    xmlParserCtxtPtr context;
    xmlSAXHandler sax;
    cor_iso_parser_options limits;
    cor__iso_tree tree;
    uint32_t node_capacity;
    /* Per document state. */
    cor_iso_message *message;
    uint32_t current; /* open element, COR_ISO_NODE_NONE at top level */
    uint32_t depth;
    char *text; /* scratch for the open element's text */
    uint32_t text_size;
    bool failed;
    cor_error error;
    const xmlChar *last_uri; /* namespace cache: libxml2 dictionary pointer */
    uint32_t last_uri_index;
};

/* ---- errors --------------------------------------------------------------------------- */

static void xml_fail(cor__iso_xml *xml, cor_error error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void xml_fail(cor__iso_xml *xml, cor_error error, const char *format, ...)
{
    if (xml->failed) return;
    xml->failed = true;
    xml->error = error;
    char text[COR_ISO_FINDING_TEXT_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    cor__iso_finding_add(xml->message, -1, "FF01", "", "%s", text);
    xmlStopParser(xml->context);
}

static void xml_on_error(void *user, xmlErrorPtr error)
{
    cor__iso_xml *xml = user;
    if (error == NULL || error->level < XML_ERR_ERROR) return;
    char message[120];
    snprintf(message, sizeof(message), "%s", error->message != NULL ? error->message : "");
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == ' ')) {
        message[--length] = '\0';
    }
    if (message[0] >= 'A' && message[0] <= 'Z') message[0] = (char)(message[0] + 32);
    xml_fail(xml, COR_ERR_PARSE, "xml not well-formed at line %d: %s", error->line, message);
}

/* ---- hostile constructs --------------------------------------------------------------- */

static void xml_on_subset(void *user, const xmlChar *name, const xmlChar *external_id,
                          const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    xml_fail(user, COR_ERR_PARSE, "dtd not allowed (document type declaration refused)");
}

static void xml_on_entity_decl(void *user, const xmlChar *name, int type, const xmlChar *public_id,
                               const xmlChar *system_id, xmlChar *content)
{
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    xml_fail(user, COR_ERR_PARSE, "entity declaration '%.40s' not allowed", (const char *)name);
}

static xmlEntityPtr xml_on_get_entity(void *user, const xmlChar *name)
{
    xml_fail(user, COR_ERR_PARSE, "entity reference '&%.40s;' not allowed", (const char *)name);
    return NULL;
}

static void xml_on_reference(void *user, const xmlChar *name)
{
    xml_fail(user, COR_ERR_PARSE, "entity reference '&%.40s;' not allowed", (const char *)name);
}

static void xml_on_processing(void *user, const xmlChar *target, const xmlChar *data)
{
    (void)user;
    (void)target;
    (void)data; /* processing instructions carry nothing we use; ignored like comments */
}

/* ---- tree building -------------------------------------------------------------------- */

/* Index + 1 of uri among the document's namespaces, registering it when new; UINT32_MAX
 * after a failure. libxml2 interns URIs in its dictionary, so the pointer of the last one
 * seen answers most lookups without a string compare. */
static uint32_t xml_namespace_index(cor__iso_xml *xml, const xmlChar *uri)
{
    if (uri == NULL || uri[0] == '\0') return 0;
    if (uri == xml->last_uri) return xml->last_uri_index;
    cor__iso_tree *tree = &xml->tree;
    for (uint32_t i = 0; i < tree->namespace_count; i++) {
        if (strcmp(tree->namespaces[i], (const char *)uri) == 0) {
            xml->last_uri = uri;
            xml->last_uri_index = i + 1u;
            return i + 1u;
        }
    }
    if (strcmp((const char *)uri, XML_XINCLUDE_NS) == 0 ||
        strcmp((const char *)uri, XML_XINCLUDE_NS_OLD) == 0) {
        xml_fail(xml, COR_ERR_PARSE, "xinclude element not allowed");
        return UINT32_MAX;
    }
    size_t size = strlen((const char *)uri);
    if (tree->namespace_count == COR_ISO_NAMESPACE_COUNT_MAX ||
        size > COR_ISO_NAMESPACE_SIZE_BYTES_MAX) {
        xml_fail(xml, COR_ERR_LIMIT, "too many or too long namespace uris (limit %u of %u bytes)",
                 COR_ISO_NAMESPACE_COUNT_MAX, COR_ISO_NAMESPACE_SIZE_BYTES_MAX);
        return UINT32_MAX;
    }
    char *copy = cor__iso_arena_copy(xml->message, (const char *)uri, size);
    if (copy == NULL) {
        xml_fail(xml, COR_ERR_LIMIT, "text arena exhausted");
        return UINT32_MAX;
    }
    tree->namespaces[tree->namespace_count++] = copy;
    xml->last_uri = uri;
    xml->last_uri_index = tree->namespace_count;
    return tree->namespace_count;
}

static uint32_t xml_node_add(cor__iso_xml *xml, const xmlChar *name, size_t name_size,
                             uint32_t ns_index, cor__iso_node_kind kind)
{
    cor__iso_tree *tree = &xml->tree;
    if (tree->node_count >= xml->limits.element_count_max) {
        xml_fail(xml, COR_ERR_LIMIT, "more than %u elements and attributes",
                 xml->limits.element_count_max);
        return COR_ISO_NODE_NONE;
    }
    const char *copy = cor__iso_arena_copy(xml->message, (const char *)name, name_size);
    if (copy == NULL) {
        xml_fail(xml, COR_ERR_LIMIT, "text arena exhausted");
        return COR_ISO_NODE_NONE;
    }
    uint32_t index = tree->node_count++;
    cor__iso_node *node = &tree->nodes[index];
    node->name = copy;
    node->text = "";
    node->parent = xml->current;
    node->first_child = COR_ISO_NODE_NONE;
    node->last_child = COR_ISO_NODE_NONE;
    node->next_sibling = COR_ISO_NODE_NONE;
    node->ns_index = (uint8_t)ns_index;
    node->kind = (uint8_t)kind;
    node->has_element_child = 0;
    node->checked = 0;
    node->schema_type = COR_ISO_SCHEMA_TYPE_NONE;
    if (xml->current == COR_ISO_NODE_NONE) {
        if (tree->root == COR_ISO_NODE_NONE) tree->root = index;
    } else {
        cor__iso_node *parent = &tree->nodes[xml->current];
        if (parent->last_child == COR_ISO_NODE_NONE) {
            parent->first_child = index;
        } else {
            tree->nodes[parent->last_child].next_sibling = index;
        }
        parent->last_child = index;
        if (kind == COR_ISO_NODE_ELEMENT) parent->has_element_child = 1;
    }
    return index;
}

static bool xml_text_blank(const char *text, uint32_t size)
{
    for (uint32_t i = 0; i < size; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
    }
    return true;
}

static void xml_on_start(void *user, const xmlChar *local_name, const xmlChar *prefix,
                         const xmlChar *uri, int namespace_count, const xmlChar **namespaces,
                         int attribute_count, int defaulted_count, const xmlChar **attributes)
{
    cor__iso_xml *xml = user;
    (void)prefix;
    (void)namespace_count;
    (void)namespaces;
    (void)defaulted_count;
    if (xml->failed) return;
    if (xml->depth >= xml->limits.depth_max) {
        xml_fail(xml, COR_ERR_LIMIT, "elements nested deeper than %u", xml->limits.depth_max);
        return;
    }
    if (xml->text_size > 0 && !xml_text_blank(xml->text, xml->text_size)) {
        xml_fail(xml, COR_ERR_PARSE, "mixed content (text beside elements) not allowed");
        return;
    }
    xml->text_size = 0;
    if (attribute_count < 0 || (uint32_t)attribute_count > COR_ISO_ATTRIBUTE_COUNT_MAX) {
        xml_fail(xml, COR_ERR_LIMIT, "more than %u attributes on '%.40s'",
                 COR_ISO_ATTRIBUTE_COUNT_MAX, (const char *)local_name);
        return;
    }
    uint32_t ns_index = xml_namespace_index(xml, uri);
    if (ns_index == UINT32_MAX) return;
    uint32_t index = xml_node_add(xml, local_name, strlen((const char *)local_name), ns_index,
                                  COR_ISO_NODE_ELEMENT);
    if (index == COR_ISO_NODE_NONE) return;
    xml->current = index;
    xml->depth++;
    /* Attributes come as (localname, prefix, uri, value, end) quintuples. */
    for (int i = 0; i < attribute_count; i++) {
        const xmlChar **attribute = &attributes[i * 5];
        size_t value_size = (size_t)(attribute[4] - attribute[3]);
        if (value_size > xml->limits.text_size_bytes_max) {
            xml_fail(xml, COR_ERR_LIMIT, "attribute value longer than %u bytes",
                     xml->limits.text_size_bytes_max);
            return;
        }
        uint32_t attribute_index = xml_node_add(
            xml, attribute[0], strlen((const char *)attribute[0]), 0, COR_ISO_NODE_ATTRIBUTE);
        if (attribute_index == COR_ISO_NODE_NONE) return;
        const char *value =
            cor__iso_arena_copy(xml->message, (const char *)attribute[3], value_size);
        if (value == NULL) {
            xml_fail(xml, COR_ERR_LIMIT, "text arena exhausted");
            return;
        }
        xml->tree.nodes[attribute_index].text = value;
    }
}

static void xml_on_end(void *user, const xmlChar *local_name, const xmlChar *prefix,
                       const xmlChar *uri)
{
    cor__iso_xml *xml = user;
    (void)local_name;
    (void)prefix;
    (void)uri;
    if (xml->failed) return;
    COR_ASSERT(xml->current != COR_ISO_NODE_NONE);
    COR_ASSERT(xml->depth > 0);
    cor__iso_node *node = &xml->tree.nodes[xml->current];
    bool has_element_child = node->has_element_child != 0;
    if (xml->text_size > 0) {
        if (has_element_child && !xml_text_blank(xml->text, xml->text_size)) {
            xml_fail(xml, COR_ERR_PARSE, "mixed content (text beside elements) not allowed");
            return;
        }
        if (!has_element_child) {
            const char *copy = cor__iso_arena_copy(xml->message, xml->text, xml->text_size);
            if (copy == NULL) {
                xml_fail(xml, COR_ERR_LIMIT, "text arena exhausted");
                return;
            }
            node->text = copy;
        }
    }
    xml->text_size = 0;
    xml->current = node->parent;
    xml->depth--;
}

static void xml_on_characters(void *user, const xmlChar *text, int size)
{
    cor__iso_xml *xml = user;
    if (xml->failed || size <= 0) return;
    if (xml->current == COR_ISO_NODE_NONE) return; /* whitespace outside the root */
    if ((uint32_t)size > xml->limits.text_size_bytes_max - xml->text_size) {
        xml_fail(xml, COR_ERR_LIMIT, "text longer than %u bytes in '%.40s'",
                 xml->limits.text_size_bytes_max, xml->tree.nodes[xml->current].name);
        return;
    }
    memcpy(xml->text + xml->text_size, text, (size_t)size);
    xml->text_size += (uint32_t)size;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void xml_sax_init(xmlSAXHandler *sax)
{
    memset(sax, 0, sizeof(*sax));
    sax->initialized = XML_SAX2_MAGIC;
    sax->startElementNs = xml_on_start;
    sax->endElementNs = xml_on_end;
    sax->characters = xml_on_characters;
    sax->cdataBlock = xml_on_characters;
    sax->internalSubset = xml_on_subset;
    sax->externalSubset = xml_on_subset;
    sax->entityDecl = xml_on_entity_decl;
    sax->getEntity = xml_on_get_entity;
    sax->getParameterEntity = xml_on_get_entity;
    sax->reference = xml_on_reference;
    sax->processingInstruction = xml_on_processing;
    sax->serror = xml_on_error;
}

/* Options: never XML_PARSE_NOENT (substitution), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
 * XML_PARSE_DTDVALID, XML_PARSE_XINCLUDE or XML_PARSE_HUGE. */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING)

cor_error cor__iso_xml_open(const cor_iso_parser_options *limits, cor__iso_xml **xml_out)
{
    COR_ASSERT(limits != NULL);
    COR_ASSERT(xml_out != NULL);
    *xml_out = NULL;
    /* libxml2's one-time global setup; idempotent, but not safe to race on first use. */
    xmlInitParser();
    cor__iso_xml *xml = cor_calloc(1, sizeof(*xml));
    if (xml == NULL) return COR_ERR_NOMEM;
    xml->limits = *limits;
    xml_sax_init(&xml->sax);
    xml->text = cor_alloc(limits->text_size_bytes_max);
    xml->context = xmlCreatePushParserCtxt(&xml->sax, xml, NULL, 0, NULL);
    if (xml->text == NULL || xml->context == NULL) {
        cor__iso_xml_close(xml);
        return COR_ERR_NOMEM;
    }
    *xml_out = xml;
    return COR_OK;
}

void cor__iso_xml_close(cor__iso_xml *xml)
{
    if (xml == NULL) return;
    if (xml->context != NULL) xmlFreeParserCtxt(xml->context);
    cor_free(xml->tree.nodes);
    cor_free(xml->text);
    cor_free(xml);
}

/* Node array grows with the documents seen, up to element_count_max. */
static cor_error xml_reserve_nodes(cor__iso_xml *xml, size_t data_size)
{
    /* A node costs at least 4 input bytes ("<a/>", or ' a=""' for an attribute). */
    size_t wanted = data_size / 4u + 16u;
    if (wanted > xml->limits.element_count_max) wanted = xml->limits.element_count_max;
    if (wanted <= xml->node_capacity) return COR_OK;
    cor__iso_node *nodes = cor_calloc(wanted, sizeof(*nodes));
    if (nodes == NULL) return COR_ERR_NOMEM;
    cor_free(xml->tree.nodes);
    xml->tree.nodes = nodes;
    xml->node_capacity = (uint32_t)wanted;
    return COR_OK;
}

cor_error cor__iso_xml_parse(cor__iso_xml *xml, const char *data, size_t data_size,
                             cor_iso_message *message, cor__iso_tree **tree_out)
{
    COR_ASSERT(data != NULL || data_size == 0);
    COR_ASSERT(message != NULL);
    *tree_out = NULL;
    xml->message = message;
    if (data_size > xml->limits.document_size_bytes_max) {
        cor__iso_finding_add(message, -1, "FF01", "", "document of %zu bytes exceeds %u", data_size,
                             xml->limits.document_size_bytes_max);
        return COR_ERR_LIMIT;
    }
    /* Text, names and NULs fit in 3x the input: encoding conversion to UTF-8 at most
     * doubles a byte (Latin-1) or grows 2 bytes to 3 (UTF-16); every string costs at least
     * as many input bytes as its NUL. */
    cor_error rc = cor__iso_arena_reset(message, data_size * 3u + 256u);
    if (rc != COR_OK) return rc;
    rc = xml_reserve_nodes(xml, data_size);
    if (rc != COR_OK) return rc;
    xml->tree.node_count = 0;
    xml->tree.root = COR_ISO_NODE_NONE;
    xml->tree.namespace_count = 0;
    xml->current = COR_ISO_NODE_NONE;
    xml->depth = 0;
    xml->text_size = 0;
    xml->failed = false;
    xml->error = COR_OK;
    xml->last_uri = NULL;
    xml->last_uri_index = 0;
    /* The first bytes go with the reset: libxml2 detects the encoding (and a BOM) there. */
    size_t head_size = data_size < 4u ? data_size : 4u;
    if (xmlCtxtResetPush(xml->context, data, (int)head_size, NULL, NULL) != 0) {
        return COR_ERR_NOMEM;
    }
    xml->context->userData = xml;
    xmlCtxtUseOptions(xml->context, XML_OPTIONS);
    /* The array holds every node this input can produce (4 bytes per node at least); the
     * configured limit still applies when it is lower. */
    uint32_t node_limit = xml->limits.element_count_max;
    xml->limits.element_count_max =
        xml->node_capacity < node_limit ? xml->node_capacity : node_limit;
    int status = xmlParseChunk(xml->context, data + head_size, (int)(data_size - head_size), 1);
    xml->limits.element_count_max = node_limit;
    if (xml->failed) return xml->error;
    if (status != 0 || !xml->context->wellFormed) {
        xml_fail(xml, COR_ERR_PARSE, "xml not well-formed (libxml2 error %d)", status);
        return COR_ERR_PARSE;
    }
    if (xml->tree.root == COR_ISO_NODE_NONE) {
        xml_fail(xml, COR_ERR_PARSE, "document has no root element");
        return COR_ERR_PARSE;
    }
    *tree_out = &xml->tree;
    return COR_OK;
}
