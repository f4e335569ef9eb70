/* `corridor verify --data DIR`, run as the real binary (COR_BIN): exit statuses and the
 * named first problem. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../support/journal_support.h"

typedef struct verify_run {
    int status;
    char output[4096]; /* stdout then stderr */
} verify_run;

static void verify_exec_in(const char *out_dir, const char *dir, const char *extra, verify_run *run)
{
    const char *bin = getenv("COR_BIN");
    if (bin == NULL) cr_skip_test("COR_BIN is not set (make test sets it)");
    char out_path[300];
    cor_test_path(out_path, sizeof(out_path), out_dir, "..verify-output");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(99);
        dup2(fd, 1);
        dup2(fd, 2);
        if (extra != NULL)
            execl(bin, bin, "verify", extra, (char *)NULL);
        else
            execl(bin, bin, "verify", "--data", dir, (char *)NULL);
        _exit(98);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    run->status = WEXITSTATUS(status);
    memset(run->output, 0, sizeof(run->output));
    FILE *file = fopen(out_path, "r");
    cr_assert_not_null(file);
    size_t n = fread(run->output, 1, sizeof(run->output) - 1, file);
    run->output[n] = '\0';
    fclose(file);
    unlink(out_path);
}

static void verify_exec(const char *dir, const char *extra, verify_run *run)
{
    verify_exec_in(dir, dir, extra, run);
}

static void verify_build(const char *dir, uint64_t *end_out)
{
    cor_test_log_lines log = {0};
    cor_ledger_store_options options = {
        .dir = dir,
        .flags = COR_JOURNAL_CREATE,
        .log = cor_test_log,
        .log_context = &log,
        .ledger = {.accounts_max = 4, .transfers_max = 64, .pending_transfers_max = 4}};
    cor_ledger_store *store = NULL;
    cr_assert_eq(cor_ledger_store_open(&options, &store), COR_OK);
    cor_account accounts[2] = {{.id = 1, .ledger = 1, .code = 1},
                               {.id = 2, .ledger = 1, .code = 1}};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_store_create_accounts(store, 5, accounts, 2, results), COR_OK);
    for (uint32_t i = 0; i < 6; i++) {
        cor_transfer transfer = {.id = 10 + i,
                                 .debit_account_id = 1 + i % 2,
                                 .credit_account_id = 2 - i % 2,
                                 .amount = i + 1,
                                 .ledger = 1,
                                 .code = 1};
        cr_assert_eq(cor_ledger_store_create_transfers(store, 10 + i, &transfer, 1, results),
                     COR_OK);
        if (i == 3) cr_assert_eq(cor_ledger_store_snapshot(store, false), COR_OK);
    }
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    *end_out = stats.size_bytes;
    cor_ledger_store_close(store);
}

Test(journal_verify, intact_directory_exits_zero_with_a_summary)
{
    char dir[256];
    cor_test_dir_make(dir, sizeof(dir));
    uint64_t end = 0;
    verify_build(dir, &end);
    verify_run run;
    verify_exec(dir, NULL, &run);
    cr_assert_eq(run.status, 0, "%s", run.output);
    cr_assert(strstr(run.output, "records    8") != NULL, "%s", run.output);
    cr_assert(strstr(run.output, "events     8") != NULL, "%s", run.output);
    cr_assert(strstr(run.output, "head hash  ") != NULL, "%s", run.output);
    cr_assert(strstr(run.output, "snapshots  1 checked") != NULL, "%s", run.output);
    cor_test_dir_remove(dir);
}

Test(journal_verify, corruption_exits_one_naming_file_and_offset)
{
    char dir[256];
    cor_test_dir_make(dir, sizeof(dir));
    uint64_t end = 0;
    verify_build(dir, &end);
    char journal[300];
    cor_test_path(journal, sizeof(journal), dir, "journal");
    cor_test_file_flip_bit(journal, 64 + 96 + 5, 1); /* payload of the configure record */
    verify_run run;
    verify_exec(dir, NULL, &run);
    cr_assert_eq(run.status, 1, "%s", run.output);
    cr_assert(strstr(run.output, "problem: journal '") != NULL, "%s", run.output);
    cr_assert(strstr(run.output, "at offset 64") != NULL, "%s", run.output);
    cor_test_dir_remove(dir);
}

Test(journal_verify, torn_tail_is_a_warning)
{
    char dir[256];
    cor_test_dir_make(dir, sizeof(dir));
    uint64_t end = 0;
    verify_build(dir, &end);
    char journal[300];
    cor_test_path(journal, sizeof(journal), dir, "journal");
    cor_test_file_truncate(journal, end - 7);
    verify_run run;
    verify_exec(dir, NULL, &run);
    cr_assert_eq(run.status, 0, "%s", run.output);
    cr_assert(strstr(run.output, "warning: torn tail") != NULL, "%s", run.output);
    cr_assert_eq(cor_test_file_size(journal), end - 7, "verify changes no file");
    cor_test_dir_remove(dir);
}

Test(journal_verify, usage_and_missing_directory)
{
    char dir[256];
    cor_test_dir_make(dir, sizeof(dir));
    verify_run run;
    verify_exec(dir, "--bogus", &run);
    cr_assert_eq(run.status, 2, "%s", run.output);
    char missing[300];
    cor_test_path(missing, sizeof(missing), dir, "nothing-here");
    verify_exec_in(dir, missing, NULL, &run);
    cr_assert_eq(run.status, 3, "%s", run.output);
    cr_assert(strstr(run.output, "nothing-here") != NULL, "%s", run.output);
    cor_test_dir_remove(dir);
}
