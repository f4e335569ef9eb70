/* Helpers for the ledger's unit tests (see ledger_support.h). */
#include "ledger_support.h"

#include <criterion/criterion.h>
#include <string.h>

#include "common/alloc.h"

cor_ledger *lt_open_with(uint32_t accounts_max, uint32_t transfers_max,
                         uint32_t pending_transfers_max, uint32_t failed_ids_max)
{
    cor_ledger_options options = {
        .accounts_max = accounts_max,
        .transfers_max = transfers_max,
        .pending_transfers_max = pending_transfers_max,
        .failed_ids_max = failed_ids_max,
        .hash_seed = 0x5eed,
    };
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&options, &ledger), COR_OK);
    cr_assert_not_null(ledger);
    return ledger;
}

cor_ledger *lt_open(void)
{
    return lt_open_with(64, 256, 64, 0);
}

cor_account lt_account(cor_u128 id, uint32_t ledger, uint16_t flags)
{
    return (cor_account){.id = id, .ledger = ledger, .code = 1, .flags = flags};
}

cor_transfer lt_transfer(cor_u128 id, cor_u128 debit_account_id, cor_u128 credit_account_id,
                         cor_u128 amount, uint32_t ledger, uint16_t flags)
{
    return (cor_transfer){
        .id = id,
        .debit_account_id = debit_account_id,
        .credit_account_id = credit_account_id,
        .amount = amount,
        .ledger = ledger,
        .code = 1,
        .flags = flags,
    };
}

cor_transfer lt_resolve(cor_u128 id, cor_u128 pending_id, cor_u128 amount, bool void_)
{
    return (cor_transfer){
        .id = id,
        .pending_id = pending_id,
        .amount = amount,
        .flags = void_ ? COR_TRANSFER_VOID_PENDING_TRANSFER : COR_TRANSFER_POST_PENDING_TRANSFER,
    };
}

uint32_t lt_create_account(cor_ledger *ledger, const cor_account *account)
{
    cor_create_result result = {.status = 999};
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, account, 1, &result), COR_OK);
    return result.status;
}

uint32_t lt_create_transfer_at(cor_ledger *ledger, uint64_t timestamp, const cor_transfer *transfer,
                               uint64_t *timestamp_out)
{
    cor_create_result result = {.status = 999};
    cr_assert_eq(cor_ledger_create_transfers(ledger, timestamp, transfer, 1, &result), COR_OK);
    if (timestamp_out != NULL) *timestamp_out = result.timestamp;
    return result.status;
}

uint32_t lt_create_transfer(cor_ledger *ledger, const cor_transfer *transfer)
{
    return lt_create_transfer_at(ledger, 0, transfer, NULL);
}

void lt_accounts(cor_ledger *ledger, uint32_t count, uint16_t flags)
{
    for (uint32_t i = 1; i <= count; i++) {
        cor_account a = lt_account(i, 1, flags);
        LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
    }
}

void lt_ok(cor_ledger *ledger, const cor_transfer *transfer)
{
    LT_T(lt_create_transfer(ledger, transfer), COR_TRANSFER_CREATED);
}

void lt_fund(cor_ledger *ledger, cor_u128 account_id, cor_u128 amount)
{
    static uint64_t fund_transfer_id = 1u << 30;
    cor_account funding;
    if (!cor_ledger_lookup_account(ledger, 1000, &funding)) {
        cor_account a = lt_account(1000, 1, 0);
        LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
    }
    cor_transfer t = lt_transfer(++fund_transfer_id, 1000, account_id, amount, 1, 0);
    lt_ok(ledger, &t);
}

cor_account lt_get_account(const cor_ledger *ledger, cor_u128 id)
{
    cor_account account;
    cr_assert(cor_ledger_lookup_account(ledger, id, &account), "account not found");
    return account;
}

cor_transfer lt_get_transfer(const cor_ledger *ledger, cor_u128 id)
{
    cor_transfer transfer;
    cr_assert(cor_ledger_lookup_transfer(ledger, id, &transfer), "transfer not found");
    return transfer;
}

void lt_check(const cor_ledger *ledger)
{
    char problem[200];
    cr_assert(cor_ledger_check(ledger, problem, sizeof(problem)), "check failed: %s", problem);
}

void lt_expect_transfer_status(uint32_t status, uint32_t want, const char *where, int line)
{
    cr_assert_eq(status, want, "%s:%d: transfer status %s, expected %s", where, line,
                 cor_create_transfer_status_name(status), cor_create_transfer_status_name(want));
}

void lt_expect_account_status(uint32_t status, uint32_t want, const char *where, int line)
{
    cr_assert_eq(status, want, "%s:%d: account status %s, expected %s", where, line,
                 cor_create_account_status_name(status), cor_create_account_status_name(want));
}

cor_error lt_buffer_write(void *context, const void *bytes, size_t size_bytes)
{
    lt_buffer *buffer = context;
    if (buffer->size_bytes + size_bytes > buffer->capacity_bytes) {
        size_t capacity = buffer->capacity_bytes ? buffer->capacity_bytes : 4096;
        while (capacity < buffer->size_bytes + size_bytes)
            capacity *= 2;
        unsigned char *grown = cor_alloc(capacity);
        if (grown == NULL) return COR_ERR_NOMEM;
        if (buffer->size_bytes > 0) memcpy(grown, buffer->bytes, buffer->size_bytes);
        cor_free(buffer->bytes);
        buffer->bytes = grown;
        buffer->capacity_bytes = capacity;
    }
    memcpy(buffer->bytes + buffer->size_bytes, bytes, size_bytes);
    buffer->size_bytes += size_bytes;
    return COR_OK;
}

cor_error lt_buffer_read(void *context, void *bytes, size_t size_bytes)
{
    lt_buffer *buffer = context;
    if (size_bytes > buffer->size_bytes - buffer->read_offset) return COR_ERR_IO;
    memcpy(bytes, buffer->bytes + buffer->read_offset, size_bytes);
    buffer->read_offset += size_bytes;
    return COR_OK;
}

void lt_serialize(const cor_ledger *ledger, lt_buffer *buffer)
{
    memset(buffer, 0, sizeof(*buffer));
    cr_assert_eq(cor_ledger_serialize(ledger, lt_buffer_write, buffer), COR_OK);
}

void lt_buffer_free(lt_buffer *buffer)
{
    cor_free(buffer->bytes);
    memset(buffer, 0, sizeof(*buffer));
}
