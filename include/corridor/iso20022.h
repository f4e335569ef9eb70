/*
 * corridor: ISO 20022 message codec (pacs, camt and the business application header).
 *
 * Reads a hostile-safe XML document (streaming libxml2 SAX2, no network, no DTD, no
 * entities, no XInclude, every size bounded), finds the AppHdr (head.001.001.02) and the
 * Document by namespace inside any wrapper, validates them (structure of the parts we model,
 * BIC, IBAN, LEI, UETR, ISO 4217 currencies with their minor units, exact decimal amounts,
 * dates, NbOfTxs/CtrlSum, AppHdr MsgDefIdr against the Document namespace) and maps them to
 * the plain C structs below. The same structs serialize back to XML that validates against
 * the official schema. Supported message definitions:
 *
 *   pacs.008.001.08  pacs.002.001.10  pacs.004.001.09  pacs.009.001.08  pacs.028.001.03
 *   camt.056.001.08  camt.029.001.09  camt.053.001.08  camt.054.001.08  head.001.001.02
 *   and pacs.004.001.10 (FedNow's return; the fields modelled are the same as in .09)
 *
 * Any other version is refused with a finding that names it (reason FF01).
 *
 * Strings: every `const char *` field is NUL-terminated UTF-8, or NULL when the element is
 * absent. In a parsed message the strings live in memory owned by the message and stay valid
 * until the next cor_iso_parse() into it or cor_iso_message_release(). In a message a caller
 * builds for serialization they are borrowed from the caller for the duration of the call.
 * Amounts are integer minor units of their currency (EUR 12.34 is 1234, JPY 500 is 500);
 * nothing here uses floating point.
 *
 * Threads: a parser is used by one thread at a time; separate parsers are independent. Open
 * the first parser before starting threads (it runs libxml2's one-time global setup).
 */
#ifndef CORRIDOR_ISO20022_H
#define CORRIDOR_ISO20022_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/u128.h"

/* ------------------------------------------------------------------------------------------ */
/* Message kinds                                                                              */

typedef enum cor_iso_msg_type {
    COR_ISO_MSG_NONE = 0,
    COR_ISO_MSG_PACS_008,     /* FIToFICstmrCdtTrf: customer credit transfer        */
    COR_ISO_MSG_PACS_002,     /* FIToFIPmtStsRpt: payment status report              */
    COR_ISO_MSG_PACS_004,     /* PmtRtr: payment return                              */
    COR_ISO_MSG_PACS_009,     /* FICdtTrf: financial institution credit transfer     */
    COR_ISO_MSG_PACS_028,     /* FIToFIPmtStsReq: payment status request             */
    COR_ISO_MSG_CAMT_056,     /* FIToFIPmtCxlReq: cancellation request               */
    COR_ISO_MSG_CAMT_029,     /* RsltnOfInvstgtn: resolution of investigation        */
    COR_ISO_MSG_CAMT_053,     /* BkToCstmrStmt: statement                            */
    COR_ISO_MSG_CAMT_054,     /* BkToCstmrDbtCdtNtfctn: debit/credit notification    */
    COR_ISO_MSG_PACS_004_V10, /* PmtRtr in pacs.004.001.10 (FedNow): same fields as .09 */
    COR_ISO_MSG_HEAD_001,     /* AppHdr alone, without a Document                    */
    COR_ISO_MSG_TYPE_COUNT
} cor_iso_msg_type;

/* "pacs.008.001.08" etc.; "" for COR_ISO_MSG_NONE and out-of-range values. */
const char *cor_iso_msg_type_name(cor_iso_msg_type type);

/* ------------------------------------------------------------------------------------------ */
/* Building blocks                                                                            */

typedef struct cor_iso_amount {
    cor_u128 amount_minor; /* integer minor units of currency */
    char currency[4];      /* ISO 4217 alphabetic code; "" when the amount is absent */
} cor_iso_amount;

/* BranchAndFinancialInstitutionIdentification6 (the parts we model). */
typedef struct cor_iso_agent {
    const char *bic;             /* FinInstnId/BICFI */
    const char *clearing_system; /* FinInstnId/ClrSysMmbId/ClrSysId/Cd, e.g. "USABA" */
    const char *member_id;       /* FinInstnId/ClrSysMmbId/MmbId */
    const char *lei;             /* FinInstnId/LEI */
    const char *name;            /* FinInstnId/Nm */
} cor_iso_agent;

/*
 * PartyIdentification135 (pacs.008 Dbtr/Cdtr): name, PstlAdr/Ctry, Id/OrgId/AnyBIC and LEI.
 * In pacs.009 the debtor and creditor are institutions: bic is FinInstnId/BICFI, lei is
 * FinInstnId/LEI, name is FinInstnId/Nm and country FinInstnId/PstlAdr/Ctry.
 */
typedef struct cor_iso_party {
    const char *name;    /* Nm, Max140Text */
    const char *country; /* PstlAdr/Ctry, two capital letters */
    const char *bic;     /* Id/OrgId/AnyBIC */
    const char *lei;     /* Id/OrgId/LEI */
} cor_iso_party;

/* CashAccount38: exactly one of iban / other_id when the account is present. */
typedef struct cor_iso_account {
    const char *iban;     /* Id/IBAN, checked with mod-97 */
    const char *other_id; /* Id/Othr/Id, Max34Text */
    const char *currency; /* Ccy, optional */
} cor_iso_account;

/* head.001.001.02 business application header. */
typedef struct cor_iso_app_header {
    bool present;                 /* false: the input carried no AppHdr */
    cor_iso_agent from;           /* Fr/FIId */
    cor_iso_agent to;             /* To/FIId */
    const char *business_msg_id;  /* BizMsgIdr */
    const char *msg_def_id;       /* MsgDefIdr; must name the Document's definition (when
                                   * serializing, NULL means "fill in from type") */
    const char *business_service; /* BizSvc, optional */
    const char *created;          /* CreDt (ISODateTime) */
} cor_iso_app_header;

/*
 * Group-level data. For pacs messages this is GrpHdr; for camt.056 and camt.029 it is
 * Assgnmt (msg_id = Assgnmt/Id, created = Assgnmt/CreDtTm, instructing_agent = Assgnr/Agt,
 * instructed_agent = Assgne/Agt); camt.053/054 use msg_id and created only.
 */
typedef struct cor_iso_group {
    const char *msg_id;              /* MsgId, Max35Text, required */
    const char *created;             /* CreDtTm, ISODateTime, required */
    const char *tx_count_text;       /* NbOfTxs as written (pacs.008/004/009), else NULL */
    const char *control_sum;         /* CtrlSum as written (decimal), optional */
    cor_iso_amount total_settlement; /* TtlIntrBkSttlmAmt / TtlRtrdIntrBkSttlmAmt, optional */
    const char *settlement_date;     /* IntrBkSttlmDt, optional */
    const char *settlement_method;   /* SttlmInf/SttlmMtd: INDA INGA COVE CLRG */
    const char *clearing_system;     /* SttlmInf/ClrSys/Cd, optional */
    cor_iso_agent instructing_agent; /* InstgAgt, optional */
    cor_iso_agent instructed_agent;  /* InstdAgt, optional */
    /* Original group (pacs.002 OrgnlGrpInfAndSts, pacs.028 OrgnlGrpInf, camt.029 Sts). */
    const char *original_msg_id;   /* OrgnlMsgId */
    const char *original_msg_name; /* OrgnlMsgNmId, e.g. "pacs.008.001.08" */
    const char *group_status;      /* pacs.002 GrpSts; camt.029 Sts/Conf */
    const char *group_reason;      /* pacs.002 group StsRsnInf/Rsn/Cd */
} cor_iso_group;

/* One CdtTrfTxInf of pacs.008 or pacs.009. */
typedef struct cor_iso_credit_transfer {
    const char *instruction_id;       /* PmtId/InstrId, optional */
    const char *end_to_end_id;        /* PmtId/EndToEndId, required */
    const char *transaction_id;       /* PmtId/TxId, optional */
    const char *uetr;                 /* PmtId/UETR, UUID v4 lowercase, optional */
    cor_iso_amount settlement_amount; /* IntrBkSttlmAmt, required, > 0 */
    const char *settlement_date;      /* IntrBkSttlmDt, optional */
    cor_iso_amount instructed_amount; /* InstdAmt, pacs.008 only (must be unset for .009) */
    const char *exchange_rate;        /* XchgRate as written (BaseOneRate: a decimal of at
                                       * most 11 digits, 10 after the point), pacs.008 only */
    const char *charge_bearer;        /* ChrgBr: DEBT CRED SHAR SLEV; pacs.008 requires it,
                                       * pacs.009 has none (must be NULL) */
    cor_iso_agent instructing_agent;  /* InstgAgt, optional */
    cor_iso_agent instructed_agent;   /* InstdAgt, optional */
    cor_iso_party debtor;             /* Dbtr, required */
    cor_iso_account debtor_account;   /* DbtrAcct, optional */
    cor_iso_agent debtor_agent;       /* DbtrAgt, required in pacs.008 */
    cor_iso_agent creditor_agent;     /* CdtrAgt, required in pacs.008 */
    cor_iso_party creditor;           /* Cdtr, required */
    cor_iso_account creditor_account; /* CdtrAcct, optional */

    /* InstrInf of the first InstrForNxtAgt that has one, Max140Text, optional (written as one
     * InstrForNxtAgt; its Cd is not modelled). corridor's node reads "/QUOTE/<id>" here. */
    const char *instruction_for_next_agent;

    const char *purpose;       /* Purp/Cd, optional */
    const char *remittance;    /* RmtInf/Ustrd (first), Max140Text, optional */
    const char *reject_reason; /* result: NULL accepted, else the ISO reason code */
} cor_iso_credit_transfer;

/*
 * One transaction of the "about another payment" messages. Which fields each uses:
 *   pacs.002 TxInfAndSts: id=StsId, original ids, status=TxSts, reason=StsRsnInf/Rsn/Cd,
 *            additional_info=StsRsnInf/AddtlInf, agents.
 *   pacs.004 (.09 and .10) TxInf: id=RtrId, original ids, amount=RtrdIntrBkSttlmAmt (required),
 *            settlement_date=IntrBkSttlmDt, charge_bearer, reason=RtrRsnInf/Rsn/Cd (required
 *            by corridor), additional_info, agents.
 *   pacs.028 TxInf: id=StsReqId, original ids, agents.
 *   camt.056 Undrlyg/TxInf: id=CxlId, original_msg_id/name=OrgnlGrpInf, original ids,
 *            amount=OrgnlIntrBkSttlmAmt, settlement_date=OrgnlIntrBkSttlmDt,
 *            reason=CxlRsnInf/Rsn/Cd (required by corridor), additional_info.
 *   camt.029 CxlDtls/TxInfAndSts: id=CxlStsId, original_msg_id/name=OrgnlGrpInf, original
 *            ids, status=TxCxlSts, reason=CxlStsRsnInf/Rsn/Cd (required when RJCR).
 */
typedef struct cor_iso_related_tx {
    const char *id;
    const char *original_msg_id;
    const char *original_msg_name;
    const char *original_instruction_id;
    const char *original_end_to_end_id;
    const char *original_transaction_id;
    const char *original_uetr;
    const char *status;
    const char *reason;
    const char *additional_info; /* Max105Text */
    cor_iso_amount amount;
    const char *settlement_date;
    const char *charge_bearer;
    cor_iso_agent instructing_agent;
    cor_iso_agent instructed_agent;
    /* pacs.004 and camt.056 only: OrgnlTxRef/Dbtr/Pty/Nm and OrgnlTxRef/Cdtr/Pty/Nm, the
     * end customers of the payment returned or to cancel (Max140Text); NULL when absent. */
    const char *debtor_name;
    const char *creditor_name;
    const char *reject_reason; /* result: NULL accepted, else the ISO reason code */
} cor_iso_related_tx;

/* camt.053 Stmt / camt.054 Ntfctn (one per message). */
typedef struct cor_iso_balance {
    const char *type;      /* Tp/CdOrPrtry/Cd: OPBD CLBD ITBD ... */
    cor_iso_amount amount; /* Amt */
    bool credit;           /* CdtDbtInd CRDT (true) or DBIT */
    const char *date;      /* Dt/Dt (YYYY-MM-DD) or Dt/DtTm */
} cor_iso_balance;

#define COR_ISO_BALANCES_MAX 8u

typedef struct cor_iso_report {
    const char *id;                 /* Id, required */
    const char *created;            /* CreDtTm, optional */
    cor_iso_account account;        /* Acct/Id (+ Ccy) */
    const char *account_owner;      /* Acct/Ownr/Nm */
    cor_iso_agent account_servicer; /* Acct/Svcr */
    uint32_t balance_count;         /* camt.053 needs >= 1; camt.054 none */
    cor_iso_balance balances[COR_ISO_BALANCES_MAX];
} cor_iso_report;

/* One Ntry of a statement or notification. */
typedef struct cor_iso_entry {
    const char *reference;     /* NtryRef, optional */
    cor_iso_amount amount;     /* Amt, required */
    bool credit;               /* CdtDbtInd */
    const char *status;        /* Sts/Cd: BOOK PDNG INFO FUTR */
    const char *booking_date;  /* BookgDt/Dt or BookgDt/DtTm */
    const char *value_date;    /* ValDt/Dt or ValDt/DtTm */
    const char *servicer_ref;  /* AcctSvcrRef */
    const char *domain;        /* BkTxCd/Domn/Cd, optional */
    const char *family;        /* BkTxCd/Domn/Fmly/Cd */
    const char *subfamily;     /* BkTxCd/Domn/Fmly/SubFmlyCd */
    const char *proprietary;   /* BkTxCd/Prtry/Cd */
    const char *end_to_end_id; /* NtryDtls/TxDtls/Refs/EndToEndId (first TxDtls) */
    const char *uetr;          /* NtryDtls/TxDtls/Refs/UETR */
    const char *remittance;    /* NtryDtls/TxDtls/RmtInf/Ustrd */
    const char *reject_reason; /* result: NULL accepted, else the ISO reason code */
} cor_iso_entry;

/* ------------------------------------------------------------------------------------------ */
/* Findings                                                                                   */

#define COR_ISO_FINDINGS_MAX      16u
#define COR_ISO_FINDING_TEXT_SIZE 160u
#define COR_ISO_FINDING_PATH_SIZE 96u

typedef struct cor_iso_finding {
    int32_t tx_index;                     /* -1: message level; else index into the tx array */
    char reason[5];                       /* ISO ExternalStatusReason1Code, e.g. "FF01" */
    char path[COR_ISO_FINDING_PATH_SIZE]; /* element path, e.g. "GrpHdr/CreDtTm" */
    char text[COR_ISO_FINDING_TEXT_SIZE]; /* lowercase, e.g. "required element missing" */
} cor_iso_finding;

/* ------------------------------------------------------------------------------------------ */
/* The message                                                                                */

/*
 * Fields are public so that callers can read a parsed message and fill one to serialize.
 * The members after `private:` belong to the codec. Exactly one of transfers / related /
 * entries is used, by type: pacs.008/009 transfers; pacs.002/004/028 and camt.056/029
 * related; camt.053/054 entries (tx_count counts whichever is used).
 */
typedef struct cor_iso_message {
    cor_iso_msg_type type;
    cor_iso_app_header header;
    cor_iso_group group;
    cor_iso_report report; /* camt.053 / camt.054 only */
    uint32_t tx_count;
    cor_iso_credit_transfer *transfers; /* tx_count elements (pacs.008, pacs.009) */
    cor_iso_related_tx *related;        /* tx_count elements */
    cor_iso_entry *entries;             /* tx_count elements (camt.053, camt.054) */

    /* Read-only results of cor_iso_parse(). */
    uint32_t rejected_tx_count; /* transactions with reject_reason set */
    uint32_t finding_count;     /* findings recorded (at most COR_ISO_FINDINGS_MAX) */
    uint32_t finding_total;     /* findings seen, including those not recorded */
    cor_iso_finding findings[COR_ISO_FINDINGS_MAX];

    /* private: storage owned by the codec. */
    char *text_arena;
    size_t text_arena_size_bytes;
    size_t text_arena_used_bytes;
    uint32_t tx_capacity;
} cor_iso_message;

/* Zeroes message; release with cor_iso_message_release. Needs no allocation. */
void cor_iso_message_init(cor_iso_message *message);

/* Frees the storage a parse attached; the message is then as after init. NULL is a no-op.
 * Call only on messages the codec filled (not on caller-built ones whose arrays the caller
 * owns; for those just drop the struct). */
void cor_iso_message_release(cor_iso_message *message);

/* ------------------------------------------------------------------------------------------ */
/* Parser                                                                                     */

typedef struct cor_iso_parser cor_iso_parser; /* opaque; holds the reusable libxml2 context */

/* Every field 0 means the default from src/iso20022/iso_limits.h; larger values are capped
 * at those defaults' hard maxima. */
typedef struct cor_iso_parser_options {
    uint32_t document_size_bytes_max; /* whole input, bytes */
    uint32_t depth_max;               /* element nesting */
    uint32_t element_count_max;       /* elements + attributes kept */
    uint32_t text_size_bytes_max;     /* one text node or attribute value, bytes */
    uint32_t tx_count_max;            /* transactions / entries in one message */
} cor_iso_parser_options;

/*
 * Success: *parser_out must later go to cor_iso_parser_close().
 * Errors: COR_ERR_NOMEM. On failure *parser_out is NULL.
 */
cor_error cor_iso_parser_open(const cor_iso_parser_options *options, cor_iso_parser **parser_out);

void cor_iso_parser_close(cor_iso_parser *parser); /* NULL is a no-op */

/*
 * Parses and validates one document (xml need not be NUL-terminated; borrowed for the call).
 * message must have been initialised; what it held before is overwritten (its storage is
 * reused).
 *
 * Returns:
 *   COR_OK               the message was read and mapped. Per-transaction problems are in
 *                        the transactions' reject_reason and in findings (tx_index >= 0):
 *                        the message is entirely valid iff finding_total == 0.
 *   COR_ERR_PARSE        not well-formed XML, or hostile constructs (DTD, entity reference,
 *                        XInclude): findings[0] says which (reason FF01).
 *   COR_ERR_LIMIT        a size, depth, count or length limit was exceeded (FF01).
 *   COR_ERR_VERSION      an ISO 20022 part of a version or kind we do not support (FF01).
 *   COR_ERR_XML_INVALID  a message-level rule failed (e.g. GrpHdr/CreDtTm missing, NbOfTxs
 *                        inconsistent, AppHdr MsgDefIdr mismatch): no transaction may be
 *                        applied; findings hold the reasons.
 *   COR_ERR_NOMEM        allocation failed.
 * On any error finding_count >= 1 except COR_ERR_NOMEM.
 */
cor_error cor_iso_parse(cor_iso_parser *parser, const char *xml, size_t xml_size,
                        cor_iso_message *message);

/* ------------------------------------------------------------------------------------------ */
/* Serializer                                                                                 */

typedef enum cor_iso_serialize_flags {
    /* With a header present, wrap AppHdr and Document in
     * <Envelope xmlns="urn:swift:xsd:envelope">; without this flag only the Document is
     * written even when header.present is true. */
    COR_ISO_SERIALIZE_WITH_HEADER = 1u << 0,
} cor_iso_serialize_flags;

/*
 * Writes message as XML (UTF-8, with an XML declaration). message->type must be one of the
 * supported kinds; COR_ISO_MSG_HEAD_001 writes the AppHdr alone.
 * Success: *xml_out (NUL-terminated, *xml_size_out bytes without the NUL) is owned by the
 * caller and freed with cor_iso_free().
 * Errors: COR_ERR_INVALID (missing required field, type NONE, a value that would not be
 * schema-valid such as a bad currency or an amount with no representation), COR_ERR_LIMIT
 * (output larger than the document size maximum), COR_ERR_NOMEM. On failure *xml_out is NULL.
 */
cor_error cor_iso_serialize(const cor_iso_message *message, unsigned flags, char **xml_out,
                            size_t *xml_size_out);

void cor_iso_free(void *pointer); /* frees what cor_iso_serialize returned; NULL is a no-op */

/*
 * cor_iso_serialize into the caller's buffer (no allocation): the same bytes, NUL-terminated,
 * *xml_size_out bytes without the NUL. Errors as cor_iso_serialize, and COR_ERR_LIMIT when
 * the document and its NUL do not fit out_capacity. On failure out holds a partial document
 * and *xml_size_out is 0.
 */
cor_error cor_iso_serialize_to(const cor_iso_message *message, unsigned flags, char *out,
                               size_t out_capacity, size_t *xml_size_out);

/* ------------------------------------------------------------------------------------------ */
/* Building answers (for the node)                                                            */

/*
 * Fills report as the pacs.002.001.10 answering request (a parsed pacs.008 or pacs.009):
 * one TxInfAndSts per transaction, in order, into related (caller-owned, at least
 * request->tx_count elements). Each carries the transaction's InstrId, EndToEndId, TxId and
 * UETR as originals, status "RJCT" with reason = its reject_reason when the codec rejected
 * it, else accepted_status (e.g. "ACSC" once settled, "ACSP" while pending). The group
 * names the original message and gets cor_iso_group_status_of(). With a request AppHdr, the
 * report gets one addressed back (Fr and To swapped). The caller may then change a
 * transaction (e.g. RJCT with AM04 when the ledger refused it) and recompute
 * group.group_status with cor_iso_group_status_of().
 * Strings are borrowed from request and from msg_id / created, which must outlive report.
 * Errors: COR_ERR_INVALID when request is not a pacs.008/009, accepted_status is not an
 * ExternalPaymentTransactionStatus1Code, or msg_id / created is NULL. report is left
 * initialised (cor_iso_message_init) on error.
 */
cor_error cor_iso_status_report_init(const cor_iso_message *request, const char *msg_id,
                                     const char *created, const char *accepted_status,
                                     cor_iso_related_tx *related, cor_iso_message *report);

/* GrpSts for statuses: the common status when all agree and it is a group status code,
 * "PART" when some but not all are RJCT, NULL otherwise (GrpSts is then omitted). */
const char *cor_iso_group_status_of(const cor_iso_related_tx *related, uint32_t count);

/*
 * Whether a camt.053 adds up: its OPBD balance plus booked entries (Sts BOOK; credits add,
 * debits subtract) equals its CLBD balance, all in one currency. false when either balance
 * is missing, currencies differ, or the sum does not match.
 */
bool cor_iso_statement_balanced(const cor_iso_message *statement);

/* ------------------------------------------------------------------------------------------ */
/* Field checks (pure; usable by other modules, e.g. the node validating JSON input)          */

bool cor_iso_bic_valid(const char *text);      /* 8 or 11: 4 letters bank, 2 country, 2+3 alnum */
bool cor_iso_iban_valid(const char *text);     /* country, check digits, mod-97 == 1 */
bool cor_iso_lei_valid(const char *text);      /* 18 alnum + 2 check digits, mod-97 == 1 */
bool cor_iso_uetr_valid(const char *text);     /* lowercase UUID version 4, variant 10xx */
bool cor_iso_date_valid(const char *text);     /* YYYY-MM-DD, real calendar day, year >= 1900 */
bool cor_iso_datetime_valid(const char *text); /* YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm] */

/* ISO 4217 minor-unit exponent of code (0..4); -1 when code is not an active currency. */
int cor_iso_currency_exponent(const char *code);

/*
 * Parses an XML decimal amount ("1250.5", "0.01") exactly into minor units of currency.
 * Fails (false) on signs, exponents, spaces, more than 18 digits, more fraction digits
 * than the currency has (unless the extra ones are zeros), or an unknown currency.
 */
bool cor_iso_amount_parse(const char *text, size_t text_size, const char *currency,
                          cor_u128 *amount_minor_out);

/* Writes amount_minor in currency as an XML decimal ("12.34"); returns the length, or 0 when
 * the currency is unknown or the buffer (at least 48 bytes) is too small. */
size_t cor_iso_amount_format(cor_u128 amount_minor, const char *currency, char *buffer,
                             size_t buffer_size);

/* Code tables generated from the ISO external code sets. */
bool cor_iso_status_reason_known(const char *code);        /* ExternalStatusReason1Code */
bool cor_iso_tx_status_known(const char *code);            /* ExternalPaymentTransactionStatus1 */
bool cor_iso_group_status_known(const char *code);         /* ExternalPaymentGroupStatus1Code */
bool cor_iso_return_reason_known(const char *code);        /* ExternalReturnReason1Code */
bool cor_iso_cancellation_reason_known(const char *code);  /* ExternalCancellationReason1Code */
bool cor_iso_investigation_status_known(const char *code); /* ...InvestigationExecution... */

#endif
