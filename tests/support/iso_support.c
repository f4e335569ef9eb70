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
                       "COR_ISO20022_DIR",
                       COR_TEST_ISO_DIR);
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
        if (rc != 0) {
            snprintf(error, error_size, "%s: schema validation failed (%d)", definition, rc);
        }
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

/* ---- field-by-field comparison ------------------------------------------------------- */

typedef struct iso_diff {
    char *error;
    size_t error_size;
    bool differs;
} iso_diff;

static void iso_text(iso_diff *diff, const char *field, const char *a, const char *b)
{
    if (diff->differs) return;
    bool same = (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
    if (same) return;
    diff->differs = true;
    snprintf(diff->error, diff->error_size, "field %s: '%s' became '%s'", field,
             a != NULL ? a : "(absent)", b != NULL ? b : "(absent)");
}

static void iso_amount(iso_diff *diff, const char *field, const cor_iso_amount *a,
                       const cor_iso_amount *b)
{
    iso_text(diff, field, a->currency, b->currency);
    if (!diff->differs && a->amount_minor != b->amount_minor) {
        diff->differs = true;
        snprintf(diff->error, diff->error_size, "field %s: amount changed", field);
    }
}

static void iso_agent(iso_diff *diff, const char *field, const cor_iso_agent *a,
                      const cor_iso_agent *b)
{
    iso_text(diff, field, a->bic, b->bic);
    iso_text(diff, field, a->clearing_system, b->clearing_system);
    iso_text(diff, field, a->member_id, b->member_id);
    iso_text(diff, field, a->lei, b->lei);
    iso_text(diff, field, a->name, b->name);
}

static void iso_party(iso_diff *diff, const char *field, const cor_iso_party *a,
                      const cor_iso_party *b)
{
    iso_text(diff, field, a->name, b->name);
    iso_text(diff, field, a->country, b->country);
    iso_text(diff, field, a->bic, b->bic);
    iso_text(diff, field, a->lei, b->lei);
}

static void iso_account(iso_diff *diff, const char *field, const cor_iso_account *a,
                        const cor_iso_account *b)
{
    iso_text(diff, field, a->iban, b->iban);
    iso_text(diff, field, a->other_id, b->other_id);
    iso_text(diff, field, a->currency, b->currency);
}

static void iso_transfer(iso_diff *d, const cor_iso_credit_transfer *a,
                         const cor_iso_credit_transfer *b)
{
    iso_text(d, "InstrId", a->instruction_id, b->instruction_id);
    iso_text(d, "EndToEndId", a->end_to_end_id, b->end_to_end_id);
    iso_text(d, "TxId", a->transaction_id, b->transaction_id);
    iso_text(d, "UETR", a->uetr, b->uetr);
    iso_amount(d, "IntrBkSttlmAmt", &a->settlement_amount, &b->settlement_amount);
    iso_text(d, "IntrBkSttlmDt", a->settlement_date, b->settlement_date);
    iso_amount(d, "InstdAmt", &a->instructed_amount, &b->instructed_amount);
    iso_text(d, "ChrgBr", a->charge_bearer, b->charge_bearer);
    iso_agent(d, "InstgAgt", &a->instructing_agent, &b->instructing_agent);
    iso_agent(d, "InstdAgt", &a->instructed_agent, &b->instructed_agent);
    iso_party(d, "Dbtr", &a->debtor, &b->debtor);
    iso_account(d, "DbtrAcct", &a->debtor_account, &b->debtor_account);
    iso_agent(d, "DbtrAgt", &a->debtor_agent, &b->debtor_agent);
    iso_agent(d, "CdtrAgt", &a->creditor_agent, &b->creditor_agent);
    iso_party(d, "Cdtr", &a->creditor, &b->creditor);
    iso_account(d, "CdtrAcct", &a->creditor_account, &b->creditor_account);
    iso_text(d, "XchgRate", a->exchange_rate, b->exchange_rate);
    iso_text(d, "InstrForNxtAgt", a->instruction_for_next_agent, b->instruction_for_next_agent);
    iso_text(d, "Purp", a->purpose, b->purpose);
    iso_text(d, "Ustrd", a->remittance, b->remittance);
}

static void iso_related(iso_diff *d, const cor_iso_related_tx *a, const cor_iso_related_tx *b)
{
    iso_text(d, "id", a->id, b->id);
    iso_text(d, "OrgnlMsgId", a->original_msg_id, b->original_msg_id);
    iso_text(d, "OrgnlMsgNmId", a->original_msg_name, b->original_msg_name);
    iso_text(d, "OrgnlInstrId", a->original_instruction_id, b->original_instruction_id);
    iso_text(d, "OrgnlEndToEndId", a->original_end_to_end_id, b->original_end_to_end_id);
    iso_text(d, "OrgnlTxId", a->original_transaction_id, b->original_transaction_id);
    iso_text(d, "OrgnlUETR", a->original_uetr, b->original_uetr);
    iso_text(d, "status", a->status, b->status);
    iso_text(d, "reason", a->reason, b->reason);
    iso_text(d, "AddtlInf", a->additional_info, b->additional_info);
    iso_amount(d, "amount", &a->amount, &b->amount);
    iso_text(d, "settlement_date", a->settlement_date, b->settlement_date);
    iso_text(d, "ChrgBr", a->charge_bearer, b->charge_bearer);
    iso_agent(d, "InstgAgt", &a->instructing_agent, &b->instructing_agent);
    iso_agent(d, "InstdAgt", &a->instructed_agent, &b->instructed_agent);
}

static void iso_entry(iso_diff *d, const cor_iso_entry *a, const cor_iso_entry *b)
{
    iso_text(d, "NtryRef", a->reference, b->reference);
    iso_amount(d, "Amt", &a->amount, &b->amount);
    iso_text(d, "CdtDbtInd", a->credit ? "CRDT" : "DBIT", b->credit ? "CRDT" : "DBIT");
    iso_text(d, "Sts", a->status, b->status);
    iso_text(d, "BookgDt", a->booking_date, b->booking_date);
    iso_text(d, "ValDt", a->value_date, b->value_date);
    iso_text(d, "AcctSvcrRef", a->servicer_ref, b->servicer_ref);
    iso_text(d, "Domn", a->domain, b->domain);
    iso_text(d, "Fmly", a->family, b->family);
    iso_text(d, "SubFmlyCd", a->subfamily, b->subfamily);
    iso_text(d, "Prtry", a->proprietary, b->proprietary);
    iso_text(d, "EndToEndId", a->end_to_end_id, b->end_to_end_id);
    iso_text(d, "UETR", a->uetr, b->uetr);
    iso_text(d, "Ustrd", a->remittance, b->remittance);
}

static void iso_group(iso_diff *d, const cor_iso_group *a, const cor_iso_group *b)
{
    iso_text(d, "MsgId", a->msg_id, b->msg_id);
    iso_text(d, "CreDtTm", a->created, b->created);
    iso_text(d, "CtrlSum", a->control_sum, b->control_sum);
    iso_amount(d, "TtlIntrBkSttlmAmt", &a->total_settlement, &b->total_settlement);
    iso_text(d, "IntrBkSttlmDt", a->settlement_date, b->settlement_date);
    iso_text(d, "SttlmMtd", a->settlement_method, b->settlement_method);
    iso_text(d, "ClrSys", a->clearing_system, b->clearing_system);
    iso_agent(d, "GrpHdr/InstgAgt", &a->instructing_agent, &b->instructing_agent);
    iso_agent(d, "GrpHdr/InstdAgt", &a->instructed_agent, &b->instructed_agent);
    iso_text(d, "OrgnlMsgId", a->original_msg_id, b->original_msg_id);
    iso_text(d, "OrgnlMsgNmId", a->original_msg_name, b->original_msg_name);
    iso_text(d, "GrpSts", a->group_status, b->group_status);
    iso_text(d, "group reason", a->group_reason, b->group_reason);
}

static void iso_report(iso_diff *d, const cor_iso_report *a, const cor_iso_report *b)
{
    iso_text(d, "report Id", a->id, b->id);
    iso_text(d, "report CreDtTm", a->created, b->created);
    iso_account(d, "Acct", &a->account, &b->account);
    iso_text(d, "Ownr", a->account_owner, b->account_owner);
    iso_agent(d, "Svcr", &a->account_servicer, &b->account_servicer);
    if (!d->differs && a->balance_count != b->balance_count) {
        d->differs = true;
        snprintf(d->error, d->error_size, "balance count changed");
    }
    for (uint32_t i = 0; i < a->balance_count && i < COR_ISO_BALANCES_MAX; i++) {
        const cor_iso_balance *x = &a->balances[i], *y = &b->balances[i];
        iso_text(d, "Bal/Tp", x->type, y->type);
        iso_amount(d, "Bal/Amt", &x->amount, &y->amount);
        iso_text(d, "Bal/CdtDbtInd", x->credit ? "C" : "D", y->credit ? "C" : "D");
        iso_text(d, "Bal/Dt", x->date, y->date);
    }
}

bool cor_test_iso_equal(const cor_iso_message *a, const cor_iso_message *b, char *error,
                        size_t error_size)
{
    iso_diff d = {.error = error, .error_size = error_size};
    if (a->type != b->type || a->tx_count != b->tx_count ||
        a->header.present != b->header.present) {
        snprintf(error, error_size, "type, transaction count or header presence changed");
        return false;
    }
    if (a->header.present) {
        iso_agent(&d, "AppHdr/Fr", &a->header.from, &b->header.from);
        iso_agent(&d, "AppHdr/To", &a->header.to, &b->header.to);
        iso_text(&d, "BizMsgIdr", a->header.business_msg_id, b->header.business_msg_id);
        if (a->header.msg_def_id != NULL) {
            iso_text(&d, "MsgDefIdr", a->header.msg_def_id, b->header.msg_def_id);
        }
        iso_text(&d, "BizSvc", a->header.business_service, b->header.business_service);
        iso_text(&d, "CreDt", a->header.created, b->header.created);
    }
    if (a->type != COR_ISO_MSG_HEAD_001) iso_group(&d, &a->group, &b->group);
    bool transfers = a->type == COR_ISO_MSG_PACS_008 || a->type == COR_ISO_MSG_PACS_009;
    bool entries = a->type == COR_ISO_MSG_CAMT_053 || a->type == COR_ISO_MSG_CAMT_054;
    if (entries) iso_report(&d, &a->report, &b->report);
    for (uint32_t i = 0; i < a->tx_count && !d.differs; i++) {
        if (transfers) {
            iso_transfer(&d, &a->transfers[i], &b->transfers[i]);
        } else if (entries) {
            iso_entry(&d, &a->entries[i], &b->entries[i]);
        } else {
            iso_related(&d, &a->related[i], &b->related[i]);
        }
    }
    return !d.differs;
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
    if (!cor_test_iso_equal(message, &again, error, error_size)) goto done;
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
