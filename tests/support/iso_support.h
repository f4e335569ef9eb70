/* Test helpers for the ISO 20022 codec: the shared sample directory and XSD validation. */
#ifndef COR_TEST_ISO_SUPPORT_H
#define COR_TEST_ISO_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "corridor/iso20022.h"

/* The shared ISO 20022 data: $COR_ISO20022_DIR when set, else "../shared/iso20022"
 * relative to the repository root (tests run from there; CI clones shared/ beside it). */
const char *cor_test_iso_dir(void);
#define COR_TEST_ISO_DIR cor_test_iso_dir()

/* Aborts the test with a clear message when the shared data directory is missing. */
void cor_test_iso_require_data(void);

/* Reads a whole file (malloc'd, NUL-terminated); NULL when unreadable. */
char *cor_test_iso_read(const char *path, size_t *size_out);

/* Validates every AppHdr and Document part of xml against its official XSD (chosen by the
 * part's namespace). Returns the number of parts validated (>= 1), or -1 with a message in
 * error (at least 256 bytes). */
int cor_test_iso_xsd_validate(const char *xml, size_t xml_size, char *error, size_t error_size);

/* Compares every field the codec models; false with the first difference in error. */
bool cor_test_iso_equal(const cor_iso_message *a, const cor_iso_message *b, char *error,
                        size_t error_size);

/* parse(serialize(x)) must equal x field by field, serialize it again to the same bytes, and
 * the first serialization must validate against the official XSD. false with error text. */
bool cor_test_iso_roundtrip(cor_iso_parser *parser, const cor_iso_message *message, char *error,
                            size_t error_size);

#endif
