/*
 * Limits of the ISO 20022 codec. Every limit is named, has a unit and gives its reason; the
 * parser options may lower them, never raise them above these ceilings.
 */
#ifndef COR_ISO_LIMITS_H
#define COR_ISO_LIMITS_H

/* Largest document: a pacs.008 batch of a few thousand transactions (each about 2-4 KB). */
#define COR_ISO_DOCUMENT_SIZE_BYTES_MAX     (16u * 1024u * 1024u)
#define COR_ISO_DOCUMENT_SIZE_BYTES_DEFAULT (4u * 1024u * 1024u)

/* Nesting: the deepest ISO path we know (camt.054 TxDtls/RltdPties/...) is under 20 levels
 * below Document; wrappers add a few. SAX keeps no recursion of ours, this caps libxml2's. */
#define COR_ISO_DEPTH_MAX 64u

/* Elements plus attributes kept in the tree of one document: 64 per transaction on average
 * for the largest batch, generous for the maximal samples (about 3,000 elements). */
#define COR_ISO_ELEMENT_COUNT_MAX     (512u * 1024u)
#define COR_ISO_ELEMENT_COUNT_DEFAULT (128u * 1024u)

/* One text node or attribute value. The longest ISO text type is Max140Text * 4 bytes of
 * UTF-8, base64 signatures in Sgntr excepted (we do not descend into Sgntr). */
#define COR_ISO_TEXT_SIZE_BYTES_MAX     (64u * 1024u)
#define COR_ISO_TEXT_SIZE_BYTES_DEFAULT (4u * 1024u)

/* Transactions (or statement entries) in one message: one ledger batch. */
#define COR_ISO_TX_COUNT_MAX     8192u
#define COR_ISO_TX_COUNT_DEFAULT 8192u

/* Distinct namespace URIs in one document (wrapper, AppHdr, Document, xmldsig...). */
#define COR_ISO_NAMESPACE_COUNT_MAX      8u
#define COR_ISO_NAMESPACE_SIZE_BYTES_MAX 128u

/* Attributes on one element (ISO uses at most Ccy). */
#define COR_ISO_ATTRIBUTE_COUNT_MAX 8u

_Static_assert(COR_ISO_DOCUMENT_SIZE_BYTES_DEFAULT <= COR_ISO_DOCUMENT_SIZE_BYTES_MAX,
               "default document size within ceiling");
_Static_assert(COR_ISO_ELEMENT_COUNT_DEFAULT <= COR_ISO_ELEMENT_COUNT_MAX,
               "default element count within ceiling");
_Static_assert(COR_ISO_TEXT_SIZE_BYTES_DEFAULT <= COR_ISO_TEXT_SIZE_BYTES_MAX,
               "default text size within ceiling");
_Static_assert(COR_ISO_DOCUMENT_SIZE_BYTES_MAX <= 0x7fffffffu / 4u,
               "text arena (3x document) fits 31-bit offsets and libxml2's int sizes");

#endif
