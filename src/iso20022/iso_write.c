/*
 * Serializer: public structs to ISO 20022 XML that validates against the official schema.
 *
 * Writes into one growable buffer capped at the document size ceiling; element order follows
 * the XSD sequences of each message definition. Values that would make the output
 * schema-invalid (unknown currency, bad BIC, missing required field) are refused with
 * COR_ERR_INVALID rather than written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "iso20022/iso_internal.h"

typedef struct writer {
    char *data;
    size_t size;
    size_t capacity;
    bool fixed;      /* the caller's buffer: never grown */
    cor_error error; /* first error; later writes are no-ops */
} writer;

static void w_fail(writer *w, cor_error error)
{
    if (w->error == COR_OK) w->error = error;
}

static void w_bytes(writer *w, const char *bytes, size_t size)
{
    if (w->error != COR_OK) return;
    if (size + 1u > w->capacity - w->size) {
        if (w->fixed) {
            w_fail(w, COR_ERR_LIMIT);
            return;
        }
        size_t capacity = w->capacity;
        while (size + 1u > capacity - w->size) {
            if (capacity >= COR_ISO_DOCUMENT_SIZE_BYTES_MAX) {
                w_fail(w, COR_ERR_LIMIT);
                return;
            }
            capacity *= 2u;
        }
        char *bigger = cor_alloc(capacity);
        if (bigger == NULL) {
            w_fail(w, COR_ERR_NOMEM);
            return;
        }
        memcpy(bigger, w->data, w->size);
        cor_free(w->data);
        w->data = bigger;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, bytes, size);
    w->size += size;
    w->data[w->size] = '\0';
}

static void w_str(writer *w, const char *text)
{
    w_bytes(w, text, strlen(text));
}

static void w_escaped(writer *w, const char *text)
{
    const char *run = text;
    for (const char *p = text; *p != '\0'; p++) {
        const char *entity = NULL;
        switch (*p) {
        case '&':
            entity = "&amp;";
            break;
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '"':
            entity = "&quot;";
            break;
        case '\'':
            entity = "&apos;";
            break;
        default:
            break;
        }
        if (entity == NULL) continue;
        w_bytes(w, run, (size_t)(p - run));
        w_str(w, entity);
        run = p + 1;
    }
    w_bytes(w, run, strlen(run));
}

/* <name> and </name> in one write each (names are ISO tags, a few dozen bytes at most). */
static void w_open(writer *w, const char *name)
{
    char tag[64];
    size_t length = strlen(name);
    COR_ASSERT(length + 2u <= sizeof(tag));
    tag[0] = '<';
    memcpy(tag + 1, name, length);
    tag[length + 1] = '>';
    w_bytes(w, tag, length + 2u);
}

static void w_close(writer *w, const char *name)
{
    char tag[64];
    size_t length = strlen(name);
    COR_ASSERT(length + 3u <= sizeof(tag));
    tag[0] = '<';
    tag[1] = '/';
    memcpy(tag + 2, name, length);
    tag[length + 2] = '>';
    w_bytes(w, tag, length + 3u);
}

/* <name>text</name> when text is set; a required one missing fails the call. */
/* Whether text is well-formed UTF-8 that XML 1.0 can carry: no C0 controls other than
 * tab, newline and carriage return, no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool w_xml_text_valid(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
            p++;
            continue;
        }
        size_t extra = c >= 0xF0 ? 3u : c >= 0xE0 ? 2u : c >= 0xC0 ? 1u : 0u;
        if (extra == 0 || c >= 0xF5 || c == 0xC0 || c == 0xC1) return false;
        uint32_t code = c & (0x3Fu >> extra);
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0u) != 0x80u) return false;
            code = (code << 6) | (p[i] & 0x3Fu);
        }
        static const uint32_t lowest[4] = {0, 0x80, 0x800, 0x10000};
        if (code < lowest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        if (code == 0xFFFE || code == 0xFFFF) return false;
        p += extra + 1u;
    }
    return true;
}

/* Longest text, in characters, of each element we write by name (their ISO types); 0 for
 * names checked by their own validators (codes, identifiers, dates). */
static size_t w_text_max(const char *name)
{
    /* Nm and Ustrd: Max140Text; AddtlInf: Max105Text; BizSvc, NtryRef, AcctSvcrRef and
     * every name containing "Id" (InstrId, MsgId, BizMsgIdr, OrgnlEndToEndId, ...):
     * Max35Text. Tested against the names in one switch on the first letter (this runs for
     * every element written). */
    switch (name[0]) {
    case 'N':
        if (strcmp(name, "Nm") == 0) return 140;
        if (strcmp(name, "NtryRef") == 0) return 35;
        break;
    case 'U':
        if (strcmp(name, "Ustrd") == 0) return 140;
        break;
    case 'A':
        if (strcmp(name, "AddtlInf") == 0) return 105;
        if (strcmp(name, "AcctSvcrRef") == 0) return 35;
        break;
    case 'B':
        if (strcmp(name, "BizSvc") == 0) return 35;
        break;
    default:
        break;
    }
    if (strstr(name, "Id") != NULL) return 35; /* InstrId, OrgnlEndToEndId, CxlStsId, ... */
    return 0;
}

/* <name>text</name> when text is set (max_chars: 0 means the name's own limit, see
 * w_text_max). A required one missing, an empty or too long text, or text XML cannot
 * carry fails the call with COR_ERR_INVALID. */
static void w_text_limited(writer *w, const char *name, const char *text, size_t max_chars,
                           bool required)
{
    if (text == NULL) {
        if (required) w_fail(w, COR_ERR_INVALID);
        return;
    }
    if (max_chars == 0) max_chars = w_text_max(name);
    if (text[0] == '\0' || !w_xml_text_valid(text) ||
        (max_chars != 0 && cor__iso_utf8_length(text) > max_chars)) {
        w_fail(w, COR_ERR_INVALID);
        return;
    }
    w_open(w, name);
    w_escaped(w, text);
    w_close(w, name);
}

static void w_text(writer *w, const char *name, const char *text, bool required)
{
    w_text_limited(w, name, text, 0, required);
}

static void w_checked(writer *w, const char *name, const char *text, bool (*valid)(const char *))
{
    if (text != NULL && !valid(text)) w_fail(w, COR_ERR_INVALID);
    w_text(w, name, text, false);
}

/* <name>text</name> where text must be one of "A|B|C". */
static void w_enumerated(writer *w, const char *name, const char *text, const char *allowed,
                         bool required)
{
    bool found = false;
    for (const char *item = allowed; text != NULL && *item != '\0' && !found;) {
        size_t size = strcspn(item, "|");
        found = strlen(text) == size && memcmp(item, text, size) == 0;
        item += item[size] == '|' ? size + 1u : size;
    }
    if (text != NULL && !found) w_fail(w, COR_ERR_INVALID);
    w_text(w, name, text, required);
}

static void w_amount(writer *w, const char *name, const cor_iso_amount *amount, bool required)
{
    if (amount->currency[0] == '\0') {
        if (required) w_fail(w, COR_ERR_INVALID);
        return;
    }
    char text[64];
    if (cor_iso_amount_format(amount->amount_minor, amount->currency, text, sizeof(text)) == 0) {
        w_fail(w, COR_ERR_INVALID);
        return;
    }
    /* The XSD caps amounts at 18 digits. */
    cor_u128 check = 0;
    if (!cor_iso_amount_parse(text, strlen(text), amount->currency, &check)) {
        w_fail(w, COR_ERR_INVALID);
        return;
    }
    w_str(w, "<");
    w_str(w, name);
    w_str(w, " Ccy=\"");
    w_str(w, amount->currency);
    w_str(w, "\">");
    w_str(w, text);
    w_close(w, name);
}

static bool w_agent_empty(const cor_iso_agent *agent)
{
    return agent->bic == NULL && agent->member_id == NULL && agent->lei == NULL &&
           agent->name == NULL;
}

static void w_fin_id(writer *w, const cor_iso_agent *agent)
{
    w_open(w, "FinInstnId");
    w_checked(w, "BICFI", agent->bic, cor_iso_bic_valid);
    if (agent->member_id != NULL) {
        w_open(w, "ClrSysMmbId");
        if (agent->clearing_system != NULL) {
            w_open(w, "ClrSysId");
            w_text_limited(w, "Cd", agent->clearing_system, 5, true);
            w_close(w, "ClrSysId");
        }
        w_text(w, "MmbId", agent->member_id, true);
        w_close(w, "ClrSysMmbId");
    }
    w_checked(w, "LEI", agent->lei, cor_iso_lei_valid);
    w_text(w, "Nm", agent->name, false);
    w_close(w, "FinInstnId");
}

static void w_agent(writer *w, const char *name, const cor_iso_agent *agent, bool required)
{
    if (w_agent_empty(agent)) {
        if (required) w_fail(w, COR_ERR_INVALID);
        return;
    }
    w_open(w, name);
    w_fin_id(w, agent);
    w_close(w, name);
}

static void w_country(writer *w, const char *country)
{
    if (country == NULL) return;
    w_open(w, "PstlAdr");
    if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' ||
        country[1] > 'Z') {
        w_fail(w, COR_ERR_INVALID);
    }
    w_text(w, "Ctry", country, true);
    w_close(w, "PstlAdr");
}

static void w_party(writer *w, const char *name, const cor_iso_party *party, bool institution)
{
    w_open(w, name);
    if (institution) {
        w_open(w, "FinInstnId");
        w_checked(w, "BICFI", party->bic, cor_iso_bic_valid);
        w_checked(w, "LEI", party->lei, cor_iso_lei_valid);
        w_text(w, "Nm", party->name, false);
        w_country(w, party->country);
        w_close(w, "FinInstnId");
    } else {
        w_text(w, "Nm", party->name, false);
        w_country(w, party->country);
        if (party->bic != NULL || party->lei != NULL) {
            w_str(w, "<Id><OrgId>");
            w_checked(w, "AnyBIC", party->bic, cor_iso_bic_valid);
            w_checked(w, "LEI", party->lei, cor_iso_lei_valid);
            w_str(w, "</OrgId></Id>");
        }
    }
    w_close(w, name);
}

static void w_account(writer *w, const char *name, const cor_iso_account *account)
{
    if (account->iban == NULL && account->other_id == NULL) return;
    if (account->iban != NULL && account->other_id != NULL) w_fail(w, COR_ERR_INVALID);
    w_open(w, name);
    w_open(w, "Id");
    w_checked(w, "IBAN", account->iban, cor_iso_iban_valid);
    if (account->other_id != NULL) {
        w_open(w, "Othr");
        w_text_limited(w, "Id", account->other_id, 34, true); /* Max34Text */
        w_close(w, "Othr");
    }
    w_close(w, "Id");
    if (account->currency != NULL && cor_iso_currency_exponent(account->currency) < 0) {
        w_fail(w, COR_ERR_INVALID);
    }
    w_text(w, "Ccy", account->currency, false);
    w_close(w, name);
}

static void w_reason(writer *w, const char *block, const char *reason, const char *info)
{
    if (reason == NULL && info == NULL) return;
    w_open(w, block);
    if (reason != NULL) {
        w_open(w, "Rsn");
        w_text_limited(w, "Cd", reason, 4, true);
        w_close(w, "Rsn");
    }
    w_text(w, "AddtlInf", info, false);
    w_close(w, block);
}

/* ---- pacs.008 / pacs.009 -------------------------------------------------------------- */

static bool w_is_return(const cor_iso_message *m)
{
    return m->type == COR_ISO_MSG_PACS_004 || m->type == COR_ISO_MSG_PACS_004_V10;
}

static void w_group_header(writer *w, const cor_iso_message *m, bool settlement)
{
    const cor_iso_group *group = &m->group;
    w_open(w, "GrpHdr");
    w_text(w, "MsgId", group->msg_id, true);
    w_checked(w, "CreDtTm", group->created, cor_iso_datetime_valid);
    if (group->created == NULL) w_fail(w, COR_ERR_INVALID);
    if (settlement) {
        char count[16];
        snprintf(count, sizeof(count), "%u", m->tx_count);
        w_text(w, "NbOfTxs", count, true);
        static const cor__iso_type control_sum = {.kind = COR_ISO_SCHEMA_SIMPLE,
                                                  .text = COR_ISO_TEXT_DECIMAL,
                                                  .digits_total = 18,
                                                  .digits_fraction = 17};
        if (group->control_sum != NULL &&
            cor__iso_text_check(&control_sum, group->control_sum) != NULL) {
            w_fail(w, COR_ERR_INVALID);
        }
        w_text(w, "CtrlSum", group->control_sum, false);
        w_amount(w, w_is_return(m) ? "TtlRtrdIntrBkSttlmAmt" : "TtlIntrBkSttlmAmt",
                 &group->total_settlement, false);
        w_checked(w, "IntrBkSttlmDt", group->settlement_date, cor_iso_date_valid);
        w_open(w, "SttlmInf");
        w_enumerated(w, "SttlmMtd", group->settlement_method, "INDA|INGA|COVE|CLRG", true);
        if (group->clearing_system != NULL) {
            w_open(w, "ClrSys");
            w_text_limited(w, "Cd", group->clearing_system, 3, true);
            w_close(w, "ClrSys");
        }
        w_close(w, "SttlmInf");
    }
    w_agent(w, "InstgAgt", &group->instructing_agent, false);
    w_agent(w, "InstdAgt", &group->instructed_agent, false);
    w_close(w, "GrpHdr");
}

static void w_credit_transfer(writer *w, const cor_iso_credit_transfer *tx, bool customer)
{
    w_open(w, "CdtTrfTxInf");
    w_open(w, "PmtId");
    w_text(w, "InstrId", tx->instruction_id, false);
    w_text(w, "EndToEndId", tx->end_to_end_id, true);
    w_text(w, "TxId", tx->transaction_id, false);
    w_checked(w, "UETR", tx->uetr, cor_iso_uetr_valid);
    w_close(w, "PmtId");
    w_amount(w, "IntrBkSttlmAmt", &tx->settlement_amount, true);
    w_checked(w, "IntrBkSttlmDt", tx->settlement_date, cor_iso_date_valid);
    if (customer) {
        w_amount(w, "InstdAmt", &tx->instructed_amount, false);
        static const cor__iso_type base_one_rate = {.kind = COR_ISO_SCHEMA_SIMPLE,
                                                    .text = COR_ISO_TEXT_DECIMAL,
                                                    .digits_total = 11,
                                                    .digits_fraction = 10};
        if (tx->exchange_rate != NULL &&
            cor__iso_text_check(&base_one_rate, tx->exchange_rate) != NULL) {
            w_fail(w, COR_ERR_INVALID);
        }
        w_text_limited(w, "XchgRate", tx->exchange_rate, 64, false);
        w_enumerated(w, "ChrgBr", tx->charge_bearer, "DEBT|CRED|SHAR|SLEV", true);
    } else if (tx->charge_bearer != NULL || tx->instructed_amount.currency[0] != '\0' ||
               tx->exchange_rate != NULL) {
        w_fail(w, COR_ERR_INVALID); /* pacs.009 carries neither; refuse rather than drop */
    }
    w_agent(w, "InstgAgt", &tx->instructing_agent, false);
    w_agent(w, "InstdAgt", &tx->instructed_agent, false);
    w_party(w, "Dbtr", &tx->debtor, !customer);
    w_account(w, "DbtrAcct", &tx->debtor_account);
    w_agent(w, "DbtrAgt", &tx->debtor_agent, customer);
    w_agent(w, "CdtrAgt", &tx->creditor_agent, customer);
    w_party(w, "Cdtr", &tx->creditor, !customer);
    w_account(w, "CdtrAcct", &tx->creditor_account);
    if (tx->instruction_for_next_agent != NULL) {
        w_open(w, "InstrForNxtAgt");
        w_text_limited(w, "InstrInf", tx->instruction_for_next_agent, 140, true);
        w_close(w, "InstrForNxtAgt");
    }
    if (tx->purpose != NULL) {
        w_open(w, "Purp");
        w_text_limited(w, "Cd", tx->purpose, 4, true);
        w_close(w, "Purp");
    }
    if (tx->remittance != NULL) {
        w_open(w, "RmtInf");
        w_text(w, "Ustrd", tx->remittance, true);
        w_close(w, "RmtInf");
    }
    w_close(w, "CdtTrfTxInf");
}

static void w_credit_transfers(writer *w, const cor_iso_message *m, bool customer)
{
    w_group_header(w, m, true);
    if (m->tx_count == 0) w_fail(w, COR_ERR_INVALID);
    for (uint32_t i = 0; i < m->tx_count; i++)
        w_credit_transfer(w, &m->transfers[i], customer);
}

/* ---- related transactions ------------------------------------------------------------- */

static void w_original_group(writer *w, const cor_iso_related_tx *tx)
{
    if (tx->original_msg_id == NULL && tx->original_msg_name == NULL) return;
    w_open(w, "OrgnlGrpInf");
    w_text(w, "OrgnlMsgId", tx->original_msg_id, true);
    w_text(w, "OrgnlMsgNmId", tx->original_msg_name, true);
    w_close(w, "OrgnlGrpInf");
}

/* OrgnlGrpInf, OrgnlInstrId, OrgnlEndToEndId, OrgnlTxId (+ OrgnlUETR unless the caller
 * writes it itself: camt.029 puts OrgnlClrSysRef in between). */
static void w_original_ids(writer *w, const cor_iso_related_tx *tx, bool uetr)
{
    w_original_group(w, tx);
    w_text(w, "OrgnlInstrId", tx->original_instruction_id, false);
    w_text(w, "OrgnlEndToEndId", tx->original_end_to_end_id, false);
    w_text(w, "OrgnlTxId", tx->original_transaction_id, false);
    if (uetr) w_checked(w, "OrgnlUETR", tx->original_uetr, cor_iso_uetr_valid);
}

/* OrgnlTxRef with the end customers' names (pacs.004, camt.056), when either is set. */
static void w_original_parties(writer *w, const cor_iso_related_tx *tx)
{
    if (tx->debtor_name == NULL && tx->creditor_name == NULL) return;
    w_open(w, "OrgnlTxRef");
    if (tx->debtor_name != NULL) {
        w_str(w, "<Dbtr><Pty>");
        w_text(w, "Nm", tx->debtor_name, true);
        w_str(w, "</Pty></Dbtr>");
    }
    if (tx->creditor_name != NULL) {
        w_str(w, "<Cdtr><Pty>");
        w_text(w, "Nm", tx->creditor_name, true);
        w_str(w, "</Pty></Cdtr>");
    }
    w_close(w, "OrgnlTxRef");
}

static void w_status_report(writer *w, const cor_iso_message *m)
{
    const cor_iso_group *group = &m->group;
    w_group_header(w, m, false);
    if (group->original_msg_id != NULL || group->original_msg_name != NULL) {
        w_open(w, "OrgnlGrpInfAndSts");
        w_text(w, "OrgnlMsgId", group->original_msg_id, true);
        w_text(w, "OrgnlMsgNmId", group->original_msg_name, true);
        w_checked(w, "GrpSts", group->group_status, cor_iso_group_status_known);
        w_reason(w, "StsRsnInf", group->group_reason, NULL);
        w_close(w, "OrgnlGrpInfAndSts");
    }
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *tx = &m->related[i];
        w_open(w, "TxInfAndSts");
        w_text(w, "StsId", tx->id, false);
        w_original_ids(w, tx, true);
        if (tx->status != NULL && !cor_iso_tx_status_known(tx->status)) {
            w_fail(w, COR_ERR_INVALID);
        }
        w_text(w, "TxSts", tx->status, false);
        w_reason(w, "StsRsnInf", tx->reason, tx->additional_info);
        w_agent(w, "InstgAgt", &tx->instructing_agent, false);
        w_agent(w, "InstdAgt", &tx->instructed_agent, false);
        w_close(w, "TxInfAndSts");
    }
}

static void w_return(writer *w, const cor_iso_message *m)
{
    w_group_header(w, m, true);
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *tx = &m->related[i];
        w_open(w, "TxInf");
        w_text(w, "RtrId", tx->id, false);
        w_original_ids(w, tx, true);
        w_amount(w, "RtrdIntrBkSttlmAmt", &tx->amount, true);
        w_checked(w, "IntrBkSttlmDt", tx->settlement_date, cor_iso_date_valid);
        w_enumerated(w, "ChrgBr", tx->charge_bearer, "DEBT|CRED|SHAR|SLEV", false);
        w_agent(w, "InstgAgt", &tx->instructing_agent, false);
        w_agent(w, "InstdAgt", &tx->instructed_agent, false);
        w_reason(w, "RtrRsnInf", tx->reason, tx->additional_info);
        w_original_parties(w, tx);
        w_close(w, "TxInf");
    }
}

static void w_status_request(writer *w, const cor_iso_message *m)
{
    w_group_header(w, m, false);
    if (m->group.original_msg_id != NULL) {
        w_open(w, "OrgnlGrpInf");
        w_text(w, "OrgnlMsgId", m->group.original_msg_id, true);
        w_text(w, "OrgnlMsgNmId", m->group.original_msg_name, true);
        w_close(w, "OrgnlGrpInf");
    }
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *tx = &m->related[i];
        w_open(w, "TxInf");
        w_text(w, "StsReqId", tx->id, false);
        w_original_ids(w, tx, true);
        w_agent(w, "InstgAgt", &tx->instructing_agent, false);
        w_agent(w, "InstdAgt", &tx->instructed_agent, false);
        w_close(w, "TxInf");
    }
}

static void w_assignment(writer *w, const cor_iso_group *group)
{
    w_open(w, "Assgnmt");
    w_text(w, "Id", group->msg_id, true);
    const cor_iso_agent *agents[2] = {&group->instructing_agent, &group->instructed_agent};
    const char *names[2] = {"Assgnr", "Assgne"};
    for (int i = 0; i < 2; i++) {
        w_open(w, names[i]);
        if (w_agent_empty(agents[i])) {
            w_str(w, "<Pty/>"); /* the party choice is not modelled; keep the schema happy */
        } else {
            w_agent(w, "Agt", agents[i], true);
        }
        w_close(w, names[i]);
    }
    w_checked(w, "CreDtTm", group->created, cor_iso_datetime_valid);
    if (group->created == NULL) w_fail(w, COR_ERR_INVALID);
    w_close(w, "Assgnmt");
}

static void w_cancellation(writer *w, const cor_iso_message *m)
{
    w_assignment(w, &m->group);
    w_open(w, "Undrlyg");
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *tx = &m->related[i];
        w_open(w, "TxInf");
        w_text(w, "CxlId", tx->id, false);
        w_original_ids(w, tx, true);
        w_amount(w, "OrgnlIntrBkSttlmAmt", &tx->amount, false);
        w_checked(w, "OrgnlIntrBkSttlmDt", tx->settlement_date, cor_iso_date_valid);
        w_reason(w, "CxlRsnInf", tx->reason, tx->additional_info);
        w_original_parties(w, tx);
        w_close(w, "TxInf");
    }
    w_close(w, "Undrlyg");
}

static void w_resolution(writer *w, const cor_iso_message *m)
{
    static const char *const statuses[] = {"ACCR", "RJCR", "PDCR", "PACR", NULL};
    w_assignment(w, &m->group);
    w_open(w, "Sts");
    w_checked(w, "Conf", m->group.group_status, cor_iso_investigation_status_known);
    if (m->group.group_status == NULL) w_fail(w, COR_ERR_INVALID);
    w_close(w, "Sts");
    if (m->tx_count > 0) w_open(w, "CxlDtls");
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *tx = &m->related[i];
        w_open(w, "TxInfAndSts");
        w_text(w, "CxlStsId", tx->id, false);
        w_original_ids(w, tx, false);
        w_checked(w, "OrgnlUETR", tx->original_uetr, cor_iso_uetr_valid);
        if (tx->status != NULL) {
            bool known = false;
            for (size_t s = 0; statuses[s] != NULL; s++)
                known |= !strcmp(tx->status, statuses[s]);
            if (!known) w_fail(w, COR_ERR_INVALID);
        }
        w_text(w, "TxCxlSts", tx->status, false);
        w_reason(w, "CxlStsRsnInf", tx->reason, tx->additional_info);
        w_close(w, "TxInfAndSts");
    }
    if (m->tx_count > 0) w_close(w, "CxlDtls");
}

/* ---- camt.053 / camt.054 -------------------------------------------------------------- */

static void w_date_choice(writer *w, const char *name, const char *date, bool required)
{
    if (date == NULL) {
        if (required) w_fail(w, COR_ERR_INVALID);
        return;
    }
    w_open(w, name);
    if (strlen(date) == 10) {
        w_checked(w, "Dt", date, cor_iso_date_valid);
    } else {
        w_checked(w, "DtTm", date, cor_iso_datetime_valid);
    }
    w_close(w, name);
}

static void w_entry(writer *w, const cor_iso_entry *entry)
{
    w_open(w, "Ntry");
    w_text(w, "NtryRef", entry->reference, false);
    w_amount(w, "Amt", &entry->amount, true);
    w_text(w, "CdtDbtInd", entry->credit ? "CRDT" : "DBIT", true);
    w_open(w, "Sts");
    w_text_limited(w, "Cd", entry->status, 4, true);
    w_close(w, "Sts");
    w_date_choice(w, "BookgDt", entry->booking_date, false);
    w_date_choice(w, "ValDt", entry->value_date, false);
    w_text(w, "AcctSvcrRef", entry->servicer_ref, false);
    w_open(w, "BkTxCd");
    if (entry->domain != NULL) {
        w_open(w, "Domn");
        w_text_limited(w, "Cd", entry->domain, 4, true);
        w_open(w, "Fmly");
        w_text_limited(w, "Cd", entry->family, 4, true);
        w_text_limited(w, "SubFmlyCd", entry->subfamily, 4, true);
        w_close(w, "Fmly");
        w_close(w, "Domn");
    }
    if (entry->proprietary != NULL) {
        w_open(w, "Prtry");
        w_text_limited(w, "Cd", entry->proprietary, 35, true);
        w_close(w, "Prtry");
    }
    w_close(w, "BkTxCd");
    if (entry->end_to_end_id != NULL || entry->uetr != NULL || entry->remittance != NULL) {
        w_str(w, "<NtryDtls><TxDtls>");
        if (entry->end_to_end_id != NULL || entry->uetr != NULL) {
            w_open(w, "Refs");
            w_text(w, "EndToEndId", entry->end_to_end_id, false);
            w_checked(w, "UETR", entry->uetr, cor_iso_uetr_valid);
            w_close(w, "Refs");
        }
        if (entry->remittance != NULL) {
            w_open(w, "RmtInf");
            w_text(w, "Ustrd", entry->remittance, true);
            w_close(w, "RmtInf");
        }
        w_str(w, "</TxDtls></NtryDtls>");
    }
    w_close(w, "Ntry");
}

static void w_statement(writer *w, const cor_iso_message *m, const char *name)
{
    const cor_iso_report *report = &m->report;
    w_group_header(w, m, false);
    w_open(w, name);
    w_text(w, "Id", report->id, true);
    w_checked(w, "CreDtTm", report->created, cor_iso_datetime_valid);
    w_open(w, "Acct");
    if (report->account.iban == NULL && report->account.other_id == NULL) {
        w_fail(w, COR_ERR_INVALID);
    }
    /* CashAccount39 starts like CashAccount38: Id, Tp, Ccy; then Nm, Prxy, Ownr, Svcr. */
    w_open(w, "Id");
    w_checked(w, "IBAN", report->account.iban, cor_iso_iban_valid);
    if (report->account.other_id != NULL) {
        w_open(w, "Othr");
        w_text_limited(w, "Id", report->account.other_id, 34, true); /* Max34Text */
        w_close(w, "Othr");
    }
    w_close(w, "Id");
    if (report->account.currency != NULL &&
        cor_iso_currency_exponent(report->account.currency) < 0) {
        w_fail(w, COR_ERR_INVALID);
    }
    w_text(w, "Ccy", report->account.currency, false);
    if (report->account_owner != NULL) {
        w_open(w, "Ownr");
        w_text(w, "Nm", report->account_owner, true);
        w_close(w, "Ownr");
    }
    w_agent(w, "Svcr", &report->account_servicer, false);
    w_close(w, "Acct");
    if (strcmp(name, "Stmt") == 0 && report->balance_count == 0) w_fail(w, COR_ERR_INVALID);
    if (report->balance_count > COR_ISO_BALANCES_MAX) w_fail(w, COR_ERR_INVALID);
    for (uint32_t i = 0; i < report->balance_count && i < COR_ISO_BALANCES_MAX; i++) {
        const cor_iso_balance *balance = &report->balances[i];
        w_open(w, "Bal");
        w_str(w, "<Tp><CdOrPrtry>");
        w_text_limited(w, "Cd", balance->type, 4, true);
        w_str(w, "</CdOrPrtry></Tp>");
        w_amount(w, "Amt", &balance->amount, true);
        w_text(w, "CdtDbtInd", balance->credit ? "CRDT" : "DBIT", true);
        w_date_choice(w, "Dt", balance->date, true);
        w_close(w, "Bal");
    }
    for (uint32_t i = 0; i < m->tx_count; i++)
        w_entry(w, &m->entries[i]);
    w_close(w, name);
}

/* ---- header and dispatch -------------------------------------------------------------- */

static void w_app_header(writer *w, const cor_iso_message *m)
{
    const cor_iso_app_header *header = &m->header;
    w_str(w, "<AppHdr xmlns=\"" COR_ISO_NS_PREFIX "head.001.001.02\">");
    const cor_iso_agent *parties[2] = {&header->from, &header->to};
    const char *names[2] = {"Fr", "To"};
    for (int i = 0; i < 2; i++) {
        w_open(w, names[i]);
        if (w_agent_empty(parties[i])) {
            w_str(w, "<OrgId/>"); /* organisation parties are not modelled */
        } else {
            w_agent(w, "FIId", parties[i], true);
        }
        w_close(w, names[i]);
    }
    w_text(w, "BizMsgIdr", header->business_msg_id, true);
    /* MsgDefIdr names the Document; NULL lets the serializer fill it in. */
    const char *definition = header->msg_def_id;
    if (m->type != COR_ISO_MSG_HEAD_001) {
        const char *expected = cor_iso_msg_type_name(m->type);
        if (definition != NULL && strcmp(definition, expected) != 0) w_fail(w, COR_ERR_INVALID);
        definition = expected;
    }
    w_text(w, "MsgDefIdr", definition, true);
    w_text(w, "BizSvc", header->business_service, false);
    w_checked(w, "CreDt", header->created, cor_iso_datetime_valid);
    if (header->created == NULL) w_fail(w, COR_ERR_INVALID);
    w_close(w, "AppHdr");
}

static const char *const w_roots[COR_ISO_MSG_TYPE_COUNT] = {
    [COR_ISO_MSG_PACS_008] = "FIToFICstmrCdtTrf",
    [COR_ISO_MSG_PACS_002] = "FIToFIPmtStsRpt",
    [COR_ISO_MSG_PACS_004] = "PmtRtr",
    [COR_ISO_MSG_PACS_004_V10] = "PmtRtr",
    [COR_ISO_MSG_PACS_009] = "FICdtTrf",
    [COR_ISO_MSG_PACS_028] = "FIToFIPmtStsReq",
    [COR_ISO_MSG_CAMT_056] = "FIToFIPmtCxlReq",
    [COR_ISO_MSG_CAMT_029] = "RsltnOfInvstgtn",
    [COR_ISO_MSG_CAMT_053] = "BkToCstmrStmt",
    [COR_ISO_MSG_CAMT_054] = "BkToCstmrDbtCdtNtfctn",
};

static void w_document(writer *w, const cor_iso_message *m)
{
    const char *root = w_roots[m->type];
    w_str(w, "<Document xmlns=\"" COR_ISO_NS_PREFIX);
    w_str(w, cor_iso_msg_type_name(m->type));
    w_str(w, "\">");
    w_open(w, root);
    switch (m->type) {
    case COR_ISO_MSG_PACS_008:
        w_credit_transfers(w, m, true);
        break;
    case COR_ISO_MSG_PACS_009:
        w_credit_transfers(w, m, false);
        break;
    case COR_ISO_MSG_PACS_002:
        w_status_report(w, m);
        break;
    case COR_ISO_MSG_PACS_004:
    case COR_ISO_MSG_PACS_004_V10:
        w_return(w, m);
        break;
    case COR_ISO_MSG_PACS_028:
        w_status_request(w, m);
        break;
    case COR_ISO_MSG_CAMT_056:
        w_cancellation(w, m);
        break;
    case COR_ISO_MSG_CAMT_029:
        w_resolution(w, m);
        break;
    case COR_ISO_MSG_CAMT_053:
        w_statement(w, m, "Stmt");
        break;
    case COR_ISO_MSG_CAMT_054:
        w_statement(w, m, "Ntfctn");
        break;
    default:
        COR_UNREACHABLE();
    }
    w_close(w, root);
    w_str(w, "</Document>");
}

/* Writes the whole document into w (which has room for at least the NUL). */
static void w_message(writer *w, const cor_iso_message *message, unsigned flags)
{
    w->data[0] = '\0';
    w_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    bool header = message->header.present && ((flags & COR_ISO_SERIALIZE_WITH_HEADER) != 0 ||
                                              message->type == COR_ISO_MSG_HEAD_001);
    if (message->type == COR_ISO_MSG_HEAD_001) {
        if (!message->header.present) w_fail(w, COR_ERR_INVALID);
        w_app_header(w, message);
    } else if (header) {
        w_str(w, "<Envelope xmlns=\"urn:swift:xsd:envelope\">");
        w_app_header(w, message);
        w_document(w, message);
        w_str(w, "</Envelope>");
    } else {
        w_document(w, message);
    }
    w_str(w, "\n");
}

static cor_error w_message_check(const cor_iso_message *message)
{
    if (message->type <= COR_ISO_MSG_NONE || message->type >= COR_ISO_MSG_TYPE_COUNT) {
        return COR_ERR_INVALID;
    }
    if (message->tx_count > COR_ISO_TX_COUNT_MAX) return COR_ERR_INVALID;
    return COR_OK;
}

cor_error cor_iso_serialize(const cor_iso_message *message, unsigned flags, char **xml_out,
                            size_t *xml_size_out)
{
    COR_ASSERT(message != NULL);
    COR_ASSERT(xml_out != NULL && xml_size_out != NULL);
    *xml_out = NULL;
    *xml_size_out = 0;
    cor_error rc = w_message_check(message);
    if (rc != COR_OK) return rc;
    writer w = {.capacity = 4096u};
    w.data = cor_alloc(w.capacity);
    if (w.data == NULL) return COR_ERR_NOMEM;
    w_message(&w, message, flags);
    if (w.error != COR_OK) {
        cor_free(w.data);
        return w.error;
    }
    *xml_out = w.data;
    *xml_size_out = w.size;
    return COR_OK;
}

cor_error cor_iso_serialize_to(const cor_iso_message *message, unsigned flags, char *out,
                               size_t out_capacity, size_t *xml_size_out)
{
    COR_ASSERT(message != NULL && xml_size_out != NULL);
    COR_ASSERT(out != NULL || out_capacity == 0);
    *xml_size_out = 0;
    cor_error rc = w_message_check(message);
    if (rc != COR_OK) return rc;
    if (out_capacity == 0) return COR_ERR_LIMIT;
    if (out_capacity > COR_ISO_DOCUMENT_SIZE_BYTES_MAX + 1u) {
        out_capacity = COR_ISO_DOCUMENT_SIZE_BYTES_MAX + 1u;
    }
    writer w = {.data = out, .capacity = out_capacity, .fixed = true};
    w_message(&w, message, flags);
    if (w.error != COR_OK) return w.error;
    *xml_size_out = w.size;
    return COR_OK;
}
