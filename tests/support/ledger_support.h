/*
 * Helpers for the ledger's unit tests: open a ledger with given capacities, build account
 * and transfer events, apply one event (or a batch) and return the status. They assert with
 * Criterion, so they may be called only from inside a test.
 */
#ifndef COR_TESTS_LEDGER_SUPPORT_H
#define COR_TESTS_LEDGER_SUPPORT_H

#include "corridor/ledger.h"

/* Capacities: accounts 64, transfers 256, pending 64, failed ids = transfers. */
cor_ledger *lt_open(void);
cor_ledger *lt_open_with(uint32_t accounts_max, uint32_t transfers_max,
                         uint32_t pending_transfers_max, uint32_t failed_ids_max);

/* An account with the given id, ledger and flags, code 1. */
cor_account lt_account(cor_u128 id, uint32_t ledger, uint16_t flags);

/* A transfer id: debit -> credit, amount, ledger, code 1, flags. */
cor_transfer lt_transfer(cor_u128 id, cor_u128 debit_account_id, cor_u128 credit_account_id,
                         cor_u128 amount, uint32_t ledger, uint16_t flags);

/* A post (or void when void_ is true) of pending_id with the given amount; other fields 0. */
cor_transfer lt_resolve(cor_u128 id, cor_u128 pending_id, cor_u128 amount, bool void_);

/* One-event batches at timestamp 0 (the ledger's next time). Return the status. */
uint32_t lt_create_account(cor_ledger *ledger, const cor_account *account);
uint32_t lt_create_transfer(cor_ledger *ledger, const cor_transfer *transfer);
uint32_t lt_create_transfer_at(cor_ledger *ledger, uint64_t timestamp, const cor_transfer *transfer,
                               uint64_t *timestamp_out);

/* Creates accounts 1..count on ledger 1 with the given flags (all must be created). */
void lt_accounts(cor_ledger *ledger, uint32_t count, uint16_t flags);

/* Asserts a transfer is created. */
void lt_ok(cor_ledger *ledger, const cor_transfer *transfer);

/* Posts amount from account funding (created on demand as id 1000 on ledger 1) to id. */
void lt_fund(cor_ledger *ledger, cor_u128 account_id, cor_u128 amount);

cor_account lt_get_account(const cor_ledger *ledger, cor_u128 id);
cor_transfer lt_get_transfer(const cor_ledger *ledger, cor_u128 id);

/* Asserts cor_ledger_check passes (printing its problem otherwise). */
void lt_check(const cor_ledger *ledger);

/* Asserts status == want, printing both names. */
void lt_expect_transfer_status(uint32_t status, uint32_t want, const char *where, int line);
void lt_expect_account_status(uint32_t status, uint32_t want, const char *where, int line);
#define LT_T(status, want) lt_expect_transfer_status((status), (want), __FILE__, __LINE__)
#define LT_A(status, want) lt_expect_account_status((status), (want), __FILE__, __LINE__)

/* An in-memory byte buffer for serialize / deserialize. */
typedef struct lt_buffer {
    unsigned char *bytes;
    size_t size_bytes;
    size_t capacity_bytes;
    size_t read_offset;
} lt_buffer;

cor_error lt_buffer_write(void *context, const void *bytes, size_t size_bytes);
cor_error lt_buffer_read(void *context, void *bytes, size_t size_bytes);
void lt_serialize(const cor_ledger *ledger, lt_buffer *buffer);
void lt_buffer_free(lt_buffer *buffer);

#endif
