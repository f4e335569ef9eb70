/*
 * `corridor iso20022 check|roundtrip` through the real binary ($COR_BIN): per-document
 * verdicts in a file of <!--EOD-->-separated documents, and the documented exit statuses
 * (0 all valid, 1 a finding, 2 usage, 3 unreadable file).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CLI_VALID                                                                                  \
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03\"><FIToFIPmtStsReq>"         \
    "<GrpHdr><MsgId>Q1</MsgId><CreDtTm>2026-07-02T10:00:00Z</CreDtTm></GrpHdr><OrgnlGrpInf>"       \
    "<OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>"        \
    "<TxInf><OrgnlEndToEndId>E1</OrgnlEndToEndId></TxInf></FIToFIPmtStsReq></Document>\n"

#define CLI_BAD_DATE                                                                               \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"                                               \
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03\"><FIToFIPmtStsReq>"         \
    "<GrpHdr><MsgId>Q2</MsgId><CreDtTm>2026-02-30T10:00:00Z</CreDtTm></GrpHdr><OrgnlGrpInf>"       \
    "<OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>"        \
    "</FIToFIPmtStsReq></Document>\n"

static const char *cli_binary(void)
{
    const char *binary = getenv("COR_BIN");
    return binary != NULL ? binary : "build/corridor";
}

/* Runs corridor with args, stdout into out (NUL-terminated); returns the exit status. */
static int cli_run(const char *const *args, char *out, size_t out_size)
{
    char path[] = "/tmp/cor-iso-cli-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[16];
    argv[0] = (char *)cli_binary();
    size_t count = 1;
    for (; args[count - 1] != NULL && count < 15; count++)
        argv[count] = (char *)args[count - 1];
    argv[count] = NULL;
    pid_t pid = 0;
    cr_assert_eq(posix_spawn(&pid, argv[0], &actions, NULL, argv, environ), 0, "cannot start %s",
                 argv[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    posix_spawn_file_actions_destroy(&actions);
    ssize_t got = pread(fd, out, out_size - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void cli_write(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    cr_assert_not_null(file);
    fputs(text, file);
    fclose(file);
}

Test(iso20022_cli, check_reports_each_document)
{
    char dir[] = "/tmp/cor-iso-cli-dir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char good[128], mixed[128], out[4096];
    snprintf(good, sizeof(good), "%s/good.xml", dir);
    snprintf(mixed, sizeof(mixed), "%s/mixed.xml", dir);
    cli_write(good, CLI_VALID);
    cli_write(mixed,
              CLI_VALID "<!--EOD-->\n" CLI_BAD_DATE "<!--EOD-->\r\n<a><b></a>\n<!--EOD-->\n");
    const char *one[] = {"iso20022", "check", good, NULL};
    cr_assert_eq(cli_run(one, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "#1: valid pacs.028.001.03"), "%s", out);
    const char *many[] = {"iso20022", "check", good, mixed, NULL};
    cr_assert_eq(cli_run(many, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "mixed.xml#1: valid"), "%s", out);
    cr_assert_not_null(strstr(out, "mixed.xml#2: DT02 GrpHdr/CreDtTm"), "%s", out);
    cr_assert_not_null(strstr(out, "mixed.xml#3: FF01"), "%s", out);
    cr_assert_null(strstr(out, "mixed.xml#4"), "%s", out);
    const char *roundtrip[] = {"iso20022", "roundtrip", good, NULL};
    cr_assert_eq(cli_run(roundtrip, out, sizeof(out)), 0);
    cr_assert_not_null(strstr(out, "<OrgnlMsgId>M1</OrgnlMsgId>"), "%s", out);
    unlink(good);
    unlink(mixed);
    rmdir(dir);
}

Test(iso20022_cli, exit_statuses)
{
    char out[4096];
    const char *missing[] = {"iso20022", "check", "/nonexistent/cor-iso.xml", NULL};
    cr_assert_eq(cli_run(missing, out, sizeof(out)), 3);
    const char *usage[] = {"iso20022", "check", NULL};
    cr_assert_eq(cli_run(usage, out, sizeof(out)), 2);
    const char *unknown[] = {"iso20022", "frobnicate", "x", NULL};
    cr_assert_eq(cli_run(unknown, out, sizeof(out)), 2);
    const char *roundtrip[] = {"iso20022", "roundtrip", "/nonexistent/cor-iso.xml", NULL};
    cr_assert_eq(cli_run(roundtrip, out, sizeof(out)), 3);
}
