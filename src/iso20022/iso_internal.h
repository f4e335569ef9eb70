/*
 * Private declarations of the ISO 20022 codec (src/iso20022/). Not a promise to callers.
 *
 * Pipeline: iso_xml.c streams the document through libxml2 SAX2 into a compact tree of
 * nodes (names and texts copied into the message's text arena, so parsed strings need no
 * further copy); iso_map.c finds AppHdr and Document by namespace, maps them to the public
 * structs and validates; iso_write.c serializes; iso_check.c holds the pure field checks.
 */
#ifndef COR_ISO_INTERNAL_H
#define COR_ISO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/iso20022.h"
#include "iso20022/iso_limits.h"

#define COR_ISO_NODE_NONE        UINT32_MAX
#define COR_ISO_SCHEMA_TYPE_NONE UINT16_MAX

typedef enum cor__iso_node_kind {
    COR_ISO_NODE_ELEMENT = 0,
    COR_ISO_NODE_ATTRIBUTE = 1,
} cor__iso_node_kind;

/* One element or attribute. Indices refer to the parser's node array. */
typedef struct cor__iso_node {
    const char *name;     /* local name, NUL-terminated, in the message text arena */
    const char *text;     /* text content (elements without children) or value; "" if none */
    uint32_t parent;      /* COR_ISO_NODE_NONE for the root */
    uint32_t first_child; /* attributes first, then elements; COR_ISO_NODE_NONE if none */
    uint32_t last_child;
    uint32_t next_sibling;
    uint8_t ns_index;          /* 0: no namespace; else index + 1 into parser namespaces */
    uint8_t kind;              /* cor__iso_node_kind */
    uint8_t has_element_child; /* 1 once an element child was added */
    uint8_t checked;           /* 1 when the mapper validated the text (schema pass skips it) */
    uint16_t schema_type;      /* set by the schema check; COR_ISO_SCHEMA_TYPE_NONE before */
} cor__iso_node;

typedef struct cor__iso_tree {
    cor__iso_node *nodes;
    uint32_t node_count;
    uint32_t root; /* COR_ISO_NODE_NONE if empty */
    uint32_t namespace_count;
    const char *namespaces[COR_ISO_NAMESPACE_COUNT_MAX]; /* in the text arena */
} cor__iso_tree;

/* Parses xml into tree; texts go to message's arena. Errors as cor_iso_parse (PARSE, LIMIT,
 * NOMEM) with a finding added to message. Defined in iso_xml.c. */
typedef struct cor__iso_xml cor__iso_xml;
cor_error cor__iso_xml_open(const cor_iso_parser_options *limits, cor__iso_xml **xml_out);
void cor__iso_xml_close(cor__iso_xml *xml);
cor_error cor__iso_xml_parse(cor__iso_xml *xml, const char *data, size_t data_size,
                             cor_iso_message *message, cor__iso_tree **tree_out);

/* Maps the tree into message and validates (iso_map.c). */
cor_error cor__iso_map(cor__iso_tree *tree, const cor_iso_parser_options *limits,
                       cor_iso_message *message);

/* Findings (iso_message.c). Records at most COR_ISO_FINDINGS_MAX, counts all; a finding for
 * the same transaction and path as one already recorded is dropped (the first, most
 * specific reason wins). */
void cor__iso_finding_add(cor_iso_message *message, int32_t tx_index, const char *reason,
                          const char *path, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* Makes room for tx_count transactions of the message's type (zeroed). COR_ERR_NOMEM. */
cor_error cor__iso_message_reserve(cor_iso_message *message, uint32_t tx_count);

/* Ensures the text arena holds at least size_bytes and empties it. COR_ERR_NOMEM. */
cor_error cor__iso_arena_reset(cor_iso_message *message, size_t size_bytes);

/* Copies size bytes + NUL into the arena; NULL when it is full. */
char *cor__iso_arena_copy(cor_iso_message *message, const char *text, size_t size);

/* Generated code tables (iso_codes.c). */
typedef struct cor__iso_code {
    char code[5];
} cor__iso_code;

extern const cor__iso_code iso_status_reason_codes[];
extern const uint32_t iso_status_reason_count;
extern const cor__iso_code iso_tx_status_codes[];
extern const uint32_t iso_tx_status_count;
extern const cor__iso_code iso_group_status_codes[];
extern const uint32_t iso_group_status_count;
extern const cor__iso_code iso_return_reason_codes[];
extern const uint32_t iso_return_reason_count;
extern const cor__iso_code iso_cancellation_reason_codes[];
extern const uint32_t iso_cancellation_reason_count;
extern const cor__iso_code iso_investigation_status_codes[];
extern const uint32_t iso_investigation_status_count;

bool cor__iso_aba_valid(const char *text); /* US ABA routing number check digit */

/* Schema tables generated from the official XSDs (iso_schema.c, scripts/gen_iso_schema.py)
 * and checked by iso_validate.c. */
typedef enum cor__iso_schema_kind {
    COR_ISO_SCHEMA_SEQUENCE = 0,   /* element-only content, particles in order */
    COR_ISO_SCHEMA_CHOICE,         /* element-only content, one of the particles */
    COR_ISO_SCHEMA_SIMPLE,         /* text only, facets below */
    COR_ISO_SCHEMA_SIMPLE_CONTENT, /* text of type `content` plus the Ccy attribute */
    COR_ISO_SCHEMA_ANY,            /* xs:any (signatures, supplementary data): not checked */
} cor__iso_schema_kind;

typedef enum cor__iso_text_kind {
    COR_ISO_TEXT_STRING = 0,
    COR_ISO_TEXT_DECIMAL,
    COR_ISO_TEXT_BOOLEAN,
    COR_ISO_TEXT_DATE,
    COR_ISO_TEXT_DATETIME,
    COR_ISO_TEXT_TIME,
    COR_ISO_TEXT_YEAR_MONTH,
} cor__iso_text_kind;

#define COR_ISO_SCHEMA_UNBOUNDED 0xFFFFu

typedef struct cor__iso_particle {
    const char *name;
    uint16_t type; /* index into the schema's types */
    uint16_t min;  /* minOccurs */
    uint16_t max;  /* maxOccurs, COR_ISO_SCHEMA_UNBOUNDED for unbounded */
} cor__iso_particle;

typedef struct cor__iso_type {
    uint8_t kind;            /* cor__iso_schema_kind */
    uint8_t text;            /* cor__iso_text_kind (SIMPLE) */
    uint16_t first;          /* first particle (SEQUENCE, CHOICE) */
    uint16_t count;          /* particles */
    uint16_t content;        /* SIMPLE_CONTENT: type index of the text */
    uint16_t length_min;     /* characters, 0: none */
    uint16_t length_max;     /* characters, 0: none */
    uint8_t digits_total;    /* decimal totalDigits, 0: none */
    uint8_t digits_fraction; /* decimal fractionDigits, 255: none */
    uint8_t non_negative;    /* minInclusive 0 */
    const char *pattern;     /* XSD pattern (a small regex subset) or NULL */
    const char *enumeration; /* "A|B|C" or NULL */
} cor__iso_type;

typedef struct cor__iso_schema {
    const char *definition;     /* "pacs.008.001.08" */
    const char *root;           /* "Document" or "AppHdr" */
    const cor__iso_type *types; /* types[0] is the root element's type */
    uint32_t type_count;
    const cor__iso_particle *particles;
} cor__iso_schema;

extern const cor__iso_schema cor__iso_schemas[];
extern const uint32_t cor__iso_schema_count;

/* Schema of a definition, NULL when we have none. */
const cor__iso_schema *cor__iso_schema_find(const char *definition);

/* Matches text against an XSD pattern of the subset the ISO schemas use: literals, escapes,
 * character classes with ranges, groups, and {n} / {n,m} quantifiers (greedy). */
bool cor__iso_pattern_match(const char *pattern, const char *text);

/* Checks text against a SIMPLE type's facets; NULL when it conforms, else a reason. */
const char *cor__iso_text_check(const cor__iso_type *type, const char *text);

/* Number of UTF-8 characters in text (for MaxNText checks). */
size_t cor__iso_utf8_length(const char *text);

/* "urn:iso:std:iso:20022:tech:xsd:" */
#define COR_ISO_NS_PREFIX      "urn:iso:std:iso:20022:tech:xsd:"
#define COR_ISO_NS_PREFIX_SIZE (sizeof(COR_ISO_NS_PREFIX) - 1u)

#endif
