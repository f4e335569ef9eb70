/*
 * Building answers from parsed requests: the pacs.002 a node sends back for a pacs.008 or
 * pacs.009, the group status that summarises it, and the balance check of a camt.053. No
 * allocation: the answer borrows the request's strings and the caller's array.
 */
#include <string.h>

#include "common/assert.h"
#include "iso20022/iso_internal.h"

const char *cor_iso_group_status_of(const cor_iso_related_tx *related, uint32_t count)
{
    if (count == 0) return NULL;
    uint32_t rejected = 0;
    bool uniform = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *status = related[i].status;
        if (status != NULL && strcmp(status, "RJCT") == 0) rejected++;
        if (status == NULL || related[0].status == NULL || strcmp(status, related[0].status)) {
            uniform = false;
        }
    }
    if (uniform) return cor_iso_group_status_known(related[0].status) ? related[0].status : NULL;
    return rejected > 0 ? "PART" : NULL;
}

cor_error cor_iso_status_report_init(const cor_iso_message *request, const char *msg_id,
                                     const char *created, const char *accepted_status,
                                     cor_iso_related_tx *related, cor_iso_message *report)
{
    COR_ASSERT(request != NULL && report != NULL);
    COR_ASSERT(related != NULL || request->tx_count == 0);
    cor_iso_message_init(report);
    bool transfers = request->type == COR_ISO_MSG_PACS_008 || request->type == COR_ISO_MSG_PACS_009;
    if (!transfers || msg_id == NULL || created == NULL ||
        !cor_iso_tx_status_known(accepted_status)) {
        return COR_ERR_INVALID;
    }
    report->type = COR_ISO_MSG_PACS_002;
    report->group.msg_id = msg_id;
    report->group.created = created;
    report->group.original_msg_id = request->group.msg_id;
    report->group.original_msg_name = cor_iso_msg_type_name(request->type);
    for (uint32_t i = 0; i < request->tx_count; i++) {
        const cor_iso_credit_transfer *tx = &request->transfers[i];
        related[i] = (cor_iso_related_tx){
            .original_instruction_id = tx->instruction_id,
            .original_end_to_end_id = tx->end_to_end_id,
            .original_transaction_id = tx->transaction_id,
            .original_uetr = tx->uetr,
            .status = tx->reject_reason != NULL ? "RJCT" : accepted_status,
            .reason = tx->reject_reason,
        };
    }
    report->related = related;
    report->tx_count = request->tx_count;
    report->group.group_status = cor_iso_group_status_of(related, request->tx_count);
    if (request->header.present) {
        report->header = (cor_iso_app_header){.present = true,
                                              .from = request->header.to,
                                              .to = request->header.from,
                                              .business_msg_id = msg_id,
                                              .created = created};
    }
    return COR_OK;
}

/* Adds amount to the credit or the debit side. */
static void build_side(const cor_iso_amount *amount, bool credit, cor_u128 *credits,
                       cor_u128 *debits)
{
    if (credit) {
        *credits += amount->amount_minor;
    } else {
        *debits += amount->amount_minor;
    }
}

bool cor_iso_statement_balanced(const cor_iso_message *statement)
{
    COR_ASSERT(statement != NULL);
    const cor_iso_report *report = &statement->report;
    const cor_iso_balance *opening = NULL, *closing = NULL;
    for (uint32_t i = 0; i < report->balance_count && i < COR_ISO_BALANCES_MAX; i++) {
        const char *type = report->balances[i].type;
        if (type != NULL && strcmp(type, "OPBD") == 0) opening = &report->balances[i];
        if (type != NULL && strcmp(type, "CLBD") == 0) closing = &report->balances[i];
    }
    if (opening == NULL || closing == NULL) return false;
    if (strcmp(opening->amount.currency, closing->amount.currency) != 0) return false;
    /* opening + credits - debits == closing, kept unsigned by moving terms across: amounts
     * have at most 18 digits and a message at most COR_ISO_TX_COUNT_MAX entries, so neither
     * side can overflow 128 bits. */
    cor_u128 left = 0, right = 0;
    build_side(&opening->amount, opening->credit, &left, &right);
    build_side(&closing->amount, !closing->credit, &left, &right);
    for (uint32_t i = 0; i < statement->tx_count; i++) {
        const cor_iso_entry *entry = &statement->entries[i];
        if (entry->status == NULL || strcmp(entry->status, "BOOK") != 0) continue;
        if (strcmp(entry->amount.currency, opening->amount.currency) != 0) return false;
        build_side(&entry->amount, entry->credit, &left, &right);
    }
    return left == right;
}
