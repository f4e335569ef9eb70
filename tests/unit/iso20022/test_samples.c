/*
 * MANIFEST-driven test over the shared ISO 20022 samples: every file of a supported version
 * that the manifest marks "accept" parses with no finding, serializes to XSD-valid XML and
 * round-trips; every "reject" file is refused with the finding named below (which matches
 * what its manifest row describes). Files of other versions must be refused as unsupported.
 *
 * Documented deviations (docs/ISO20022.md, "Samples"): four files the manifest marks
 * "accept" carry values corridor refuses on purpose: placeholder ABA routing numbers that
 * fail the check digit, and a placeholder transaction status code.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/iso20022.h"
#include "../../support/iso_support.h"

typedef struct sample_expectation {
    const char *file;   /* path below samples/ */
    const char *reason; /* ISO code of the expected finding */
    const char *text;   /* substring of a finding's path or text */
} sample_expectation;

/* Rejections: what each must be refused for. */
static const sample_expectation sample_rejections[] = {
    {"pacs.008/fednow-oss__conformance__pacs008_bad-aba-checksum.xml", "RC08", "aba"},
    {"pacs.008/cbpr-ur__pacs_008_stp_2025_invalid.xml", "RC01", "BICFI"},
    {"pacs.008/rust-iso__pacs.008.001.08-cross-field_invalid.xml", "FF01", "CreDtTm"},
    {"pacs.008/rust-iso__pacs.008.001.08-cross-field_invalid.xml", "AM18", "NbOfTxs"},
    {"pacs.008/rust-iso__pacs.008.001.08-cross-field_invalid.xml", "CH20", "IntrBkSttlmAmt"},
    {"pacs.008/rust-iso__pacs.008.001.08-cross-field_invalid.xml", "AC02", "IBAN and Othr"},
    {"pacs.008/rust-iso__pacs.008.001.08-cross-field_invalid.xml", "FF01", "SttlmInf"},
    {"pacs.002/fednow-oss__conformance__pacs002_unknown-status.xml", "FF01", "TxSts"},
    {"pacs.002/prowide__pacs.002-CDATA.xml", "FF01", "unsupported"},
    {"pacs.004/fednow-oss__conformance__pacs004_missing-return-reason.xml", "MS03", "RtrRsnInf"},
    {"pacs.028/fednow-oss__conformance__pacs028_missing-original.xml", "FF01", "OrgnlGrpInf"},
    {"camt.056/fednow-oss__conformance__camt056_missing-cancellation-reason.xml", "MS03",
     "CxlRsnInf"},
    {"camt.029/fednow-oss__conformance__camt029_rjcr-without-reason.xml", "MS03", "CxlStsRsnInf"},
    {"camt.054/cbpr-ur__camt_054_2025_invalid.xml", "FF01", "CreDt"},
    {"camt.054/cbpr-ur__camt_054_2025_invalid.xml", "RC01", "BICFI"},
    {"camt.054/cbpr-ur__camt_054_2025_invalid.xml", "AM11", "Amt"},
    {"head.001/fednow-oss__conformance__envelope_msgdefidr-mismatch.xml", "FF01", "MsgDefIdr"},
    {"head.001/moov-fednow__head_001_empty_Fr_To.xml", "FF01", "Fr"},
    {"head.001/moov-fednow__head_001_empty_Fr_To.xml", "DT01", "CreDt"},
    {"malformed/rust-iso__entity-expansion.xml", "FF01", "dtd not allowed"},
    {"malformed/rust-iso__dtd-external.xml", "FF01", "dtd not allowed"},
    {"malformed/rust-iso__xinclude.xml", "FF01", "xinclude"},
    {"malformed/rust-iso__not-well-formed.xml", "FF01", "not well-formed"},
    {"malformed/rust-iso__unbound-namespace.xml", "FF01", "not well-formed"},
    /* Manifest "accept" files of versions we do not support: refused, naming the version. */
    {"pacs.008/ballerina-mx2mt__CBPRplus_p.2.1.1_pacs.008-AtoB_v12.xml", "FF01", "pacs.008.001.12"},
    {"pacs.008/prowide__pacs.008.001.07.xml", "FF01", "pacs.008.001.07"},
    {"pacs.009/prowide__pacs.009.001.07.xml", "FF01", "pacs.009.001.07"},
    {"camt.053/moov__FI_camt_053_sample.xml", "FF01", "camt.053.001.02"},
    {"camt.053/prowide__camt.053.001.07.xml", "FF01", "camt.053.001.07"},
    {"camt.054/moov__FI_camt_054_sample.xml", "FF01", "camt.054.001.02"},
    {"head.001/prowide__mx_sample_bah.xml", "FF01", "head.001.001.01"},
    /* Deviations: the manifest says accept, corridor refuses the placeholder values. */
    {"pacs.008/frb-fednow__sample-participant-to-fednow-message.xml", "RC08", "aba"},
    {"pacs.002/frb-fednow__fednow-sample-message-pacs002.xml", "RC08", "aba"},
    {"pacs.002/frb-fednow__fednow-sample-message-outgoing-pacs002.xml", "RC08", "aba"},
    {"pacs.002/cbpr-ur__pacs.002.max.xml", "FF01", "TxSts"},
};

#define SAMPLE_REJECTION_COUNT (sizeof(sample_rejections) / sizeof(sample_rejections[0]))

static bool sample_has_finding(const cor_iso_message *message, const char *reason, const char *text)
{
    for (uint32_t i = 0; i < message->finding_count; i++) {
        const cor_iso_finding *finding = &message->findings[i];
        if (strcmp(finding->reason, reason) != 0) continue;
        if (strstr(finding->path, text) != NULL || strstr(finding->text, text) != NULL) {
            return true;
        }
    }
    return false;
}

static bool sample_rejected(const char *file)
{
    for (size_t i = 0; i < SAMPLE_REJECTION_COUNT; i++) {
        if (strcmp(sample_rejections[i].file, file) == 0) return true;
    }
    return false;
}

static cor_error sample_parse(cor_iso_parser *parser, const char *file, cor_iso_message *message)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/samples/%s", COR_TEST_ISO_DIR, file);
    size_t size = 0;
    char *data = cor_test_iso_read(path, &size);
    cr_assert_not_null(data, "cannot read sample %s", path);
    cor_error rc = cor_iso_parse(parser, data, size, message);
    free(data);
    return rc;
}

Test(iso20022_samples, manifest_accepts_and_round_trips)
{
    cor_test_iso_require_data();
    size_t size = 0;
    char manifest_path[512];
    snprintf(manifest_path, sizeof(manifest_path), "%s/samples/MANIFEST.tsv", COR_TEST_ISO_DIR);
    char *manifest = cor_test_iso_read(manifest_path, &size);
    cr_assert_not_null(manifest);
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_iso_message message;
    cor_iso_message_init(&message);
    uint32_t accepted = 0, rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "file\t", 5) == 0) continue;
        rows++;
        char *tab = strchr(line, '\t');
        cr_assert_not_null(tab);
        *tab = '\0';
        bool accept = strstr(tab + 1, "\taccept\t") != NULL;
        bool listed = sample_rejected(line);
        cr_assert(accept || listed, "manifest rejects %s but the test names no finding", line);
        if (listed) continue;
        cor_error rc = sample_parse(parser, line, &message);
        cr_assert_eq(rc, COR_OK, "%s: %s %s %s", line, cor_error_name(rc),
                     message.finding_count ? message.findings[0].path : "",
                     message.finding_count ? message.findings[0].text : "");
        cr_assert_eq(message.finding_total, 0, "%s: %s %s", line, message.findings[0].path,
                     message.findings[0].text);
        char error[512] = "";
        cr_assert(cor_test_iso_roundtrip(parser, &message, error, sizeof(error)), "%s: %s", line,
                  error);
        accepted++;
    }
    cr_assert_eq(rows, 54, "manifest rows: %u", rows);
    cr_assert_eq(accepted, 26, "accepted %u samples, expected 26", accepted);
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
    free(manifest);
}

Test(iso20022_samples, manifest_rejections_name_the_finding)
{
    cor_test_iso_require_data();
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_iso_message message;
    cor_iso_message_init(&message);
    for (size_t i = 0; i < SAMPLE_REJECTION_COUNT; i++) {
        const sample_expectation *expect = &sample_rejections[i];
        cor_error rc = sample_parse(parser, expect->file, &message);
        cr_assert(rc != COR_OK || message.finding_total > 0, "%s accepted", expect->file);
        cr_assert(sample_has_finding(&message, expect->reason, expect->text),
                  "%s: no %s finding about '%s' (first: %s %s %s)", expect->file, expect->reason,
                  expect->text, message.findings[0].reason, message.findings[0].path,
                  message.findings[0].text);
    }
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
}
