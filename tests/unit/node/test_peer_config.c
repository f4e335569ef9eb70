/*
 * Peers in the node's configuration (src/node/config.c) and the `corridor peer` commands
 * (src/cli/cmd_peer.c): defaults, every refusal with its line, write/load round trips, the
 * atomic replace, and add/list/remove through the real binary (COR_BIN).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../support/node_support.h"
#include "node/config.h"

#define HASH "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY1 "0b3fcd8b172562c14060b6b110323e96385dac44c1cfada98c1dd02bf5f03c30"
#define KEY2 "9619cbde4405d4657f084461db4f9a2b28b929b7f01fe7b83931f9838ada6d15"

/* Lines 1..6: a node without peers. Extra text starts at line 7. */
#define BASE                                                                                       \
    "[node]\n"                                                                                     \
    "name = RU\n"                                                                                  \
    "currency = RUB\n"                                                                             \
    "\n"                                                                                           \
    "[auth]\n"                                                                                     \
    "operator_key_hash = " HASH "\n"

#define PEER_IR                                                                                    \
    "[peer IR]\n"                                                                                  \
    "currency = IRR\n"                                                                             \
    "url = http://127.0.0.1:8082\n"                                                                \
    "public_key = " KEY1 "\n"

static char dir[64];
static char path[128];
static cor_node_config config; /* large: static */

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cor_peer_config_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/corridor.ini", dir);
}

static void teardown(void)
{
    char command[400];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    cr_assert_eq(system(command), 0);
}

TestSuite(node_peer_config, .init = setup, .fini = teardown);

static void write_text(const char *file, const char *text)
{
    FILE *out = fopen(file, "w");
    cr_assert_not_null(out);
    fputs(text, out);
    cr_assert_eq(fclose(out), 0);
}

static cor_error load_text(const char *text, char *detail, size_t detail_size)
{
    write_text(path, text);
    return cor_node_config_load(path, &config, detail, detail_size);
}

static void load_ok(const char *text)
{
    char detail[512] = "";
    cor_error rc = load_text(text, detail, sizeof(detail));
    cr_assert_eq(rc, COR_OK, "%s", detail);
}

/* The extra text (after BASE) must be refused at line `line` with `fragment` in the reason. */
static void refused(const char *extra, int line, const char *fragment)
{
    char text[8192];
    snprintf(text, sizeof(text), "%s%s", BASE, extra);
    char detail[512] = "";
    cr_assert_eq(load_text(text, detail, sizeof(detail)), COR_ERR_PARSE, "accepted:\n%s", extra);
    char where[320];
    snprintf(where, sizeof(where), "%s:%d: ", path, line);
    cr_assert(strncmp(detail, where, strlen(where)) == 0, "want line %d, got '%s' for:\n%s", line,
              detail, extra);
    cr_assert_not_null(strstr(detail, fragment), "want '%s' in '%s'", fragment, detail);
}

Test(node_peer_config, defaults_derive_from_the_currencies)
{
    load_ok(BASE PEER_IR);
    cr_assert_eq(config.node_id, 643);
    cr_assert_str_eq(config.bic, "CRDRRUXX");
    cr_assert_eq(config.key_id, 1);
    cr_assert_eq(config.peer_count, 1);
    const cor_node_peer_config *p = &config.peers[0];
    cr_assert_str_eq(p->name, "IR");
    cr_assert_str_eq(p->currency, "IRR");
    cr_assert_eq(p->currency_numeric, 364);
    cr_assert_eq(p->node_id, 364);
    cr_assert_str_eq(p->bic, "CRDRIRXX");
    cr_assert_str_eq(p->url, "http://127.0.0.1:8082");
    cr_assert_eq(p->public_key[0], 0x0b);
    cr_assert_eq(p->public_key[31], 0x30);
    cr_assert_eq(p->key_id, 1);
    cr_assert(p->payment_max_out == 0 && p->daily_max_out == 0);
    cr_assert(p->payment_max_in == 0 && p->daily_max_in == 0);

    load_ok(BASE); /* no peers: any node name, defaults still filled */
    cr_assert_eq(config.peer_count, 0);
    cr_assert_eq(config.node_id, 643);
}

Test(node_peer_config, every_key_explicit)
{
    load_ok("[node]\nname = ru-cb.1\ncurrency = RUB\nnode_id = 4294967295\nbic = CBRFRUMMXXX\n"
            "key_id = 0\n[auth]\noperator_key_hash = " HASH "\n"
            "[peer IR_1]\nnode_id = 1\ncurrency = IRR\nbic = MELIIRTH\n"
            "url = https://ir.example:8443/corridor\npublic_key = " KEY1 "\nkey_id = 77\n"
            "payment_max_out = 1267650600228229401496703205376\ndaily_max_out = 2\n"
            "payment_max_in = 3\ndaily_max_in = 340282366920938463463374607431768211455\n"
            "[peer CN]\ncurrency = CNY\nurl = http://10.0.0.3\npublic_key = " KEY2 "\n");
    cr_assert_eq(config.node_id, 4294967295u);
    cr_assert_str_eq(config.bic, "CBRFRUMMXXX");
    cr_assert_eq(config.key_id, 0);
    cr_assert_eq(config.peer_count, 2);
    const cor_node_peer_config *p = &config.peers[0];
    cr_assert_eq(p->node_id, 1);
    cr_assert_str_eq(p->bic, "MELIIRTH");
    cr_assert_str_eq(p->url, "https://ir.example:8443/corridor");
    cr_assert_eq(p->key_id, 77);
    cr_assert(p->payment_max_out == (cor_u128)1 << 100);
    cr_assert(p->daily_max_out == 2 && p->payment_max_in == 3);
    cr_assert(p->daily_max_in == COR_U128_MAX);
    cr_assert_eq(config.peers[1].node_id, 156);
    cr_assert_str_eq(config.peers[1].bic, "CRDRCNXX");
}

Test(node_peer_config, each_refusal_names_its_line)
{
    /* Keys refused while parsing: the key's own line. */
    refused("[peer IR]\ncurrency = IRR\npublic_key = " KEY1 "0\n", 9, "public_key");
    refused("[peer IR]\npublic_key = "
            "0B3FCD8B172562C14060B6B110323E96385DAC44C1CFADA98C1DD02BF5F03C30\n",
            8, "public_key");
    refused("[peer IR]\npublic_key = "
            "zz3fcd8b172562c14060b6b110323e96385dac44c1cfada98c1dd02bf5f03c30\n",
            8, "public_key");
    refused("[peer IR]\ncurrency = IRR\ncolour = blue\n", 9, "unknown key");
    refused("[peer IR]\ncurrency = IRR\ncurrency = IRR\n", 9, "duplicate key");
    refused("[peer I R]\ncurrency = IRR\n", 8, "peer name 'I R'");
    refused("[peer ABCDEFGHIJKLMNOPQ]\ncurrency = IRR\n", 8, "1 to 16 characters");
    refused("[peer]\ncurrency = IRR\n", 8, "unknown key");
    refused("[peer IR]\nurl = ftp://127.0.0.1:8082\n", 8, "url");
    refused("[peer IR]\nurl = http://127.0.0.1:8082/\n", 8, "url");
    refused("[peer IR]\nurl = http://\n", 8, "url");
    refused("[peer IR]\nurl = http://a b\n", 8, "url");
    refused("[peer IR]\nurl = http://127.0.0.1:8082/?x\n", 8, "url");
    char long_url[400];
    snprintf(long_url, sizeof(long_url), "[peer IR]\nurl = http://%0154d\n", 0);
    refused(long_url, 8, "url"); /* 160 characters + 1 */
    refused("[peer IR]\ncurrency = XYZ\n", 8, "currency");
    refused("[peer IR]\nbic = CRDR\n", 8, "bic");
    refused("[peer IR]\nnode_id = 0\n", 8, "node_id");
    refused("[peer IR]\nnode_id = 4294967296\n", 8, "node_id");
    refused("[peer IR]\nkey_id = -1\n", 8, "key_id");
    refused("[peer IR]\ndaily_max_in = -5\n", 8, "daily_max_in");
    refused("[peer IR]\npayment_max_out = 340282366920938463463374607431768211456\n", 8,
            "payment_max_out");
    refused("[peer IR]\npayment_max_in = 1.5\n", 8, "payment_max_in");
    refused(PEER_IR "[peer IR]\ncurrency = IRR\n", 11, "appears twice");
    refused(PEER_IR "[http]\nport = 1\n[peer IR]\nkey_id = 2\n", 13, "appears twice");
    refused("[node]\nnode_id = 0\n", 8, "node_id");
    refused("[node]\nbic = 12345678\n", 8, "bic");
    refused("[node]\nnode_id = 5\nnode_id = 5\n", 9, "duplicate key");

    /* Checks after parsing: the line of the section they concern. */
    refused("\n[peer IR]\ncurrency = IRR\nurl = http://127.0.0.1:8082\n", 8, "public_key");
    refused("[peer X]\nnode_id = 643\ncurrency = IRR\nurl = http://h\npublic_key = " KEY1 "\n", 7,
            "own node id");
    refused(PEER_IR "[peer CN]\nnode_id = 364\ncurrency = CNY\nurl = http://h\npublic_key = " KEY2
                    "\n",
            11, "node_id 364 is also [peer IR]");
    refused(PEER_IR "[peer CN]\nbic = CRDRIRXX\ncurrency = CNY\nurl = http://h\npublic_key = " KEY2
                    "\n",
            11, "bic CRDRIRXX is also [peer IR]");
    refused("[peer RU]\ncurrency = IRR\nurl = http://h\npublic_key = " KEY1 "\n", 7, "own name");
    refused("[peer IR]\nbic = CRDRRUXX\ncurrency = IRR\nurl = http://h\npublic_key = " KEY1 "\n", 7,
            "own bic");

    /* A node name that cannot go on the wire is fine alone, refused once peers exist. */
    load_ok("[node]\nname = central bank\ncurrency = RUB\n[auth]\noperator_key_hash = " HASH "\n");
    char detail[512] = "";
    cr_assert_eq(load_text("[auth]\noperator_key_hash = " HASH "\n[node]\nname = central bank\n"
                           "currency = RUB\n" PEER_IR,
                           detail, sizeof(detail)),
                 COR_ERR_PARSE);
    char where[320];
    snprintf(where, sizeof(where), "%s:3: [node] name 'central bank'", path);
    cr_assert(strncmp(detail, where, strlen(where)) == 0, "%s", detail);

    /* A line longer than inih's buffer is refused, not cut. */
    char text[1024];
    snprintf(text, sizeof(text), "%s# %0200d\n", BASE, 0);
    cr_assert_eq(load_text(text, detail, sizeof(detail)), COR_ERR_PARSE);
    snprintf(where, sizeof(where), "%s:7: line longer than 198 characters", path);
    cr_assert_str_eq(detail, where);
}

Test(node_peer_config, at_most_64_peers)
{
    static char text[64 * 1024];
    size_t used = (size_t)snprintf(text, sizeof(text), "%s", BASE);
    for (int i = 0; i < 65; i++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "[peer P%d]\nnode_id = %d\ncurrency = IRR\nbic = CRDR%c%cXX\n"
                                 "url = http://h\npublic_key = " KEY1 "\n",
                                 i, 1000 + i, 'A' + i / 26, 'A' + i % 26);
    }
    char detail[512] = "";
    cr_assert_eq(load_text(text, detail, sizeof(detail)), COR_ERR_PARSE);
    cr_assert_not_null(strstr(detail, "more than 64 peers"), "%s", detail);
    char where[320];
    snprintf(where, sizeof(where), "%s:%d: ", path, 7 + 64 * 6 + 1);
    cr_assert(strncmp(detail, where, strlen(where)) == 0, "%s", detail);
}

static void config_equal(const cor_node_config *a, const cor_node_config *b)
{
    cr_assert_str_eq(a->name, b->name);
    cr_assert_str_eq(a->bic, b->bic);
    cr_assert_eq(a->node_id, b->node_id);
    cr_assert_eq(a->key_id, b->key_id);
    cr_assert_eq(a->port, b->port);
    cr_assert(memcmp(a->operator_key_hash, b->operator_key_hash, sizeof(a->operator_key_hash)) ==
              0);
    cr_assert_eq(a->peer_count, b->peer_count);
    for (uint32_t i = 0; i < a->peer_count; i++) {
        cr_assert(memcmp(&a->peers[i], &b->peers[i], sizeof(a->peers[i])) == 0, "peer %u", i);
    }
}

Test(node_peer_config, write_and_replace_round_trip)
{
    load_ok("[node]\nname = RU\ncurrency = RUB\nnode_id = 9\nkey_id = 3\n[auth]\n"
            "operator_key_hash = " HASH "\n" PEER_IR "payment_max_out = 123456789012345678901234\n"
            "[peer CN]\ncurrency = CNY\nurl = http://10.1.2.3:9/x\npublic_key = " KEY2 "\n"
            "key_id = 4294967295\n");
    static cor_node_config first;
    first = config;
    char copy[320];
    snprintf(copy, sizeof(copy), "%s/copy.ini", dir);
    cr_assert_eq(cor_node_config_write(copy, &first), COR_OK);
    cr_assert_eq(cor_node_config_write(copy, &first), COR_ERR_EXISTS);
    char detail[512] = "";
    cr_assert_eq(cor_node_config_load(copy, &config, detail, sizeof(detail)), COR_OK, "%s", detail);
    config_equal(&first, &config);

    /* Replace: new content, mode 0600, no temporary file left behind. */
    chmod(copy, 0644);
    first.peer_count = 1;
    first.peers[0].key_id = 42;
    cr_assert_eq(cor_node_config_replace(copy, &first), COR_OK);
    struct stat info;
    cr_assert_eq(stat(copy, &info), 0);
    cr_assert_eq(info.st_mode & 0777, 0600);
    cr_assert_eq(cor_node_config_load(copy, &config, detail, sizeof(detail)), COR_OK, "%s", detail);
    config_equal(&first, &config);
    DIR *listing = opendir(dir);
    cr_assert_not_null(listing);
    int entries = 0;
    for (struct dirent *entry; (entry = readdir(listing)) != NULL;) {
        if (entry->d_name[0] != '.') entries++;
        cr_assert_null(strstr(entry->d_name, ".tmp"), "left behind: %s", entry->d_name);
    }
    closedir(listing);
    cr_assert_eq(entries, 2);

    /* A directory that does not exist: nothing written, an error. */
    char missing[320];
    snprintf(missing, sizeof(missing), "%s/nope/corridor.ini", dir);
    cr_assert_eq(cor_node_config_replace(missing, &first), COR_ERR_IO);
}

/* ---- the CLI ------------------------------------------------------------------------------ */

/* Runs a shell command; returns its exit status and leaves its stdout in out. */
static int run(char *out, size_t out_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int run(char *out, size_t out_size, const char *format, ...)
{
    char command[2048];
    va_list args;
    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    FILE *pipe = popen(command, "r");
    cr_assert_not_null(pipe);
    size_t size = fread(out, 1, out_size - 1, pipe);
    out[size] = '\0';
    int status = pclose(pipe);
    cr_assert(WIFEXITED(status), "%s", command);
    return WEXITSTATUS(status);
}

static void read_file(const char *file, char *out, size_t out_size)
{
    FILE *in = fopen(file, "r");
    cr_assert_not_null(in, "%s", file);
    size_t size = fread(out, 1, out_size - 1, in);
    out[size] = '\0';
    fclose(in);
}

Test(node_peer_config, cli_init_add_list_replace_remove)
{
    static char out[16384];
    const char *bin = cor_test_bin();
    cr_assert_eq(
        run(out, sizeof(out), "%s init --data %s/ru --currency RUB --node-name RU 2>&1", bin, dir),
        0, "%s", out);
    cr_assert_eq(run(out, sizeof(out),
                     "%s init --data %s/ir --currency IRR --node-name IR --node-id 98 "
                     "--bic MELIIRTHXXX 2>&1",
                     bin, dir),
                 0, "%s", out);
    cr_assert_eq(run(out, sizeof(out),
                     "%s init --data %s/x --currency IRR --node-name X "
                     "--bic NOTABIC 2>&1",
                     bin, dir),
                 2, "%s", out);
    cr_assert_eq(run(out, sizeof(out),
                     "%s init --data %s/x --currency IRR --node-name X "
                     "--node-id 0 2>&1",
                     bin, dir),
                 2, "%s", out);
    char ru[300], ir[300];
    snprintf(ru, sizeof(ru), "%s/ru/corridor.ini", dir);
    snprintf(ir, sizeof(ir), "%s/ir/corridor.ini", dir);
    char detail[512] = "";
    cr_assert_eq(cor_node_config_load(ir, &config, detail, sizeof(detail)), COR_OK, "%s", detail);
    cr_assert_eq(config.node_id, 98);
    cr_assert_str_eq(config.bic, "MELIIRTHXXX");

    /* add, reading the key from the other node's node.pub */
    cr_assert_eq(run(out, sizeof(out),
                     "%s peer add --data %s/ru --name IR --node-id 98 --currency IRR "
                     "--bic MELIIRTHXXX --url http://127.0.0.1:8082 --public-key @%s/ir/node.pub "
                     "--daily-max-out 5000000 --payment-max-in 700 2>&1",
                     bin, dir, dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "restart"), "%s", out);
    struct stat info;
    cr_assert_eq(stat(ru, &info), 0);
    cr_assert_eq(info.st_mode & 0777, 0600);
    char pub[160];
    snprintf(pub, sizeof(pub), "%s/ir/node.pub", dir);
    char key_hex[128];
    read_file(pub, key_hex, sizeof(key_hex));
    key_hex[64] = '\0';

    cr_assert_eq(run(out, sizeof(out), "%s peer list --data %s/ru --json", bin, dir), 0, "%s", out);
    json_error_t error;
    json_t *list = json_loads(out, 0, &error);
    cr_assert_not_null(list, "%s: %s", error.text, out);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(list, "node"), "bic")),
                     "CRDRRUXX");
    json_t *peers = json_object_get(list, "peers");
    cr_assert_eq(json_array_size(peers), 1);
    json_t *peer = json_array_get(peers, 0);
    cr_assert_str_eq(json_string_value(json_object_get(peer, "name")), "IR");
    cr_assert_eq(json_integer_value(json_object_get(peer, "node_id")), 98);
    cr_assert_str_eq(json_string_value(json_object_get(peer, "public_key")), key_hex);
    cr_assert_str_eq(json_string_value(json_object_get(peer, "daily_max_out")), "5000000");
    cr_assert_str_eq(json_string_value(json_object_get(peer, "payment_max_in")), "700");
    cr_assert_str_eq(json_string_value(json_object_get(peer, "payment_max_out")), "0");
    json_decref(list);

    /* add again under the same name: replaced, not duplicated; a second peer added */
    cr_assert_eq(run(out, sizeof(out),
                     "%s peer add --data %s/ru --name IR --node-id 98 --currency IRR "
                     "--bic MELIIRTHXXX --url http://127.0.0.1:9999 --public-key %s --key-id 2",
                     bin, dir, key_hex),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "replaced"), "%s", out);
    cr_assert_eq(run(out, sizeof(out),
                     "%s peer add --data %s/ru --name CN --currency CNY --url http://127.0.0.1:83 "
                     "--public-key " KEY2,
                     bin, dir),
                 0, "%s", out);
    cr_assert_eq(cor_node_config_load(ru, &config, detail, sizeof(detail)), COR_OK, "%s", detail);
    cr_assert_eq(config.peer_count, 2);
    cr_assert_str_eq(config.peers[0].url, "http://127.0.0.1:9999");
    cr_assert_eq(config.peers[0].key_id, 2);
    cr_assert(config.peers[0].daily_max_out == 0, "a replaced peer takes the new options only");
    cr_assert_eq(config.peers[1].node_id, 156);
    cr_assert_eq(run(out, sizeof(out), "%s peer list --data %s/ru", bin, dir), 0);
    cr_assert_not_null(strstr(out, "http://127.0.0.1:83"), "%s", out);

    /* refusals leave the file byte for byte as it was */
    static char before[8192], after[8192];
    read_file(ru, before, sizeof(before));
    static const char *const bad[] = {
        "--name IR2 --currency IRR --url http://h --public-key " KEY1 " --node-id 98", /* dup id */
        "--name IR2 --currency IRR --url http://h --public-key " KEY1 " --bic MELIIRTHXXX",
        "--name RU2 --currency RUB --url http://h --public-key " KEY1, /* our own node id */
        "--name RU --currency IRR --url http://h --public-key " KEY1 " --node-id 5", /* own name */
        "--name 'a b' --currency IRR --url http://h --public-key " KEY1,
        "--name X --currency XYZ --url http://h --public-key " KEY1,
        "--name X --currency IRR --url ftp://h --public-key " KEY1,
        "--name X --currency IRR --url http://h --public-key abc",
        "--name X --currency IRR --url http://h --public-key @/nonexistent/node.pub",
        "--name X --currency IRR --url http://h --public-key " KEY1 " --daily-max-out -1",
        "--name X --currency IRR --url http://h --public-key " KEY1 " --key-id x",
        "--name X --currency IRR --url http://h --public-key " KEY1 " --colour blue",
        "--name X --currency IRR --url http://h",
        "--name X --currency IRR --url http://h --public-key " KEY1 " --url http://g",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(run(out, sizeof(out), "%s peer add --data %s/ru %s 2>&1", bin, dir, bad[i]), 2,
                     "exit 2 for: %s\n%s", bad[i], out);
        read_file(ru, after, sizeof(after));
        cr_assert_str_eq(before, after, "changed by: %s", bad[i]);
    }
    cr_assert_eq(run(out, sizeof(out),
                     "%s peer add --data %s/nope --name X --currency IRR "
                     "--url http://h --public-key " KEY1 " 2>&1",
                     bin, dir),
                 3, "%s", out);
    cr_assert_eq(run(out, sizeof(out), "%s peer remove --data %s/ru --name ZZ 2>&1", bin, dir), 3);
    cr_assert_eq(run(out, sizeof(out), "%s peer frobnicate --data %s/ru 2>&1", bin, dir), 2);
    cr_assert_eq(run(out, sizeof(out), "%s peer list 2>&1", bin), 2);

    /* remove */
    cr_assert_eq(run(out, sizeof(out), "%s peer remove --data %s/ru --name IR", bin, dir), 0, "%s",
                 out);
    cr_assert_eq(cor_node_config_load(ru, &config, detail, sizeof(detail)), COR_OK, "%s", detail);
    cr_assert_eq(config.peer_count, 1);
    cr_assert_str_eq(config.peers[0].name, "CN");
    cr_assert_eq(run(out, sizeof(out), "%s peer list --data %s/ru --json", bin, dir), 0);
    list = json_loads(out, 0, &error);
    cr_assert_not_null(list, "%s", out);
    cr_assert_eq(json_array_size(json_object_get(list, "peers")), 1);
    json_decref(list);
}
