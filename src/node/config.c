/* The node's INI configuration (see config.h). */
#include "node/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node/currency.h"
#include "node/request.h"

void cor_node_config_defaults(cor_node_config *config)
{
    memset(config, 0, sizeof(*config));
    snprintf(config->bind, sizeof(config->bind), "127.0.0.1");
    config->port = 8080;
    config->http_threads = 2;
    config->payments_max = COR_NODE_PAYMENTS_MAX_DEFAULT;
    config->ledger_accounts_max = 1u << 16;
    config->ledger_transfers_max = 1u << 20;
    config->snapshot_every_ops = 100000;
}

typedef struct config_parse {
    cor_node_config *config;
    char *detail;
    size_t detail_size;
    unsigned seen; /* bit per key, to refuse duplicates */
    int line;
} config_parse;

static bool hex_decode(const char *text, uint8_t *out, size_t size)
{
    if (strlen(text) != size * 2) return false;
    for (size_t i = 0; i < size; i++) {
        unsigned value;
        if (sscanf(text + 2 * i, "%2x", &value) != 1) return false;
        if (!((text[2 * i] >= '0' && text[2 * i] <= '9') ||
              (text[2 * i] >= 'a' && text[2 * i] <= 'f')))
            return false;
        out[i] = (uint8_t)value;
    }
    return true;
}

static bool config_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out)
{
    uint32_t number;
    if (!cor_node_parse_u32(value, &number) || number < min || number > max) return false;
    *out = number;
    return true;
}

/* Returns the key's bit (for duplicate detection) or 0 after a refusal. */
static unsigned config_set(cor_node_config *c, const char *section, const char *key,
                           const char *value)
{
    uint32_t number;
    if (strcmp(section, "node") == 0 && strcmp(key, "name") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof(c->name)) return 0;
        snprintf(c->name, sizeof(c->name), "%s", value);
        return 1u << 0;
    }
    if (strcmp(section, "node") == 0 && strcmp(key, "currency") == 0) {
        const cor_currency *currency = cor_currency_by_alpha(value, strlen(value));
        if (currency == NULL) return 0;
        memcpy(c->currency, currency->alpha, 4);
        c->currency_numeric = currency->numeric;
        return 1u << 1;
    }
    if (strcmp(section, "http") == 0 && strcmp(key, "bind") == 0) {
        struct in_addr address;
        if (strlen(value) >= sizeof(c->bind) || inet_pton(AF_INET, value, &address) != 1) return 0;
        snprintf(c->bind, sizeof(c->bind), "%s", value);
        return 1u << 2;
    }
    if (strcmp(section, "http") == 0 && strcmp(key, "port") == 0) {
        if (!config_u32(value, 1, 65535, &number)) return 0;
        c->port = (uint16_t)number;
        return 1u << 3;
    }
    if (strcmp(section, "http") == 0 && strcmp(key, "threads") == 0) {
        return config_u32(value, 1, 64, &c->http_threads) ? 1u << 4 : 0;
    }
    if (strcmp(section, "limits") == 0 && strcmp(key, "payments_max") == 0) {
        return config_u32(value, 1, COR_NODE_PAYMENTS_MAX_LIMIT, &c->payments_max) ? 1u << 5 : 0;
    }
    if (strcmp(section, "limits") == 0 && strcmp(key, "ledger_accounts_max") == 0) {
        return config_u32(value, 1, 1u << 26, &c->ledger_accounts_max) ? 1u << 6 : 0;
    }
    if (strcmp(section, "limits") == 0 && strcmp(key, "ledger_transfers_max") == 0) {
        return config_u32(value, 1, 1u << 28, &c->ledger_transfers_max) ? 1u << 7 : 0;
    }
    if (strcmp(section, "limits") == 0 && strcmp(key, "prefault") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) return 0;
        c->prefault = strcmp(value, "true") == 0;
        return 1u << 10;
    }
    if (strcmp(section, "journal") == 0 && strcmp(key, "snapshot_every_ops") == 0) {
        return cor_node_parse_u64(value, &c->snapshot_every_ops) ? 1u << 8 : 0;
    }
    if (strcmp(section, "auth") == 0 && strcmp(key, "operator_key_hash") == 0) {
        return hex_decode(value, c->operator_key_hash, sizeof(c->operator_key_hash)) ? 1u << 9 : 0;
    }
    return 0;
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
    config_parse *parse = user;
    unsigned bit = config_set(parse->config, section, key, value);
    if (bit == 0 || (parse->seen & bit) != 0) {
        snprintf(parse->detail, parse->detail_size, "%s [%s] %s = '%s'",
                 bit == 0 ? "unknown key or invalid value" : "duplicate key", section, key, value);
        return 0;
    }
    parse->seen |= bit;
    return 1;
}

#define CONFIG_REQUIRED ((1u << 0) | (1u << 1) | (1u << 9))

cor_error cor_node_config_load(const char *path, cor_node_config *config, char *detail,
                               size_t detail_size)
{
    cor_node_config_defaults(config);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(detail, detail_size, "cannot open '%s': %s", path, strerror(errno));
        return COR_ERR_IO;
    }
    config_parse parse = {.config = config, .detail = detail, .detail_size = detail_size};
    detail[0] = '\0';
    int line = ini_parse_file(file, config_handler, &parse);
    fclose(file);
    if (line != 0) {
        char reason[256];
        snprintf(reason, sizeof(reason), "%s", detail[0] ? detail : "syntax error");
        snprintf(detail, detail_size, "%s:%d: %s", path, line, reason);
        return COR_ERR_PARSE;
    }
    if ((parse.seen & CONFIG_REQUIRED) != CONFIG_REQUIRED) {
        snprintf(detail, detail_size,
                 "%s: [node] name, [node] currency and "
                 "[auth] operator_key_hash are required",
                 path);
        return COR_ERR_PARSE;
    }
    return COR_OK;
}

cor_error cor_node_config_write(const char *path, const cor_node_config *c)
{
    char hash[COR_NODE_KEY_HASH_SIZE_BYTES * 2 + 1];
    for (size_t i = 0; i < COR_NODE_KEY_HASH_SIZE_BYTES; i++) {
        snprintf(hash + 2 * i, 3, "%02x", c->operator_key_hash[i]);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? COR_ERR_EXISTS : COR_ERR_IO;
    FILE *file = fdopen(fd, "w");
    if (file == NULL) {
        close(fd);
        return COR_ERR_IO;
    }
    fprintf(file,
            "# corridor node configuration (INI). See docs/NODE.md.\n\n"
            "[node]\nname = %s\ncurrency = %s\n\n"
            "[http]\nbind = %s\nport = %u\nthreads = %u\n\n"
            "[limits]\npayments_max = %u\nledger_accounts_max = %u\nledger_transfers_max = %u\n"
            "prefault = %s\n\n"
            "[journal]\nsnapshot_every_ops = %llu\n\n"
            "[auth]\n# BLAKE2b-256 of the operator API key's secret; the key itself is not "
            "stored.\noperator_key_hash = %s\n",
            c->name, c->currency, c->bind, c->port, c->http_threads, c->payments_max,
            c->ledger_accounts_max, c->ledger_transfers_max, c->prefault ? "true" : "false",
            (unsigned long long)c->snapshot_every_ops, hash);
    bool ok = fflush(file) == 0 && fsync(fd) == 0;
    ok = fclose(file) == 0 && ok;
    return ok ? COR_OK : COR_ERR_IO;
}
