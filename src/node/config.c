/* The node's INI configuration (see config.h). */
#include "node/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "corridor/iso20022.h"
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
    config->key_id = 1;
}

void cor_node_config_default_bic(const char *currency, char bic[12])
{
    snprintf(bic, 12, "CRDR%c%cXX", currency[0], currency[1]);
}

bool cor_node_config_wire_name_valid(const char *name)
{
    size_t length = strnlen(name, COR_WIRE_NAME_SIZE_MAX + 1);
    if (length == 0 || length > COR_WIRE_NAME_SIZE_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* scheme://host[:port][/prefix]: printable ASCII without spaces, quotes, '?', '#' or a final
 * '/', so "{url}/v1/peer/messages" is always a well-formed address. */
bool cor_node_config_url_valid(const char *url)
{
    size_t length = strnlen(url, COR_NODE_PEER_URL_SIZE_MAX);
    if (length >= COR_NODE_PEER_URL_SIZE_MAX) return false;
    const char *host;
    if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else {
        return false;
    }
    if (*host == '\0' || *host == '/' || *host == ':' || url[length - 1] == '/') return false;
    for (const char *p = url; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 127 || strchr("\"'<>\\^`{|}?#", *p) != NULL) return false;
    }
    return true;
}

int cor_node_config_peer_find(const cor_node_config *config, const char *name)
{
    for (uint32_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, name) == 0) return (int)i;
    }
    return -1;
}

cor_error cor_node_config_check(const cor_node_config *c, char *detail, size_t detail_size,
                                uint32_t *peer_out)
{
    uint32_t unused;
    if (peer_out == NULL) peer_out = &unused;
    *peer_out = UINT32_MAX;
    if (c->node_id == 0) {
        snprintf(detail, detail_size, "[node] node_id must be 1 .. 4294967295");
        return COR_ERR_INVALID;
    }
    if (!cor_iso_bic_valid(c->bic)) {
        snprintf(detail, detail_size, "[node] bic '%s' is not a BIC8 or BIC11", c->bic);
        return COR_ERR_INVALID;
    }
    if (c->peer_count > 0 && !cor_node_config_wire_name_valid(c->name)) {
        snprintf(detail, detail_size,
                 "[node] name '%s' must be 1 to 16 characters of A-Z a-z 0-9 . _ - when peers "
                 "are configured (it names this node on the wire)",
                 c->name);
        return COR_ERR_INVALID;
    }
    for (uint32_t i = 0; i < c->peer_count; i++) {
        const cor_node_peer_config *p = &c->peers[i];
        *peer_out = i;
        if (strcmp(p->name, c->name) == 0) {
            snprintf(detail, detail_size, "[peer %s] has this node's own name", p->name);
            return COR_ERR_INVALID;
        }
        if (p->node_id == c->node_id) {
            snprintf(detail, detail_size, "[peer %s] node_id %u is this node's own node id",
                     p->name, p->node_id);
            return COR_ERR_INVALID;
        }
        if (strcmp(p->bic, c->bic) == 0) {
            snprintf(detail, detail_size, "[peer %s] bic %s is this node's own bic", p->name,
                     p->bic);
            return COR_ERR_INVALID;
        }
        for (uint32_t j = 0; j < i; j++) {
            const cor_node_peer_config *q = &c->peers[j];
            if (strcmp(p->name, q->name) == 0) {
                snprintf(detail, detail_size, "[peer %s] appears twice", p->name);
                return COR_ERR_INVALID;
            }
            if (p->node_id == q->node_id) {
                snprintf(detail, detail_size, "[peer %s] node_id %u is also [peer %s]'s", p->name,
                         p->node_id, q->name);
                return COR_ERR_INVALID;
            }
            if (strcmp(p->bic, q->bic) == 0) {
                snprintf(detail, detail_size, "[peer %s] bic %s is also [peer %s]'s", p->name,
                         p->bic, q->name);
                return COR_ERR_INVALID;
            }
        }
    }
    *peer_out = UINT32_MAX;
    return COR_OK;
}

#define PEER_BIT_NODE_ID    (1u << 0)
#define PEER_BIT_CURRENCY   (1u << 1)
#define PEER_BIT_BIC        (1u << 2)
#define PEER_BIT_URL        (1u << 3)
#define PEER_BIT_PUBLIC_KEY (1u << 4)
#define PEER_BIT_KEY_ID     (1u << 5)
#define PEER_BIT_LIMIT0     (1u << 6) /* .. 1u << 9: the four limits */
#define PEER_REQUIRED       (PEER_BIT_CURRENCY | PEER_BIT_URL | PEER_BIT_PUBLIC_KEY)

typedef struct config_parse {
    cor_node_config *config;
    char *detail;
    size_t detail_size;
    unsigned seen; /* bit per key, to refuse duplicates */
    unsigned peer_seen[COR_WIRE_PEERS_MAX];
    char section[64]; /* the section of the previous key: a change starts a new section */
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
    if (strcmp(section, "node") == 0 && strcmp(key, "node_id") == 0) {
        return config_u32(value, 1, UINT32_MAX, &c->node_id) ? 1u << 11 : 0;
    }
    if (strcmp(section, "node") == 0 && strcmp(key, "bic") == 0) {
        if (strlen(value) >= sizeof(c->bic) || !cor_iso_bic_valid(value)) return 0;
        snprintf(c->bic, sizeof(c->bic), "%s", value);
        return 1u << 12;
    }
    if (strcmp(section, "node") == 0 && strcmp(key, "key_id") == 0) {
        return config_u32(value, 0, UINT32_MAX, &c->key_id) ? 1u << 13 : 0;
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

static unsigned config_limit(const char *value, cor_u128 *out)
{
    return cor_u128_parse(value, strlen(value), out) ? 1u : 0u;
}

/* One key of a [peer NAME] section; returns its bit or 0 after a refusal. */
static unsigned config_peer_set(cor_node_peer_config *p, const char *key, const char *value)
{
    if (strcmp(key, "node_id") == 0) {
        return config_u32(value, 1, UINT32_MAX, &p->node_id) ? PEER_BIT_NODE_ID : 0;
    }
    if (strcmp(key, "currency") == 0) {
        const cor_currency *currency = cor_currency_by_alpha(value, strlen(value));
        if (currency == NULL) return 0;
        memcpy(p->currency, currency->alpha, 4);
        p->currency_numeric = currency->numeric;
        return PEER_BIT_CURRENCY;
    }
    if (strcmp(key, "bic") == 0) {
        if (strlen(value) >= sizeof(p->bic) || !cor_iso_bic_valid(value)) return 0;
        snprintf(p->bic, sizeof(p->bic), "%s", value);
        return PEER_BIT_BIC;
    }
    if (strcmp(key, "url") == 0) {
        if (!cor_node_config_url_valid(value)) return 0;
        snprintf(p->url, sizeof(p->url), "%s", value);
        return PEER_BIT_URL;
    }
    if (strcmp(key, "public_key") == 0) {
        return hex_decode(value, p->public_key, sizeof(p->public_key)) ? PEER_BIT_PUBLIC_KEY : 0;
    }
    if (strcmp(key, "key_id") == 0) {
        return config_u32(value, 0, UINT32_MAX, &p->key_id) ? PEER_BIT_KEY_ID : 0;
    }
    static const char *const limits[4] = {"payment_max_out", "daily_max_out", "payment_max_in",
                                          "daily_max_in"};
    cor_u128 *fields[4] = {&p->payment_max_out, &p->daily_max_out, &p->payment_max_in,
                           &p->daily_max_in};
    for (unsigned i = 0; i < 4; i++) {
        if (strcmp(key, limits[i]) == 0) {
            return config_limit(value, fields[i]) ? PEER_BIT_LIMIT0 << i : 0;
        }
    }
    return 0;
}

static int config_peer_handler(config_parse *parse, const char *section, const char *key,
                               const char *value)
{
    cor_node_config *c = parse->config;
    const char *name = section + 5;
    bool new_section = strcmp(section, parse->section) != 0;
    snprintf(parse->section, sizeof(parse->section), "%s", section);
    int index = cor_node_config_peer_find(c, name);
    if (new_section && index >= 0) {
        snprintf(parse->detail, parse->detail_size, "section [%s] appears twice", section);
        return 0;
    }
    if (index < 0) {
        if (!cor_node_config_wire_name_valid(name)) {
            snprintf(parse->detail, parse->detail_size,
                     "peer name '%s' must be 1 to 16 characters of A-Z a-z 0-9 . _ -", name);
            return 0;
        }
        if (c->peer_count == COR_WIRE_PEERS_MAX) {
            snprintf(parse->detail, parse->detail_size, "more than %u peers", COR_WIRE_PEERS_MAX);
            return 0;
        }
        index = (int)c->peer_count++;
        cor_node_peer_config *p = &c->peers[index];
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->key_id = 1;
        parse->peer_seen[index] = 0;
    }
    unsigned bit = config_peer_set(&c->peers[index], key, value);
    if (bit == 0 || (parse->peer_seen[index] & bit) != 0) {
        snprintf(parse->detail, parse->detail_size, "%s [%s] %s = '%s'",
                 bit == 0 ? "unknown key or invalid value" : "duplicate key", section, key, value);
        return 0;
    }
    parse->peer_seen[index] |= bit;
    return 1;
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
    config_parse *parse = user;
    if (strncmp(section, "peer ", 5) == 0) return config_peer_handler(parse, section, key, value);
    snprintf(parse->section, sizeof(parse->section), "%s", section);
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

/* Line number of "[section]" in the file (0 when not found), for checks made after parsing. */
static int config_section_line(FILE *file, const char *section)
{
    char line[COR_NODE_CONFIG_LINE_MAX + 2];
    rewind(file);
    for (int number = 1; fgets(line, sizeof(line), file) != NULL; number++) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '[') continue;
        size_t length = strlen(section);
        if (strncmp(p + 1, section, length) == 0 && p[1 + length] == ']') return number;
    }
    return 0;
}

/* Before inih reads the file: refuses a line longer than inih's buffer (it would split it in
 * two) and a [peer NAME] header given twice (inih cannot tell two sections of one name from
 * one). Returns the offending line and fills reason, or 0. */
static int config_prescan(FILE *file, char *reason, size_t reason_size)
{
    char line[COR_NODE_CONFIG_LINE_MAX + 2];
    char names[COR_WIRE_PEERS_MAX + 1][COR_WIRE_NAME_SIZE_MAX + 1];
    uint32_t name_count = 0;
    int found = 0;
    for (int number = 1; found == 0 && fgets(line, sizeof(line), file) != NULL; number++) {
        size_t length = strlen(line);
        if (length > 0 && line[length - 1] == '\n') {
            line[--length] = '\0';
        } else if (length > COR_NODE_CONFIG_LINE_MAX) {
            snprintf(reason, reason_size, "line longer than %u characters",
                     COR_NODE_CONFIG_LINE_MAX);
            found = number;
            break;
        }
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ']');
        if (strncmp(p, "[peer ", 6) != 0 || end == NULL) continue;
        size_t name_length = (size_t)(end - (p + 6));
        if (name_length == 0 || name_length > COR_WIRE_NAME_SIZE_MAX) continue; /* refused later */
        for (uint32_t i = 0; i < name_count && found == 0; i++) {
            if (strlen(names[i]) == name_length && memcmp(names[i], p + 6, name_length) == 0) {
                snprintf(reason, reason_size, "section [peer %s] appears twice", names[i]);
                found = number;
            }
        }
        if (found == 0 && name_count < COR_WIRE_PEERS_MAX + 1) {
            memcpy(names[name_count], p + 6, name_length);
            names[name_count++][name_length] = '\0';
        }
    }
    rewind(file);
    return found;
}

/* Defaults that depend on other keys, required peer keys, and the cross checks. */
static cor_error config_finish(FILE *file, const char *path, const config_parse *parse,
                               char *detail, size_t detail_size)
{
    cor_node_config *c = parse->config;
    if ((parse->seen & (1u << 11)) == 0) c->node_id = c->currency_numeric;
    if ((parse->seen & (1u << 12)) == 0) cor_node_config_default_bic(c->currency, c->bic);
    char section[64];
    char reason[320];
    for (uint32_t i = 0; i < c->peer_count; i++) {
        cor_node_peer_config *p = &c->peers[i];
        unsigned seen = parse->peer_seen[i];
        if ((seen & PEER_REQUIRED) != PEER_REQUIRED) {
            snprintf(section, sizeof(section), "peer %s", p->name);
            snprintf(detail, detail_size, "%s:%d: [%s] needs currency, url and public_key", path,
                     config_section_line(file, section), section);
            return COR_ERR_PARSE;
        }
        if ((seen & PEER_BIT_NODE_ID) == 0) p->node_id = p->currency_numeric;
        if ((seen & PEER_BIT_BIC) == 0) cor_node_config_default_bic(p->currency, p->bic);
    }
    uint32_t peer = UINT32_MAX;
    if (cor_node_config_check(c, reason, sizeof(reason), &peer) != COR_OK) {
        if (peer == UINT32_MAX) {
            snprintf(section, sizeof(section), "node");
        } else {
            snprintf(section, sizeof(section), "peer %s", c->peers[peer].name);
        }
        snprintf(detail, detail_size, "%s:%d: %s", path, config_section_line(file, section),
                 reason);
        return COR_ERR_PARSE;
    }
    return COR_OK;
}

cor_error cor_node_config_load(const char *path, cor_node_config *config, char *detail,
                               size_t detail_size)
{
    cor_node_config_defaults(config);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(detail, detail_size, "cannot open '%s': %s", path, strerror(errno));
        return COR_ERR_IO;
    }
    char reason[128];
    int bad_line = config_prescan(file, reason, sizeof(reason));
    if (bad_line != 0) {
        fclose(file);
        snprintf(detail, detail_size, "%s:%d: %s", path, bad_line, reason);
        return COR_ERR_PARSE;
    }
    config_parse *parse = cor_calloc(1, sizeof(*parse));
    if (parse == NULL) {
        fclose(file);
        snprintf(detail, detail_size, "out of memory reading '%s'", path);
        return COR_ERR_NOMEM;
    }
    *parse = (config_parse){.config = config, .detail = detail, .detail_size = detail_size};
    detail[0] = '\0';
    cor_error rc = COR_OK;
    int line = ini_parse_file(file, config_handler, parse);
    if (line != 0) {
        char why[256];
        snprintf(why, sizeof(why), "%s", detail[0] ? detail : "syntax error");
        snprintf(detail, detail_size, "%s:%d: %s", path, line, why);
        rc = COR_ERR_PARSE;
    } else if ((parse->seen & CONFIG_REQUIRED) != CONFIG_REQUIRED) {
        snprintf(detail, detail_size,
                 "%s: [node] name, [node] currency and "
                 "[auth] operator_key_hash are required",
                 path);
        rc = COR_ERR_PARSE;
    } else {
        rc = config_finish(file, path, parse, detail, detail_size);
    }
    cor_free(parse);
    fclose(file);
    return rc;
}

static void config_emit(FILE *file, const cor_node_config *c)
{
    char hash[COR_NODE_KEY_HASH_SIZE_BYTES * 2 + 1];
    for (size_t i = 0; i < COR_NODE_KEY_HASH_SIZE_BYTES; i++) {
        snprintf(hash + 2 * i, 3, "%02x", c->operator_key_hash[i]);
    }
    fprintf(file,
            "# corridor node configuration (INI). See docs/NODE.md.\n\n"
            "[node]\nname = %s\ncurrency = %s\nnode_id = %u\nbic = %s\nkey_id = %u\n\n"
            "[http]\nbind = %s\nport = %u\nthreads = %u\n\n"
            "[limits]\npayments_max = %u\nledger_accounts_max = %u\nledger_transfers_max = %u\n"
            "prefault = %s\n\n"
            "[journal]\nsnapshot_every_ops = %llu\n\n"
            "[auth]\n# BLAKE2b-256 of the operator API key's secret; the key itself is not "
            "stored.\noperator_key_hash = %s\n",
            c->name, c->currency, c->node_id, c->bic, c->key_id, c->bind, c->port, c->http_threads,
            c->payments_max, c->ledger_accounts_max, c->ledger_transfers_max,
            c->prefault ? "true" : "false", (unsigned long long)c->snapshot_every_ops, hash);
    for (uint32_t i = 0; i < c->peer_count; i++) {
        const cor_node_peer_config *p = &c->peers[i];
        char key[COR_WIRE_PUBLIC_KEY_SIZE * 2 + 1];
        for (size_t k = 0; k < COR_WIRE_PUBLIC_KEY_SIZE; k++) {
            snprintf(key + 2 * k, 3, "%02x", p->public_key[k]);
        }
        char limits[4][COR_U128_DECIMAL_SIZE_MAX];
        cor_u128_format(p->payment_max_out, limits[0]);
        cor_u128_format(p->daily_max_out, limits[1]);
        cor_u128_format(p->payment_max_in, limits[2]);
        cor_u128_format(p->daily_max_in, limits[3]);
        fprintf(file,
                "\n[peer %s]\nnode_id = %u\ncurrency = %s\nbic = %s\nurl = %s\npublic_key = %s\n"
                "key_id = %u\npayment_max_out = %s\ndaily_max_out = %s\npayment_max_in = %s\n"
                "daily_max_in = %s\n",
                p->name, p->node_id, p->currency, p->bic, p->url, key, p->key_id, limits[0],
                limits[1], limits[2], limits[3]);
    }
}

static cor_error config_write_fd(int fd, const cor_node_config *config)
{
    FILE *file = fdopen(fd, "w");
    if (file == NULL) {
        close(fd);
        return COR_ERR_IO;
    }
    config_emit(file, config);
    bool ok = fflush(file) == 0 && ferror(file) == 0 && fsync(fd) == 0;
    ok = fclose(file) == 0 && ok;
    return ok ? COR_OK : COR_ERR_IO;
}

cor_error cor_node_config_write(const char *path, const cor_node_config *config)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? COR_ERR_EXISTS : COR_ERR_IO;
    return config_write_fd(fd, config);
}

cor_error cor_node_config_replace(const char *path, const cor_node_config *config)
{
    char temp[PATH_MAX];
    char dir[PATH_MAX];
    int n = snprintf(temp, sizeof(temp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(temp)) return COR_ERR_IO;
    snprintf(dir, sizeof(dir), "%s", path);
    (void)unlink(temp);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return COR_ERR_IO;
    cor_error rc = config_write_fd(fd, config);
    if (rc == COR_OK && rename(temp, path) != 0) rc = COR_ERR_IO;
    if (rc != COR_OK) {
        (void)unlink(temp);
        return rc;
    }
    int dir_fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return COR_ERR_IO;
    bool ok = fsync(dir_fd) == 0;
    close(dir_fd);
    return ok ? COR_OK : COR_ERR_IO;
}
