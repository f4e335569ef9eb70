/*
 * JSON request decoding (see request.h). Each decoder walks the object's keys once, refusing
 * unknown ones, then reads each known field with a typed helper that fills the fault with
 * the field's name on the first problem.
 */
#include "node/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/assert.h"
#include "node/currency.h"

void cor_node_fault_set(cor_node_fault *fault, unsigned http_status, const char *code,
                        const char *field, const char *format, ...)
{
    fault->http_status = http_status;
    fault->code = code;
    snprintf(fault->field, sizeof(fault->field), "%s", field ? field : "");
    va_list args;
    va_start(args, format);
    vsnprintf(fault->message, sizeof(fault->message), format, args);
    va_end(args);
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Depth of the deepest nesting, counting brackets outside strings; linear, no recursion. */
static bool json_depth_ok(const char *body, size_t size)
{
    uint32_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < size; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > COR_NODE_JSON_DEPTH_MAX) return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

bool cor_node_json_parse(const char *body, size_t size, json_t **out, cor_node_fault *fault)
{
    *out = NULL;
    if (size > COR_NODE_BODY_SIZE_BYTES_MAX) {
        cor_node_fault_set(fault, 413, "body_too_large", "", "body exceeds %u bytes",
                           COR_NODE_BODY_SIZE_BYTES_MAX);
        return false;
    }
    if (size == 0) {
        cor_node_fault_set(fault, 400, "invalid_json", "", "empty body");
        return false;
    }
    if (!json_depth_ok(body, size)) {
        cor_node_fault_set(fault, 400, "too_deep", "", "json nests deeper than %u levels",
                           COR_NODE_JSON_DEPTH_MAX);
        return false;
    }
    json_error_t error;
    json_t *json = json_loadb(body, size, JSON_REJECT_DUPLICATES, &error);
    if (json == NULL) {
        cor_node_fault_set(fault, 400, "invalid_json", "", "invalid json at line %d column %d: %s",
                           error.line, error.column, error.text);
        return false;
    }
    *out = json;
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Typed fields                                                                             */
/* ---------------------------------------------------------------------------------------- */

/* Field path "prefix.name" for fault messages. */
static void field_path(char *out, size_t out_size, const char *prefix, const char *name)
{
    if (prefix[0] == '\0') {
        snprintf(out, out_size, "%s", name);
    } else {
        snprintf(out, out_size, "%s.%s", prefix, name);
    }
}

static bool check_fields(json_t *object, const char *prefix, const char *const *known,
                         cor_node_fault *fault)
{
    char path[64];
    if (!json_is_object(object)) {
        cor_node_fault_set(fault, 400, "wrong_type", prefix, "expected a json object");
        return false;
    }
    if (json_object_size(object) > COR_NODE_JSON_OBJECT_FIELDS_MAX) {
        cor_node_fault_set(fault, 400, "too_many_fields", prefix, "object has too many fields");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        bool found = false;
        for (size_t i = 0; known[i] != NULL && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found) {
            field_path(path, sizeof(path), prefix, key);
            cor_node_fault_set(fault, 400, "unknown_field", path, "unknown field");
            return false;
        }
    }
    return true;
}

typedef struct field_ctx {
    json_t *object;
    const char *prefix;
    cor_node_fault *fault;
} field_ctx;

static void field_fault(const field_ctx *f, const char *name, const char *code, const char *message)
{
    char path[64];
    field_path(path, sizeof(path), f->prefix, name);
    cor_node_fault_set(f->fault, 400, code, path, "%s", message);
}

/* The string field name; *present false when absent (and !required). */
static bool field_string(const field_ctx *f, const char *name, bool required, size_t max_length,
                         const char **text_out, size_t *length_out, bool *present)
{
    json_t *value = json_object_get(f->object, name);
    *present = value != NULL;
    *text_out = "";
    *length_out = 0;
    if (value == NULL) {
        if (required) field_fault(f, name, "missing_field", "required field is missing");
        return !required;
    }
    if (!json_is_string(value)) {
        field_fault(f, name, "wrong_type", "expected a string");
        return false;
    }
    size_t length = json_string_length(value);
    const char *text = json_string_value(value);
    if (length > max_length) {
        field_fault(f, name, "string_too_long", "string is too long");
        return false;
    }
    if (memchr(text, '\0', length) != NULL) {
        field_fault(f, name, "invalid_value", "string contains a NUL character");
        return false;
    }
    *text_out = text;
    *length_out = length;
    return true;
}

/* A decimal u128 string; amount fields say "invalid_amount", ids "invalid_id". */
static bool field_u128(const field_ctx *f, const char *name, bool required, bool amount,
                       cor_u128 *out)
{
    const char *text;
    size_t length;
    bool present;
    *out = 0;
    if (!field_string(f, name, required, 64, &text, &length, &present)) {
        if (f->fault->code && strcmp(f->fault->code, "string_too_long") == 0) {
            field_fault(f, name, amount ? "invalid_amount" : "invalid_id",
                        "expected a decimal string below 2^128");
        }
        return false;
    }
    if (!present) return true;
    if (!cor_u128_parse(text, length, out)) {
        field_fault(f, name, amount ? "invalid_amount" : "invalid_id",
                    amount ? "amount must be a decimal string of minor units (digits only, "
                             "below 2^128)"
                           : "expected a decimal string of digits below 2^128");
        return false;
    }
    return true;
}

static bool field_u64(const field_ctx *f, const char *name, bool required, uint64_t *out)
{
    cor_u128 value;
    if (!field_u128(f, name, required, false, &value)) return false;
    if (value > UINT64_MAX) {
        field_fault(f, name, "invalid_id", "value must be below 2^64");
        return false;
    }
    *out = (uint64_t)value;
    return true;
}

/* A JSON integer in [0, max]. */
static bool field_int(const field_ctx *f, const char *name, bool required, uint64_t max,
                      uint64_t *out)
{
    json_t *value = json_object_get(f->object, name);
    *out = 0;
    if (value == NULL) {
        if (required) field_fault(f, name, "missing_field", "required field is missing");
        return !required;
    }
    if (!json_is_integer(value)) {
        field_fault(f, name, "wrong_type", "expected an integer");
        return false;
    }
    json_int_t number = json_integer_value(value);
    if (number < 0 || (uint64_t)number > max) {
        field_fault(f, name, "invalid_value", "integer out of range");
        return false;
    }
    *out = (uint64_t)number;
    return true;
}

/* A participant id: a decimal string 1 .. COR_NODE_PARTICIPANTS_MAX. */
static bool field_participant(const field_ctx *f, const char *name, uint32_t *out)
{
    cor_u128 value;
    if (!field_u128(f, name, true, false, &value)) return false;
    if (value == 0 || value > COR_NODE_PARTICIPANTS_MAX) {
        field_fault(f, name, "invalid_id", "not a participant id");
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

static bool field_currency(const field_ctx *f, uint32_t currency)
{
    const char *text;
    size_t length;
    bool present;
    if (!field_string(f, "currency", true, 8, &text, &length, &present)) return false;
    const cor_currency *known = cor_currency_by_alpha(text, length);
    if (known == NULL) {
        field_fault(f, "currency", "unknown_currency", "not an iso 4217 currency code");
        return false;
    }
    if (known->numeric != currency) {
        field_fault(f, "currency", "currency_mismatch", "this node settles another currency");
        return false;
    }
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* UETR: a UUID version 4 in its 36-character form (ISO 20022 UUIDv4Identifier). */
bool cor_node_uetr_parse(const char *text, size_t length, uint8_t out[16])
{
    if (length != 36) return false;
    size_t byte = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return false;
            i++;
            continue;
        }
        int high = hex_value(text[i]);
        int low = hex_value(text[i + 1]);
        if (high < 0 || low < 0) return false;
        out[byte++] = (uint8_t)(high * 16 + low);
        i += 2;
    }
    return (out[6] >> 4) == 4 && (out[8] >> 6) == 2;
}

void cor_node_uetr_format(const uint8_t uetr[16], char out[37])
{
    static const char digits[] = "0123456789abcdef";
    size_t at = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[at++] = '-';
        out[at++] = digits[uetr[i] >> 4];
        out[at++] = digits[uetr[i] & 15];
    }
    out[at] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Participants and funding                                                                 */
/* ---------------------------------------------------------------------------------------- */

static bool bic_valid(const char *bic, size_t length)
{
    if (length != 8 && length != 11) return false;
    for (size_t i = 0; i < length; i++) {
        char c = bic[i];
        bool letter = c >= 'A' && c <= 'Z';
        bool digit = c >= '0' && c <= '9';
        if (i < 6 ? !letter : !(letter || digit)) return false;
    }
    return true;
}

static bool role_parse(const char *text, uint8_t *out)
{
    if (strcmp(text, "bank") == 0)
        *out = COR_NODE_ROLE_BANK;
    else if (strcmp(text, "fx_provider") == 0)
        *out = COR_NODE_ROLE_FX_PROVIDER;
    else if (strcmp(text, "central_bank") == 0)
        *out = COR_NODE_ROLE_CENTRAL_BANK;
    else
        return false;
    return true;
}

bool cor_node_decode_participant_create(json_t *json, cor_node_cmd_participant_create *out,
                                        cor_node_fault *fault)
{
    static const char *const known[] = {"name", "bic", "role", "debit_cap", NULL};
    memset(out, 0, sizeof(*out));
    if (!check_fields(json, "", known, fault)) return false;
    field_ctx f = {json, "", fault};
    const char *name, *bic, *role;
    size_t name_length, bic_length, role_length;
    bool present;
    if (!field_string(&f, "name", true, COR_NODE_NAME_LENGTH_MAX, &name, &name_length, &present) ||
        !field_string(&f, "bic", true, 16, &bic, &bic_length, &present) ||
        !field_string(&f, "role", true, 16, &role, &role_length, &present) ||
        !field_u128(&f, "debit_cap", false, true, &out->debit_cap)) {
        return false;
    }
    if (name_length == 0) {
        field_fault(&f, "name", "invalid_value", "name must not be empty");
        return false;
    }
    if (!bic_valid(bic, bic_length)) {
        field_fault(&f, "bic", "invalid_value", "bic must be 8 or 11 characters (AAAABBCC[DDD])");
        return false;
    }
    if (!role_parse(role, &out->role)) {
        field_fault(&f, "role", "invalid_value", "role must be bank, fx_provider or central_bank");
        return false;
    }
    out->name_length = (uint8_t)name_length;
    out->bic_length = (uint8_t)bic_length;
    memcpy(out->name, name, name_length);
    memcpy(out->bic, bic, bic_length);
    return true;
}

bool cor_node_decode_participant_update(json_t *json, uint32_t *status_out, bool *has_cap_out,
                                        cor_u128 *cap_out, cor_node_fault *fault)
{
    static const char *const known[] = {"status", "debit_cap", NULL};
    *status_out = 0;
    *has_cap_out = false;
    *cap_out = 0;
    if (!check_fields(json, "", known, fault)) return false;
    field_ctx f = {json, "", fault};
    const char *status;
    size_t length;
    bool present;
    if (!field_string(&f, "status", false, 16, &status, &length, &present)) return false;
    if (present) {
        if (strcmp(status, "active") == 0) {
            *status_out = COR_NODE_PARTICIPANT_ACTIVE;
        } else if (strcmp(status, "suspended") == 0) {
            *status_out = COR_NODE_PARTICIPANT_SUSPENDED;
        } else {
            field_fault(&f, "status", "invalid_value", "status must be active or suspended");
            return false;
        }
    }
    *has_cap_out = json_object_get(json, "debit_cap") != NULL;
    if (!field_u128(&f, "debit_cap", false, true, cap_out)) return false;
    if (!present && !*has_cap_out) {
        cor_node_fault_set(fault, 400, "missing_field", "status", "give status or debit_cap");
        return false;
    }
    return true;
}

bool cor_node_decode_funding(json_t *json, uint32_t currency, cor_node_cmd_funding *out,
                             cor_node_fault *fault)
{
    static const char *const known[] = {"funding_id", "direction", "amount", "currency", NULL};
    memset(out, 0, sizeof(*out));
    if (!check_fields(json, "", known, fault)) return false;
    field_ctx f = {json, "", fault};
    const char *direction;
    size_t length;
    bool present;
    if (!field_u64(&f, "funding_id", true, &out->funding_id) ||
        !field_string(&f, "direction", true, 16, &direction, &length, &present) ||
        !field_u128(&f, "amount", true, true, &out->amount) || !field_currency(&f, currency)) {
        return false;
    }
    if (out->funding_id == 0) {
        field_fault(&f, "funding_id", "invalid_id", "funding_id must not be 0");
        return false;
    }
    if (strcmp(direction, "credit") == 0) {
        out->direction = COR_NODE_FUNDING_CREDIT;
    } else if (strcmp(direction, "debit") == 0) {
        out->direction = COR_NODE_FUNDING_DEBIT;
    } else {
        field_fault(&f, "direction", "invalid_value", "direction must be credit or debit");
        return false;
    }
    if (out->amount == 0) {
        field_fault(&f, "amount", "invalid_amount", "amount must be positive");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Payments                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static bool decode_payment(json_t *json, const char *prefix, uint32_t currency,
                           cor_node_payment_in *out, cor_node_fault *fault)
{
    static const char *const known[] = {"payment_id",    "creditor", "amount",          "currency",
                                        "end_to_end_id", "uetr",     "remittance_info", NULL};
    memset(out, 0, sizeof(*out));
    if (!check_fields(json, prefix, known, fault)) return false;
    field_ctx f = {json, prefix, fault};
    const char *e2e, *uetr, *remittance;
    size_t e2e_length, uetr_length, remittance_length;
    bool present, uetr_present;
    if (!field_u128(&f, "payment_id", true, false, &out->payment_id) ||
        !field_participant(&f, "creditor", &out->creditor) ||
        !field_u128(&f, "amount", true, true, &out->amount) || !field_currency(&f, currency) ||
        !field_string(&f, "end_to_end_id", false, COR_NODE_E2E_LENGTH_MAX, &e2e, &e2e_length,
                      &present) ||
        !field_string(&f, "uetr", false, 36, &uetr, &uetr_length, &uetr_present) ||
        !field_string(&f, "remittance_info", false, COR_NODE_REMITTANCE_LENGTH_MAX, &remittance,
                      &remittance_length, &present)) {
        return false;
    }
    if (out->payment_id == 0) {
        field_fault(&f, "payment_id", "invalid_id", "payment_id must not be 0");
        return false;
    }
    if (out->amount == 0) {
        field_fault(&f, "amount", "invalid_amount", "amount must be positive");
        return false;
    }
    if (uetr_present) {
        if (!cor_node_uetr_parse(uetr, uetr_length, out->uetr)) {
            field_fault(&f, "uetr", "invalid_value", "uetr must be a version 4 uuid");
            return false;
        }
        out->has_uetr = 1;
    }
    out->e2e_length = (uint8_t)e2e_length;
    out->remittance_length = (uint8_t)remittance_length;
    memcpy(out->e2e, e2e, e2e_length);
    memcpy(out->remittance, remittance, remittance_length);
    return true;
}

/* Checks the top-level array form shared by payments and ledger batches. */
static bool array_check(json_t *json, uint32_t out_max, cor_node_fault *fault)
{
    size_t count = json_array_size(json);
    if (count == 0) {
        cor_node_fault_set(fault, 400, "invalid_value", "", "array must not be empty");
        return false;
    }
    if (count > out_max) {
        cor_node_fault_set(fault, 400, "too_many_events", "", "array holds more than %u items",
                           out_max);
        return false;
    }
    return true;
}

uint32_t cor_node_decode_payments(json_t *json, uint32_t currency, cor_node_payment_in *out,
                                  uint32_t out_max, bool *is_array_out, cor_node_fault *fault)
{
    COR_ASSERT(out_max >= 1);
    *is_array_out = json_is_array(json);
    if (!*is_array_out) {
        return decode_payment(json, "", currency, out, fault) ? 1u : 0u;
    }
    if (!array_check(json, out_max, fault)) return 0;
    size_t count = json_array_size(json);
    for (size_t i = 0; i < count; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "[%zu]", i);
        if (!decode_payment(json_array_get(json, i), prefix, currency, &out[i], fault)) return 0;
    }
    return (uint32_t)count;
}

/* ---------------------------------------------------------------------------------------- */
/* Ledger records                                                                           */
/* ---------------------------------------------------------------------------------------- */

typedef struct flag_name {
    const char *name;
    uint16_t bit;
} flag_name;

static const flag_name account_flags[] = {
    {"linked", COR_ACCOUNT_LINKED},
    {"debits_must_not_exceed_credits", COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
    {"credits_must_not_exceed_debits", COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS},
    {"history", COR_ACCOUNT_HISTORY},
    {"imported", COR_ACCOUNT_IMPORTED},
    {"closed", COR_ACCOUNT_CLOSED},
    {NULL, 0},
};

static const flag_name transfer_flags[] = {
    {"linked", COR_TRANSFER_LINKED},
    {"pending", COR_TRANSFER_PENDING},
    {"post_pending_transfer", COR_TRANSFER_POST_PENDING_TRANSFER},
    {"void_pending_transfer", COR_TRANSFER_VOID_PENDING_TRANSFER},
    {"balancing_debit", COR_TRANSFER_BALANCING_DEBIT},
    {"balancing_credit", COR_TRANSFER_BALANCING_CREDIT},
    {"closing_debit", COR_TRANSFER_CLOSING_DEBIT},
    {"closing_credit", COR_TRANSFER_CLOSING_CREDIT},
    {"imported", COR_TRANSFER_IMPORTED},
    {NULL, 0},
};

/* "flags": an array of flag names. */
static bool field_flags(const field_ctx *f, const flag_name *names, uint16_t *out)
{
    json_t *value = json_object_get(f->object, "flags");
    *out = 0;
    if (value == NULL) return true;
    if (!json_is_array(value) || json_array_size(value) > 16) {
        field_fault(f, "flags", "wrong_type", "expected an array of at most 16 flag names");
        return false;
    }
    size_t index;
    json_t *item;
    json_array_foreach(value, index, item)
    {
        const char *text = json_string_value(item);
        bool found = false;
        for (size_t i = 0; text != NULL && names[i].name != NULL && !found; i++) {
            if (strcmp(text, names[i].name) == 0) {
                *out = (uint16_t)(*out | names[i].bit);
                found = true;
            }
        }
        if (!found) {
            field_fault(f, "flags", "invalid_value", "unknown flag name");
            return false;
        }
    }
    return true;
}

static bool decode_account(json_t *json, const char *prefix, cor_account *out,
                           cor_node_fault *fault)
{
    static const char *const known[] = {"id",           "user_data_128", "user_data_64",
                                        "user_data_32", "ledger",        "code",
                                        "flags",        "timestamp",     NULL};
    memset(out, 0, sizeof(*out));
    if (!check_fields(json, prefix, known, fault)) return false;
    field_ctx f = {json, prefix, fault};
    uint64_t user_data_32, ledger, code;
    if (!field_u128(&f, "id", true, false, &out->id) ||
        !field_u128(&f, "user_data_128", false, false, &out->user_data_128) ||
        !field_u64(&f, "user_data_64", false, &out->user_data_64) ||
        !field_int(&f, "user_data_32", false, UINT32_MAX, &user_data_32) ||
        !field_int(&f, "ledger", true, UINT32_MAX, &ledger) ||
        !field_int(&f, "code", true, UINT16_MAX, &code) ||
        !field_flags(&f, account_flags, &out->flags) ||
        !field_u64(&f, "timestamp", false, &out->timestamp)) {
        return false;
    }
    if (out->id >= COR_NODE_ID_BASE) {
        field_fault(&f, "id", "reserved_id", "ids at or above 2^127 belong to the node");
        return false;
    }
    out->user_data_32 = (uint32_t)user_data_32;
    out->ledger = (uint32_t)ledger;
    out->code = (uint16_t)code;
    return true;
}

static bool decode_transfer(json_t *json, const char *prefix, cor_transfer *out,
                            cor_node_fault *fault)
{
    static const char *const known[] = {"id",
                                        "debit_account_id",
                                        "credit_account_id",
                                        "amount",
                                        "pending_id",
                                        "user_data_128",
                                        "user_data_64",
                                        "user_data_32",
                                        "timeout",
                                        "ledger",
                                        "code",
                                        "flags",
                                        "timestamp",
                                        NULL};
    memset(out, 0, sizeof(*out));
    if (!check_fields(json, prefix, known, fault)) return false;
    field_ctx f = {json, prefix, fault};
    uint64_t user_data_32, timeout, ledger, code;
    if (!field_u128(&f, "id", true, false, &out->id) ||
        !field_u128(&f, "debit_account_id", false, false, &out->debit_account_id) ||
        !field_u128(&f, "credit_account_id", false, false, &out->credit_account_id) ||
        !field_u128(&f, "amount", false, true, &out->amount) ||
        !field_u128(&f, "pending_id", false, false, &out->pending_id) ||
        !field_u128(&f, "user_data_128", false, false, &out->user_data_128) ||
        !field_u64(&f, "user_data_64", false, &out->user_data_64) ||
        !field_int(&f, "user_data_32", false, UINT32_MAX, &user_data_32) ||
        !field_int(&f, "timeout", false, UINT32_MAX, &timeout) ||
        !field_int(&f, "ledger", false, UINT32_MAX, &ledger) ||
        !field_int(&f, "code", false, UINT16_MAX, &code) ||
        !field_flags(&f, transfer_flags, &out->flags) ||
        !field_u64(&f, "timestamp", false, &out->timestamp)) {
        return false;
    }
    const char *reserved = out->id >= COR_NODE_ID_BASE                  ? "id"
                           : out->debit_account_id >= COR_NODE_ID_BASE  ? "debit_account_id"
                           : out->credit_account_id >= COR_NODE_ID_BASE ? "credit_account_id"
                           : out->pending_id >= COR_NODE_ID_BASE        ? "pending_id"
                                                                        : NULL;
    if (reserved != NULL) {
        field_fault(&f, reserved, "reserved_id", "ids at or above 2^127 belong to the node");
        return false;
    }
    out->user_data_32 = (uint32_t)user_data_32;
    out->timeout = (uint32_t)timeout;
    out->ledger = (uint32_t)ledger;
    out->code = (uint16_t)code;
    return true;
}

uint32_t cor_node_decode_ledger_accounts(json_t *json, cor_account *out, uint32_t out_max,
                                         cor_node_fault *fault)
{
    if (!json_is_array(json)) {
        cor_node_fault_set(fault, 400, "wrong_type", "", "expected an array of accounts");
        return 0;
    }
    if (!array_check(json, out_max, fault)) return 0;
    size_t count = json_array_size(json);
    for (size_t i = 0; i < count; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "[%zu]", i);
        if (!decode_account(json_array_get(json, i), prefix, &out[i], fault)) return 0;
    }
    return (uint32_t)count;
}

uint32_t cor_node_decode_ledger_transfers(json_t *json, cor_transfer *out, uint32_t out_max,
                                          cor_node_fault *fault)
{
    if (!json_is_array(json)) {
        cor_node_fault_set(fault, 400, "wrong_type", "", "expected an array of transfers");
        return 0;
    }
    if (!array_check(json, out_max, fault)) return 0;
    size_t count = json_array_size(json);
    for (size_t i = 0; i < count; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "[%zu]", i);
        if (!decode_transfer(json_array_get(json, i), prefix, &out[i], fault)) return 0;
    }
    return (uint32_t)count;
}

/* ---------------------------------------------------------------------------------------- */
/* Path and query values                                                                    */
/* ---------------------------------------------------------------------------------------- */

bool cor_node_parse_u128(const char *text, cor_u128 *out)
{
    return text != NULL && cor_u128_parse(text, strlen(text), out);
}

bool cor_node_parse_u64(const char *text, uint64_t *out)
{
    cor_u128 value;
    if (!cor_node_parse_u128(text, &value) || value > UINT64_MAX) return false;
    *out = (uint64_t)value;
    return true;
}

bool cor_node_parse_u32(const char *text, uint32_t *out)
{
    cor_u128 value;
    if (!cor_node_parse_u128(text, &value) || value > UINT32_MAX) return false;
    *out = (uint32_t)value;
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Payments fast path                                                                       */
/* ---------------------------------------------------------------------------------------- */

typedef struct fast_cursor {
    const char *at;
    const char *end;
} fast_cursor;

static void fast_ws(fast_cursor *c)
{
    while (c->at < c->end &&
           (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r')) {
        c->at++;
    }
}

static bool fast_char(fast_cursor *c, char expected)
{
    fast_ws(c);
    if (c->at >= c->end || *c->at != expected) return false;
    c->at++;
    return true;
}

/* A string of printable ASCII without escapes; anything else is left to jansson. */
static bool fast_string(fast_cursor *c, const char **text, size_t *length)
{
    if (!fast_char(c, '"')) return false;
    const char *start = c->at;
    while (c->at < c->end && *c->at != '"') {
        unsigned char ch = (unsigned char)*c->at;
        if (ch < 0x20 || ch > 0x7e || ch == '\\') return false;
        c->at++;
    }
    if (c->at >= c->end) return false;
    *text = start;
    *length = (size_t)(c->at - start);
    c->at++;
    return true;
}

/* One flat object whose keys are all in names[0 .. count) (each at most once) and whose values
 * are all fast strings: text/length by name index, seen = the names present. */
static bool fast_object(fast_cursor *c, const char *const *names, unsigned count, const char **text,
                        size_t *length, unsigned *seen)
{
    if (!fast_char(c, '{')) return false;
    for (unsigned field = 0; field < count + 1; field++) {
        const char *key, *value;
        size_t key_length, value_length;
        if (!fast_string(c, &key, &key_length) || !fast_char(c, ':') ||
            !fast_string(c, &value, &value_length)) {
            return false;
        }
        unsigned index = 0;
        while (index < count &&
               (strlen(names[index]) != key_length || memcmp(names[index], key, key_length) != 0)) {
            index++;
        }
        if (index == count || (*seen & (1u << index)) != 0) return false;
        *seen |= 1u << index;
        text[index] = value;
        length[index] = value_length;
        if (fast_char(c, '}')) return true;
        if (!fast_char(c, ',')) return false;
    }
    return false;
}

/* One object or an array of them, each read by one (into out + i * size); the count, or 0
 * when anything is off. */
static uint32_t fast_list(const char *body, size_t body_size, void *out, size_t size,
                          uint32_t out_max, bool *is_array_out,
                          bool (*one)(fast_cursor *c, void *item, const void *context),
                          const void *context)
{
    if (body_size > COR_NODE_BODY_SIZE_BYTES_MAX) return 0;
    fast_cursor c = {body, body + body_size};
    fast_ws(&c);
    uint32_t count = 0;
    *is_array_out = c.at < c.end && *c.at == '[';
    if (!*is_array_out) {
        if (out_max < 1 || !one(&c, out, context)) return 0;
        count = 1;
    } else {
        c.at++;
        do {
            if (count == out_max || !one(&c, (uint8_t *)out + (size_t)count * size, context)) {
                return 0;
            }
            count++;
        } while (fast_char(&c, ','));
        if (!fast_char(&c, ']')) return 0;
    }
    fast_ws(&c);
    return c.at == c.end ? count : 0;
}

enum {
    FAST_ID,
    FAST_CREDITOR,
    FAST_AMOUNT,
    FAST_CURRENCY,
    FAST_E2E,
    FAST_UETR,
    FAST_REMIT,
    FAST_FIELDS
};

static const char *const fast_names[FAST_FIELDS] = {
    "payment_id", "creditor", "amount", "currency", "end_to_end_id", "uetr", "remittance_info"};

/* One flat payment object; false for anything the full decoder should look at. */
static bool fast_payment(fast_cursor *c, uint32_t currency, cor_node_payment_in *out)
{
    const char *text[FAST_FIELDS] = {0};
    size_t length[FAST_FIELDS] = {0};
    unsigned seen = 0;
    if (!fast_object(c, fast_names, FAST_FIELDS, text, length, &seen)) return false;
    if ((seen & 15u) != 15u) return false; /* the four required fields */
    memset(out, 0, sizeof(*out));
    cor_u128 creditor;
    const cor_currency *known = cor_currency_by_alpha(text[FAST_CURRENCY], length[FAST_CURRENCY]);
    if (!cor_u128_parse(text[FAST_ID], length[FAST_ID], &out->payment_id) || out->payment_id == 0 ||
        !cor_u128_parse(text[FAST_AMOUNT], length[FAST_AMOUNT], &out->amount) || out->amount == 0 ||
        !cor_u128_parse(text[FAST_CREDITOR], length[FAST_CREDITOR], &creditor) || creditor == 0 ||
        creditor > COR_NODE_PARTICIPANTS_MAX || known == NULL || known->numeric != currency ||
        length[FAST_E2E] > COR_NODE_E2E_LENGTH_MAX ||
        length[FAST_REMIT] > COR_NODE_REMITTANCE_LENGTH_MAX) {
        return false;
    }
    if ((seen & (1u << FAST_UETR)) != 0) {
        if (!cor_node_uetr_parse(text[FAST_UETR], length[FAST_UETR], out->uetr)) return false;
        out->has_uetr = 1;
    }
    out->creditor = (uint32_t)creditor;
    out->e2e_length = (uint8_t)length[FAST_E2E];
    out->remittance_length = (uint8_t)length[FAST_REMIT];
    if (length[FAST_E2E] > 0) memcpy(out->e2e, text[FAST_E2E], length[FAST_E2E]);
    if (length[FAST_REMIT] > 0) memcpy(out->remittance, text[FAST_REMIT], length[FAST_REMIT]);
    return true;
}

uint32_t cor_node_payments_fast_count(const char *body, size_t size)
{
    fast_cursor c = {body, body + size};
    fast_ws(&c);
    if (c.at >= c.end) return 0;
    if (*c.at == '{') return 1;
    if (*c.at != '[') return 0;
    uint32_t count = 0;
    for (const char *p = c.at; p < c.end; p++)
        count += *p == '{';
    return count;
}

static bool fast_payment_item(fast_cursor *c, void *item, const void *context)
{
    return fast_payment(c, *(const uint32_t *)context, item);
}

uint32_t cor_node_decode_payments_fast(const char *body, size_t size, uint32_t currency,
                                       cor_node_payment_in *out, uint32_t out_max,
                                       bool *is_array_out)
{
    return fast_list(body, size, out, sizeof(*out), out_max, is_array_out, fast_payment_item,
                     &currency);
}

/* ---------------------------------------------------------------------------------------- */
/* Cross-border payments fast path                                                          */
/* ---------------------------------------------------------------------------------------- */

enum {
    XFAST_UETR,
    XFAST_QUOTE,
    XFAST_CREDITOR,
    XFAST_DEBTOR_NAME,
    XFAST_CREDITOR_NAME,
    XFAST_FIELDS
};

static const char *const xfast_names[XFAST_FIELDS] = {"uetr", "quote_id", "creditor", "debtor_name",
                                                      "creditor_name"};

/* One flat cross-border payment object of printable ASCII; false for anything else (the
 * full decoder then decides, with its precise errors). */
static bool fast_xb_payment(fast_cursor *c, cor_node_cmd_xb_payment *out)
{
    const char *text[XFAST_FIELDS] = {0};
    size_t length[XFAST_FIELDS] = {0};
    unsigned seen = 0;
    if (!fast_object(c, xfast_names, XFAST_FIELDS, text, length, &seen)) return false;
    if ((seen & 7u) != 7u) return false; /* uetr, quote_id, creditor */
    memset(out, 0, sizeof(*out));
    uint8_t uetr[16];
    cor_u128 creditor = 0;
    if (!cor_node_uetr_parse(text[XFAST_UETR], length[XFAST_UETR], uetr) ||
        !cor_u128_parse(text[XFAST_QUOTE], length[XFAST_QUOTE], &out->quote_id) ||
        !cor_u128_parse(text[XFAST_CREDITOR], length[XFAST_CREDITOR], &creditor) || creditor == 0 ||
        creditor > UINT32_MAX || length[XFAST_DEBTOR_NAME] > COR_NODE_XB_NAME_LENGTH_MAX ||
        length[XFAST_CREDITOR_NAME] > COR_NODE_XB_NAME_LENGTH_MAX) {
        return false;
    }
    for (int i = 0; i < 16; i++)
        out->uetr = (out->uetr << 8) | uetr[i];
    out->creditor_account = cor_node_settlement_id((uint32_t)creditor);
    out->debtor_name_length = (uint8_t)length[XFAST_DEBTOR_NAME];
    out->creditor_name_length = (uint8_t)length[XFAST_CREDITOR_NAME];
    if (out->debtor_name_length > 0) {
        memcpy(out->debtor_name, text[XFAST_DEBTOR_NAME], out->debtor_name_length);
    }
    if (out->creditor_name_length > 0) {
        memcpy(out->creditor_name, text[XFAST_CREDITOR_NAME], out->creditor_name_length);
    }
    return true;
}

static bool fast_xb_payment_item(fast_cursor *c, void *item, const void *context)
{
    (void)context;
    return fast_xb_payment(c, item);
}

uint32_t cor_node_decode_xb_payments_fast(const char *body, size_t size,
                                          cor_node_cmd_xb_payment *out, uint32_t out_max,
                                          bool *is_array_out)
{
    return fast_list(body, size, out, sizeof(*out), out_max, is_array_out, fast_xb_payment_item,
                     NULL);
}
