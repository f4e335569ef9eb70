/*
 * Tree to structs, with validation. Finds the AppHdr and the Document by namespace (never by
 * position: wrappers vary), picks the message definition from the Document namespace and
 * maps each part into the public structs, pointing straight at the tree's texts.
 *
 * Every problem becomes a finding with an ISO ExternalStatusReason1Code (the mapping table
 * is in docs/ISO20022.md). A finding inside a transaction rejects only that transaction
 * (reject_reason); a finding at message level makes cor_iso_parse() return
 * COR_ERR_XML_INVALID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "iso20022/iso_internal.h"

typedef struct map_ctx {
    cor__iso_tree *tree;
    cor_iso_message *message;
    const cor_iso_parser_options *limits;
    uint8_t ns;             /* namespace index of the part being mapped */
    uint32_t part_root;     /* Document or AppHdr node; paths start below it */
    int32_t tx_index;       /* -1 while mapping message-level data */
    const char **tx_reason; /* reject_reason of the transaction being mapped */
    bool group_failed;
    const cor__iso_schema *schema; /* of the part being mapped */
    uint32_t msg_root;             /* FIToFICstmrCdtTrf etc.: transactions hang below it */
    const char *tx_name;           /* element holding one transaction, e.g. "CdtTrfTxInf" */
    const char *tx_holder;         /* NULL: transactions are children of msg_root; else the name of
                                    * the msg_root child that holds them (Undrlyg, Stmt...) */
    uint32_t last_text;            /* node map_text read last, NONE if absent */
} map_ctx;

#define NODE(ctx, index) (&(ctx)->tree->nodes[(index)])
#define NONE             COR_ISO_NODE_NONE

/* ---- navigation ----------------------------------------------------------------------- */

static uint32_t map_child(const map_ctx *ctx, uint32_t node, const char *name)
{
    if (node == NONE) return NONE;
    for (uint32_t child = NODE(ctx, node)->first_child; child != NONE;
         child = NODE(ctx, child)->next_sibling) {
        const cor__iso_node *entry = NODE(ctx, child);
        if (entry->name[0] == name[0] && entry->kind == COR_ISO_NODE_ELEMENT &&
            entry->ns_index == ctx->ns && strcmp(entry->name, name) == 0) {
            return child;
        }
    }
    return NONE;
}

static uint32_t map_next(const map_ctx *ctx, uint32_t node, const char *name)
{
    for (uint32_t next = NODE(ctx, node)->next_sibling; next != NONE;
         next = NODE(ctx, next)->next_sibling) {
        const cor__iso_node *entry = NODE(ctx, next);
        if (entry->name[0] == name[0] && entry->kind == COR_ISO_NODE_ELEMENT &&
            entry->ns_index == ctx->ns && strcmp(entry->name, name) == 0) {
            return next;
        }
    }
    return NONE;
}

static uint32_t map_path2(const map_ctx *ctx, uint32_t node, const char *a, const char *b)
{
    return map_child(ctx, map_child(ctx, node, a), b);
}

static const char *map_attribute(const map_ctx *ctx, uint32_t node, const char *name)
{
    for (uint32_t child = NODE(ctx, node)->first_child; child != NONE;
         child = NODE(ctx, child)->next_sibling) {
        const cor__iso_node *entry = NODE(ctx, child);
        if (entry->kind == COR_ISO_NODE_ATTRIBUTE && strcmp(entry->name, name) == 0) {
            return entry->text;
        }
    }
    return NULL;
}

/* Last node of node's subtree: nodes are in document order, so a subtree is the index
 * range [node, map_subtree_end(node)]. */
static uint32_t map_subtree_end(const map_ctx *ctx, uint32_t node)
{
    uint32_t last = node;
    while (NODE(ctx, last)->last_child != NONE)
        last = NODE(ctx, last)->last_child;
    return last;
}

/* ---- findings ------------------------------------------------------------------------- */

static void map_path_text(const map_ctx *ctx, uint32_t node, const char *leaf, char *out,
                          size_t out_size)
{
    const char *names[COR_ISO_DEPTH_MAX] = {NULL};
    size_t count = 0;
    for (uint32_t at = node; at != NONE && at != ctx->part_root && count < COR_ISO_DEPTH_MAX;
         at = NODE(ctx, at)->parent) {
        names[count++] = NODE(ctx, at)->name;
    }
    /* Drop the message root element (FIToFICstmrCdtTrf...): paths start at GrpHdr. */
    if (count > 0 && ctx->part_root != NONE && NODE(ctx, ctx->part_root)->name[0] == 'D') {
        count--;
    }
    size_t used = 0;
    out[0] = '\0';
    if (ctx->part_root != NONE && strcmp(NODE(ctx, ctx->part_root)->name, "AppHdr") == 0) {
        used = (size_t)snprintf(out, out_size, "AppHdr");
    }
    for (size_t i = count; i > 0; i--) {
        int written = snprintf(out + used, out_size - used, "%s%s", used ? "/" : "", names[i - 1]);
        if (written < 0 || (size_t)written >= out_size - used) return;
        used += (size_t)written;
    }
    if (leaf != NULL) snprintf(out + used, out_size - used, "%s%s", used ? "/" : "", leaf);
}

static void map_finding(map_ctx *ctx, uint32_t node, const char *leaf, const char *reason,
                        const char *text)
{
    char path[COR_ISO_FINDING_PATH_SIZE];
    map_path_text(ctx, node, leaf, path, sizeof(path));
    cor__iso_finding_add(ctx->message, ctx->tx_index, reason, path, "%s", text);
    if (ctx->tx_index < 0) {
        ctx->group_failed = true;
    } else if (*ctx->tx_reason == NULL) {
        *ctx->tx_reason = reason; /* reason codes are string literals: static lifetime */
        ctx->message->rejected_tx_count++;
    }
}

/* ---- schema check --------------------------------------------------------------------- */

/* Whether node holds one transaction (checked in its own pass, at transaction level). */
static bool map_schema_is_tx(const map_ctx *ctx, uint32_t node)
{
    const cor__iso_node *entry = NODE(ctx, node);
    if (ctx->tx_name == NULL || strcmp(entry->name, ctx->tx_name) != 0) return false;
    uint32_t parent = entry->parent;
    if (ctx->tx_holder == NULL) return parent == ctx->msg_root;
    return parent != NONE && NODE(ctx, parent)->parent == ctx->msg_root &&
           strcmp(NODE(ctx, parent)->name, ctx->tx_holder) == 0;
}

/* FF01 finding whose text is problem followed by name. */
static void map_schema_fail(map_ctx *ctx, uint32_t node, const char *leaf, const char *problem,
                            const char *name)
{
    char text[COR_ISO_FINDING_TEXT_SIZE];
    snprintf(text, sizeof(text), "%s%s", problem, name);
    map_finding(ctx, node, leaf, "FF01", text);
}

static uint32_t map_schema_find(const cor__iso_particle *particles, uint32_t from, uint32_t to,
                                const char *name)
{
    for (uint32_t i = from; i < to; i++) {
        if (particles[i].name[0] == name[0] && strcmp(particles[i].name, name) == 0) return i;
    }
    return UINT32_MAX;
}

/* Element children of node against a sequence: known names, schema order, cardinality,
 * required particles. Types each matched child. Stops at the first problem. */
static void map_schema_sequence(map_ctx *ctx, uint32_t node, const cor__iso_type *type)
{
    const cor__iso_particle *particles = ctx->schema->particles + type->first;
    uint32_t at = 0, count = 0;
    const char *skipped = NULL; /* first required particle jumped over */
    for (uint32_t child = NODE(ctx, node)->first_child; child != NONE;
         child = NODE(ctx, child)->next_sibling) {
        cor__iso_node *entry = NODE(ctx, child);
        if (entry->kind != COR_ISO_NODE_ELEMENT) continue;
        if (entry->ns_index != ctx->ns) {
            map_schema_fail(ctx, node, entry->name,
                            "element from another namespace: ", entry->name);
            return;
        }
        if (at < type->count && strcmp(particles[at].name, entry->name) == 0) {
            count++;
        } else {
            uint32_t next = map_schema_find(particles, at + 1u, type->count, entry->name);
            if (next == UINT32_MAX) {
                bool earlier = map_schema_find(particles, 0, at, entry->name) != UINT32_MAX;
                map_schema_fail(ctx, node, entry->name,
                                earlier ? "element out of order, after " : "unexpected element",
                                earlier && at < type->count ? particles[at].name : "");
                return;
            }
            for (uint32_t r = at; r < next && skipped == NULL; r++) {
                if ((r == at ? count : 0u) < particles[r].min) skipped = particles[r].name;
            }
            at = next;
            count = 1;
        }
        if (particles[at].max != COR_ISO_SCHEMA_UNBOUNDED && count > particles[at].max) {
            map_schema_fail(ctx, node, entry->name, "element repeated more often than allowed", "");
            return;
        }
        entry->schema_type = particles[at].type;
    }
    for (uint32_t r = at; r < type->count && skipped == NULL; r++) {
        if ((r == at ? count : 0u) < particles[r].min) skipped = particles[r].name;
    }
    if (skipped != NULL) map_finding(ctx, node, skipped, "FF01", "required element missing");
}

/* Element children of node against a choice: one alternative, repeated at most its max. */
static void map_schema_choice(map_ctx *ctx, uint32_t node, const cor__iso_type *type)
{
    const cor__iso_particle *particles = ctx->schema->particles + type->first;
    uint32_t chosen = UINT32_MAX, count = 0;
    for (uint32_t child = NODE(ctx, node)->first_child; child != NONE;
         child = NODE(ctx, child)->next_sibling) {
        cor__iso_node *entry = NODE(ctx, child);
        if (entry->kind != COR_ISO_NODE_ELEMENT) continue;
        uint32_t index = entry->ns_index == ctx->ns
                             ? map_schema_find(particles, 0, type->count, entry->name)
                             : UINT32_MAX;
        if (index == UINT32_MAX) {
            map_schema_fail(ctx, node, entry->name, "unexpected element", "");
            return;
        }
        if (chosen != UINT32_MAX && index != chosen) {
            map_schema_fail(ctx, node, NULL, "choice allows one element, also got ", entry->name);
            return;
        }
        chosen = index;
        count++;
        if (particles[index].max != COR_ISO_SCHEMA_UNBOUNDED && count > particles[index].max) {
            map_schema_fail(ctx, node, entry->name, "element repeated", "");
            return;
        }
        entry->schema_type = particles[index].type;
    }
    if (chosen == UINT32_MAX && type->count > 0 && particles[0].min > 0) {
        map_schema_fail(ctx, node, NULL, "one element of the choice required, e.g. ",
                        particles[0].name);
    }
}

static void map_schema_text(map_ctx *ctx, uint32_t node, const cor__iso_type *type)
{
    const cor__iso_node *entry = NODE(ctx, node);
    if (entry->has_element_child) {
        map_schema_fail(ctx, node, NULL, "takes text, not elements: ", entry->name);
        return;
    }
    if (entry->checked) return;
    const char *problem = cor__iso_text_check(type, entry->text);
    if (problem != NULL) map_schema_fail(ctx, node, NULL, problem, "");
}

static void map_schema_element(map_ctx *ctx, uint32_t node, const cor__iso_type *type)
{
    switch (type->kind) {
    case COR_ISO_SCHEMA_SEQUENCE:
    case COR_ISO_SCHEMA_CHOICE:
        if (NODE(ctx, node)->text[0] != '\0') {
            map_schema_fail(ctx, node, NULL, "text not allowed in ", NODE(ctx, node)->name);
        } else if (type->kind == COR_ISO_SCHEMA_SEQUENCE) {
            map_schema_sequence(ctx, node, type);
        } else {
            map_schema_choice(ctx, node, type);
        }
        break;
    case COR_ISO_SCHEMA_SIMPLE:
        map_schema_text(ctx, node, type);
        break;
    case COR_ISO_SCHEMA_SIMPLE_CONTENT: {
        if (NODE(ctx, node)->checked) break;
        const char *currency = map_attribute(ctx, node, "Ccy");
        if (currency == NULL || !cor__iso_pattern_match("[A-Z]{3,3}", currency)) {
            map_finding(ctx, node, NULL, "AM11", "Ccy attribute missing or malformed");
            break;
        }
        map_schema_text(ctx, node, &ctx->schema->types[type->content]);
        break;
    }
    default:
        break; /* xs:any: signatures and supplementary data are not ours to judge */
    }
}

/* Checks the subtree of start (whose schema_type is set) in document order: each element is
 * checked against its type, which typed its children. Without `whole`, transaction
 * subtrees are skipped: they are checked in their own pass so findings land on them. */
static void map_schema_pass(map_ctx *ctx, uint32_t start, bool whole)
{
    if (ctx->schema == NULL || NODE(ctx, start)->schema_type == COR_ISO_SCHEMA_TYPE_NONE) return;
    uint32_t end = map_subtree_end(ctx, start);
    for (uint32_t i = start; i <= end; i++) {
        const cor__iso_node *entry = NODE(ctx, i);
        if (entry->kind != COR_ISO_NODE_ELEMENT) continue;
        if (!whole && i != start && map_schema_is_tx(ctx, i)) {
            i = map_subtree_end(ctx, i);
            continue;
        }
        if (entry->schema_type == COR_ISO_SCHEMA_TYPE_NONE) continue;
        COR_ASSERT(entry->schema_type < ctx->schema->type_count);
        map_schema_element(ctx, i, &ctx->schema->types[entry->schema_type]);
    }
}

/* Types node from its path below the part root (a transaction checked on its own). */
static void map_schema_type_of(map_ctx *ctx, uint32_t node)
{
    if (ctx->schema == NULL) return;
    uint32_t chain[COR_ISO_DEPTH_MAX];
    uint32_t depth = 0;
    for (uint32_t at = node; at != ctx->part_root && at != NONE && depth < COR_ISO_DEPTH_MAX;
         at = NODE(ctx, at)->parent) {
        chain[depth++] = at;
    }
    uint16_t type = 0; /* the part root's type */
    for (uint32_t i = depth; i > 0 && type != COR_ISO_SCHEMA_TYPE_NONE; i--) {
        const cor__iso_type *parent = &ctx->schema->types[type];
        bool container =
            parent->kind == COR_ISO_SCHEMA_SEQUENCE || parent->kind == COR_ISO_SCHEMA_CHOICE;
        uint32_t index = container ? map_schema_find(ctx->schema->particles + parent->first, 0,
                                                     parent->count, NODE(ctx, chain[i - 1])->name)
                                   : UINT32_MAX;
        type = index == UINT32_MAX ? COR_ISO_SCHEMA_TYPE_NONE
                                   : ctx->schema->particles[parent->first + index].type;
    }
    NODE(ctx, node)->schema_type = type;
}

/* ---- typed fields --------------------------------------------------------------------- */

/* Marks the node map_text read last as fully validated by a typed check at least as strict
 * as its XSD facets, so the schema pass does not check its text again (a measured 15% of
 * the parse cost). */
static const char *map_checked(map_ctx *ctx, const char *text)
{
    if (text != NULL && ctx->last_text != NONE) NODE(ctx, ctx->last_text)->checked = 1;
    return text;
}

/* Text of child `name`, checked for presence (when required) and length in characters. */
static const char *map_text(map_ctx *ctx, uint32_t node, const char *name, size_t max_chars,
                            bool required)
{
    uint32_t child = map_child(ctx, node, name);
    ctx->last_text = child;
    if (child == NONE) {
        if (required) map_finding(ctx, node, name, "FF01", "required element missing");
        return NULL;
    }
    const char *text = NODE(ctx, child)->text;
    size_t length = cor__iso_utf8_length(text);
    if (length == 0 || length > max_chars) {
        char message[64];
        snprintf(message, sizeof(message), "text must be 1 to %zu characters", max_chars);
        map_finding(ctx, node, name, "FF01", message);
        return NULL;
    }
    return text;
}

static const char *map_code(map_ctx *ctx, uint32_t node, const char *name, bool required,
                            const char *const *allowed)
{
    const char *text = map_text(ctx, node, name, 4, required);
    if (text == NULL) return NULL;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(text, allowed[i]) == 0) return map_checked(ctx, text);
    }
    map_finding(ctx, node, name, strcmp(name, "ChrgBr") == 0 ? "BE19" : "FF01",
                "code not in the allowed list");
    return NULL;
}

static const char *map_date(map_ctx *ctx, uint32_t node, const char *name, bool required)
{
    const char *text = map_text(ctx, node, name, 10, required);
    if (text != NULL && !cor_iso_date_valid(text)) {
        map_finding(ctx, node, name, "DT01", "invalid date (YYYY-MM-DD)");
        return NULL;
    }
    return map_checked(ctx, text);
}

static const char *map_datetime(map_ctx *ctx, uint32_t node, const char *name, bool required,
                                const char *reason)
{
    const char *text = map_text(ctx, node, name, 35, required);
    if (text != NULL && !cor_iso_datetime_valid(text)) {
        map_finding(ctx, node, name, reason, "invalid date and time");
        return NULL;
    }
    return map_checked(ctx, text);
}

/* DateAndDateTime2Choice: Dt or DtTm. */
static const char *map_date_choice(map_ctx *ctx, uint32_t node, const char *name, bool required)
{
    uint32_t choice = map_child(ctx, node, name);
    if (choice == NONE) {
        if (required) map_finding(ctx, node, name, "FF01", "required element missing");
        return NULL;
    }
    if (map_child(ctx, choice, "Dt") != NONE) return map_date(ctx, choice, "Dt", true);
    return map_datetime(ctx, choice, "DtTm", true, "DT01");
}

static const char *map_uetr(map_ctx *ctx, uint32_t node, const char *name)
{
    const char *text = map_text(ctx, node, name, 36, false);
    if (text != NULL && !cor_iso_uetr_valid(text)) {
        map_finding(ctx, node, name, "FF01", "uetr is not a lowercase uuid version 4");
        return NULL;
    }
    return map_checked(ctx, text);
}

static const char *map_bic(map_ctx *ctx, uint32_t node, const char *name)
{
    const char *text = map_text(ctx, node, name, 35, false);
    if (text != NULL && !cor_iso_bic_valid(text)) {
        map_finding(ctx, node, name, "RC01", "bic has an incorrect format");
        return NULL;
    }
    return map_checked(ctx, text);
}

static const char *map_lei(map_ctx *ctx, uint32_t node, const char *name, const char *reason)
{
    const char *text = map_text(ctx, node, name, 20, false);
    if (text != NULL && !cor_iso_lei_valid(text)) {
        map_finding(ctx, node, name, reason, "lei format or check digits wrong");
        return NULL;
    }
    return map_checked(ctx, text);
}

static const char *map_country(map_ctx *ctx, uint32_t node, const char *name)
{
    const char *text = map_text(ctx, node, name, 2, false);
    if (text != NULL &&
        (strlen(text) != 2 || text[0] < 'A' || text[0] > 'Z' || text[1] < 'A' || text[1] > 'Z')) {
        map_finding(ctx, node, name, "BE09", "country code is not two capital letters");
        return NULL;
    }
    return map_checked(ctx, text);
}

static bool map_currency(map_ctx *ctx, uint32_t node, const char *leaf, const char *code)
{
    if (code == NULL || cor_iso_currency_exponent(code) < 0) {
        map_finding(ctx, node, leaf, "AM11", "currency missing or not an iso 4217 code");
        return false;
    }
    return true;
}

/* ActiveCurrencyAndAmount: text amount + Ccy attribute. */
static void map_amount(map_ctx *ctx, uint32_t node, const char *name, bool required,
                       cor_iso_amount *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t child = map_child(ctx, node, name);
    if (child == NONE) {
        if (required) map_finding(ctx, node, name, "AM12", "amount missing");
        return;
    }
    const char *currency = map_attribute(ctx, child, "Ccy");
    if (!map_currency(ctx, node, name, currency)) return;
    const char *text = NODE(ctx, child)->text;
    cor_u128 minor = 0;
    if (!cor_iso_amount_parse(text, strlen(text), currency, &minor)) {
        cor_u128 ignored = 0;
        bool decimals = cor_iso_amount_parse(text, strlen(text), "XPD", &ignored) ||
                        cor_iso_amount_parse(text, strlen(text), "CLF", &ignored);
        map_finding(ctx, node, name, decimals ? "CH20" : "AM12",
                    decimals ? "more decimals than the currency has" : "invalid amount");
        return;
    }
    if (minor == 0 && required) {
        map_finding(ctx, node, name, "AM01", "amount is zero");
        return;
    }
    out->amount_minor = minor;
    memcpy(out->currency, currency, 4);
    NODE(ctx, child)->checked = 1; /* value, digits and Ccy all checked above */
}

static void map_agent(map_ctx *ctx, uint32_t parent, const char *name, bool required,
                      cor_iso_agent *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t agent = map_child(ctx, parent, name);
    if (agent == NONE) {
        if (required) map_finding(ctx, parent, name, "FF01", "required element missing");
        return;
    }
    uint32_t fin = map_child(ctx, agent, "FinInstnId");
    if (fin == NONE) {
        map_finding(ctx, agent, "FinInstnId", "FF01", "required element missing");
        return;
    }
    out->bic = map_bic(ctx, fin, "BICFI");
    uint32_t member = map_child(ctx, fin, "ClrSysMmbId");
    if (member != NONE) {
        uint32_t system = map_child(ctx, member, "ClrSysId");
        if (system != NONE) out->clearing_system = map_text(ctx, system, "Cd", 5, false);
        out->member_id = map_text(ctx, member, "MmbId", 35, true);
        if (out->clearing_system != NULL && strcmp(out->clearing_system, "USABA") == 0 &&
            out->member_id != NULL && !cor__iso_aba_valid(out->member_id)) {
            map_finding(ctx, member, "MmbId", "RC08", "aba routing number check digit wrong");
        }
    }
    out->lei = map_lei(ctx, fin, "LEI", "RC02");
    out->name = map_text(ctx, fin, "Nm", 140, false);
    if (out->bic == NULL && out->member_id == NULL && out->lei == NULL && out->name == NULL &&
        map_child(ctx, fin, "Othr") == NONE && !ctx->group_failed &&
        (ctx->tx_index < 0 || *ctx->tx_reason == NULL)) {
        map_finding(ctx, fin, NULL, "RC02", "financial institution not identified");
    }
}

static void map_party(map_ctx *ctx, uint32_t parent, const char *name, bool institution,
                      const char *missing_reason, cor_iso_party *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t party = map_child(ctx, parent, name);
    if (party == NONE) {
        map_finding(ctx, parent, name, "FF01", "required element missing");
        return;
    }
    if (institution) {
        uint32_t fin = map_child(ctx, party, "FinInstnId");
        if (fin == NONE) {
            map_finding(ctx, party, "FinInstnId", "FF01", "required element missing");
            return;
        }
        out->bic = map_bic(ctx, fin, "BICFI");
        out->lei = map_lei(ctx, fin, "LEI", "RC02");
        out->name = map_text(ctx, fin, "Nm", 140, false);
        out->country = map_country(ctx, map_child(ctx, fin, "PstlAdr"), "Ctry");
        return;
    }
    out->name = map_text(ctx, party, "Nm", 140, false);
    out->country = map_country(ctx, map_child(ctx, party, "PstlAdr"), "Ctry");
    uint32_t org = map_path2(ctx, party, "Id", "OrgId");
    out->bic = map_bic(ctx, org, "AnyBIC");
    out->lei = map_lei(ctx, org, "LEI", missing_reason[1] == 'R' ? "BE16" : "BE17");
    if (out->name == NULL && map_child(ctx, party, "Id") == NONE) {
        map_finding(ctx, party, NULL, missing_reason, "name or identification required");
    }
}

static void map_account(map_ctx *ctx, uint32_t parent, const char *name, const char *reason,
                        cor_iso_account *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t account = map_child(ctx, parent, name);
    if (account == NONE) return;
    uint32_t id = map_child(ctx, account, "Id");
    if (id == NONE) {
        map_finding(ctx, account, "Id", reason, "account identification missing");
        return;
    }
    uint32_t iban = map_child(ctx, id, "IBAN");
    uint32_t other = map_child(ctx, id, "Othr");
    if ((iban == NONE) == (other == NONE)) {
        map_finding(ctx, id, NULL, reason, "account id needs exactly one of IBAN and Othr");
        return;
    }
    if (iban != NONE) {
        out->iban = map_text(ctx, id, "IBAN", 34, true);
        if (out->iban != NULL && !cor_iso_iban_valid(out->iban)) {
            map_finding(ctx, id, "IBAN", reason, "iban format or check digits wrong");
            out->iban = NULL;
        }
    } else {
        out->other_id = map_text(ctx, other, "Id", 34, true);
    }
    uint32_t currency = map_child(ctx, account, "Ccy");
    if (currency != NONE) {
        out->currency = NODE(ctx, currency)->text;
        if (!map_currency(ctx, account, "Ccy", out->currency)) out->currency = NULL;
    }
}

/* ---- group level ---------------------------------------------------------------------- */

static const char *const map_settlement_methods[] = {"INDA", "INGA", "COVE", "CLRG", NULL};
static const char *const map_charge_bearers[] = {"DEBT", "CRED", "SHAR", "SLEV", NULL};

static void map_group_header(map_ctx *ctx, uint32_t root, bool with_settlement)
{
    cor_iso_group *group = &ctx->message->group;
    uint32_t header = map_child(ctx, root, "GrpHdr");
    if (header == NONE) {
        map_finding(ctx, root, "GrpHdr", "FF01", "required element missing");
        return;
    }
    group->msg_id = map_text(ctx, header, "MsgId", 35, true);
    group->created = map_datetime(ctx, header, "CreDtTm", true, "DT02");
    if (with_settlement) {
        group->tx_count_text = map_text(ctx, header, "NbOfTxs", 15, true);
        group->control_sum = map_text(ctx, header, "CtrlSum", 19, false);
        map_amount(ctx, header, "TtlIntrBkSttlmAmt", false, &group->total_settlement);
        if (group->total_settlement.currency[0] == '\0') {
            map_amount(ctx, header, "TtlRtrdIntrBkSttlmAmt", false, &group->total_settlement);
        }
        group->settlement_date = map_date(ctx, header, "IntrBkSttlmDt", false);
        uint32_t settlement = map_child(ctx, header, "SttlmInf");
        if (settlement == NONE) {
            map_finding(ctx, header, "SttlmInf", "FF01", "required element missing");
        } else {
            group->settlement_method =
                map_code(ctx, settlement, "SttlmMtd", true, map_settlement_methods);
            group->clearing_system =
                map_text(ctx, map_child(ctx, settlement, "ClrSys"), "Cd", 3, false);
        }
    }
    map_agent(ctx, header, "InstgAgt", false, &group->instructing_agent);
    map_agent(ctx, header, "InstdAgt", false, &group->instructed_agent);
}

/* Parses an XSD decimal as written ("1250.5") into units of 10^-17; false on anything
 * else, more than 18 integer or 17 fraction digits. Exact: no floating point. */
static bool map_decimal_e17(const char *text, cor_u128 *out)
{
    if (text == NULL) return false;
    const char *point = strchr(text, '.');
    size_t whole = point != NULL ? (size_t)(point - text) : strlen(text);
    size_t fraction = point != NULL ? strlen(point + 1) : 0;
    cor_u128 value = 0, fraction_value = 0;
    if (whole == 0 || whole > 18 || fraction > 17) return false;
    if (!cor_u128_parse(text, whole, &value)) return false;
    if (point != NULL && !cor_u128_parse(point + 1, fraction, &fraction_value)) return false;
    for (int e = 0; e < 17; e++)
        value *= 10u;
    for (size_t e = fraction; e < 17; e++)
        fraction_value *= 10u;
    *out = value + fraction_value; /* < 10^35: fits */
    return true;
}

/*
 * NbOfTxs must equal the transactions; CtrlSum the sum of their amounts; a
 * TtlIntrBkSttlmAmt their sum when they share its currency. Sums use the amounts as
 * written, so that a transaction rejected for its own reason (say, JPY with decimals) does
 * not also make the whole message fail its totals. Amounts and sums are compared in
 * 10^-17 units; a sum that would pass 128 bits cannot match any total and is reported.
 */
static void map_group_totals(map_ctx *ctx, uint32_t root, const char *tx_name,
                             const char *amount_name, uint32_t count)
{
    const cor_iso_group *group = &ctx->message->group;
    uint32_t header = map_child(ctx, root, "GrpHdr");
    cor_u128 declared = 0;
    if (group->tx_count_text != NULL &&
        (!cor_u128_parse(group->tx_count_text, strlen(group->tx_count_text), &declared) ||
         declared != count)) {
        map_finding(ctx, header, "NbOfTxs", "AM18", "NbOfTxs does not match the transactions");
    }
    cor_u128 sum = 0;
    bool sum_ok = true, same_currency = true;
    const char *first_currency = NULL;
    for (uint32_t node = map_child(ctx, root, tx_name); node != NONE;
         node = map_next(ctx, node, tx_name)) {
        uint32_t amount = map_child(ctx, node, amount_name);
        cor_u128 value = 0;
        if (amount == NONE || !map_decimal_e17(NODE(ctx, amount)->text, &value) ||
            value > COR_U128_MAX - sum) {
            sum_ok = false;
            continue;
        }
        sum += value;
        const char *currency = map_attribute(ctx, amount, "Ccy");
        if (first_currency == NULL) first_currency = currency;
        if (currency == NULL || strcmp(first_currency, currency) != 0) same_currency = false;
    }
    cor_u128 control = 0;
    if (group->control_sum != NULL &&
        (!sum_ok || !map_decimal_e17(group->control_sum, &control) || control != sum)) {
        map_finding(ctx, header, "CtrlSum", "AM10",
                    "CtrlSum does not equal the sum of the amounts");
    }
    const cor_iso_amount *total = &group->total_settlement;
    if (total->currency[0] == '\0' || !same_currency || first_currency == NULL) return;
    cor_u128 scaled = total->amount_minor;
    for (int e = cor_iso_currency_exponent(total->currency); e < 17; e++)
        scaled *= 10u;
    if (!sum_ok || strcmp(total->currency, first_currency) != 0 || scaled != sum) {
        map_finding(ctx, header, "TtlIntrBkSttlmAmt", "AM09",
                    "total settlement amount does not equal the transactions");
    }
}

/* ---- transactions --------------------------------------------------------------------- */

static void map_tx_begin(map_ctx *ctx, uint32_t index, const char **reason)
{
    ctx->tx_index = (int32_t)index;
    ctx->tx_reason = reason;
}

static void map_tx_end(map_ctx *ctx)
{
    ctx->tx_index = -1;
    ctx->tx_reason = NULL;
}

static void map_credit_transfer(map_ctx *ctx, uint32_t node, bool customer,
                                cor_iso_credit_transfer *tx)
{
    uint32_t payment = map_child(ctx, node, "PmtId");
    if (payment == NONE) {
        map_finding(ctx, node, "PmtId", "FF01", "required element missing");
    } else {
        tx->instruction_id = map_text(ctx, payment, "InstrId", 35, false);
        tx->end_to_end_id = map_text(ctx, payment, "EndToEndId", 35, false);
        if (tx->end_to_end_id == NULL) {
            map_finding(ctx, payment, "EndToEndId", "FF08", "end to end id missing or invalid");
        }
        tx->transaction_id = map_text(ctx, payment, "TxId", 35, false);
        tx->uetr = map_uetr(ctx, payment, "UETR");
    }
    map_amount(ctx, node, "IntrBkSttlmAmt", true, &tx->settlement_amount);
    tx->settlement_date = map_date(ctx, node, "IntrBkSttlmDt", false);
    if (customer) {
        map_amount(ctx, node, "InstdAmt", false, &tx->instructed_amount);
        /* Left unchecked: the schema pass checks it as a BaseOneRate decimal. */
        tx->exchange_rate = map_text(ctx, node, "XchgRate", 64, false);
        tx->charge_bearer = map_code(ctx, node, "ChrgBr", true, map_charge_bearers);
    }
    map_agent(ctx, node, "InstgAgt", false, &tx->instructing_agent);
    map_agent(ctx, node, "InstdAgt", false, &tx->instructed_agent);
    map_party(ctx, node, "Dbtr", !customer, "RR02", &tx->debtor);
    map_account(ctx, node, "DbtrAcct", "AC02", &tx->debtor_account);
    map_agent(ctx, node, "DbtrAgt", customer, &tx->debtor_agent);
    map_agent(ctx, node, "CdtrAgt", customer, &tx->creditor_agent);
    map_party(ctx, node, "Cdtr", !customer, "RR03", &tx->creditor);
    map_account(ctx, node, "CdtrAcct", "AC03", &tx->creditor_account);
    for (uint32_t next = map_child(ctx, node, "InstrForNxtAgt");
         next != NONE && tx->instruction_for_next_agent == NULL;
         next = map_next(ctx, next, "InstrForNxtAgt")) {
        if (map_child(ctx, next, "InstrInf") == NONE) continue;
        tx->instruction_for_next_agent =
            map_checked(ctx, map_text(ctx, next, "InstrInf", 140, true));
        if (tx->instruction_for_next_agent == NULL) break; /* the finding is recorded */
    }
    tx->purpose = map_text(ctx, map_child(ctx, node, "Purp"), "Cd", 4, false);
    tx->remittance = map_text(ctx, map_child(ctx, node, "RmtInf"), "Ustrd", 140, false);
}

static int map_compare_text(const void *left, const void *right)
{
    const char *const *a = left;
    const char *const *b = right;
    return strcmp(*a, *b);
}

/* Rejects later transactions that repeat a UETR or InstrId of an earlier one (DUPL/DU05).
 * Sorting pointers keeps this O(n log n) for the largest batch. */
static cor_error map_duplicates(map_ctx *ctx, uint32_t root, const char *tx_name)
{
    cor_iso_message *message = ctx->message;
    if (message->tx_count < 2) return COR_OK;
    const char **keys = cor_calloc(message->tx_count, sizeof(*keys));
    if (keys == NULL) return COR_ERR_NOMEM;
    for (int field = 0; field < 2; field++) {
        uint32_t count = 0;
        for (uint32_t i = 0; i < message->tx_count; i++) {
            const cor_iso_credit_transfer *tx = &message->transfers[i];
            const char *key = field == 0 ? tx->uetr : tx->instruction_id;
            if (key != NULL) keys[count++] = key;
        }
        qsort(keys, count, sizeof(*keys), map_compare_text);
        for (uint32_t i = 1; i < count; i++) {
            if (strcmp(keys[i - 1], keys[i]) != 0) continue;
            /* Reject every transaction after the first that carries this key. */
            bool first = true;
            uint32_t node = map_child(ctx, root, tx_name);
            for (uint32_t t = 0; t < message->tx_count; t++, node = map_next(ctx, node, tx_name)) {
                cor_iso_credit_transfer *tx = &message->transfers[t];
                const char *key = field == 0 ? tx->uetr : tx->instruction_id;
                if (key == NULL || strcmp(key, keys[i]) != 0) continue;
                if (first) {
                    first = false;
                    continue;
                }
                map_tx_begin(ctx, t, &tx->reject_reason);
                map_finding(ctx, map_child(ctx, node, "PmtId"), field == 0 ? "UETR" : "InstrId",
                            field == 0 ? "DUPL" : "DU05", "duplicate of an earlier transaction");
                map_tx_end(ctx);
            }
            while (i + 1 < count && strcmp(keys[i], keys[i + 1]) == 0)
                i++;
        }
    }
    cor_free(keys);
    return COR_OK;
}

static uint32_t map_count(const map_ctx *ctx, uint32_t parent, const char *name)
{
    uint32_t count = 0;
    for (uint32_t node = map_child(ctx, parent, name); node != NONE;
         node = map_next(ctx, node, name)) {
        count++;
    }
    return count;
}

static cor_error map_reserve(map_ctx *ctx, uint32_t count, uint32_t root, const char *name)
{
    if (count > ctx->limits->tx_count_max) {
        map_finding(ctx, root, name, "FF01", "too many transactions for one message");
        return COR_ERR_LIMIT;
    }
    ctx->message->tx_count = count;
    return cor__iso_message_reserve(ctx->message, count);
}

static cor_error map_credit_transfers(map_ctx *ctx, uint32_t root, bool customer)
{
    map_group_header(ctx, root, true);
    uint32_t count = map_count(ctx, root, "CdtTrfTxInf");
    cor_error rc = map_reserve(ctx, count, root, "CdtTrfTxInf");
    if (rc != COR_OK) return rc;
    if (count == 0) map_finding(ctx, root, "CdtTrfTxInf", "FF01", "required element missing");
    uint32_t node = map_child(ctx, root, "CdtTrfTxInf");
    for (uint32_t i = 0; i < count; i++, node = map_next(ctx, node, "CdtTrfTxInf")) {
        cor_iso_credit_transfer *tx = &ctx->message->transfers[i];
        map_tx_begin(ctx, i, &tx->reject_reason);
        map_credit_transfer(ctx, node, customer, tx);
        map_schema_type_of(ctx, node);
        map_schema_pass(ctx, node, true);
        map_tx_end(ctx);
    }
    map_group_totals(ctx, root, "CdtTrfTxInf", "IntrBkSttlmAmt", count);
    return map_duplicates(ctx, root, "CdtTrfTxInf");
}

/* ---- status, return, cancellation ----------------------------------------------------- */

static void map_original_ids(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    uint32_t group = map_child(ctx, node, "OrgnlGrpInf");
    if (group != NONE) {
        tx->original_msg_id = map_text(ctx, group, "OrgnlMsgId", 35, true);
        tx->original_msg_name = map_text(ctx, group, "OrgnlMsgNmId", 35, true);
    }
    tx->original_instruction_id = map_text(ctx, node, "OrgnlInstrId", 35, false);
    tx->original_end_to_end_id = map_text(ctx, node, "OrgnlEndToEndId", 35, false);
    tx->original_transaction_id = map_text(ctx, node, "OrgnlTxId", 35, false);
    tx->original_uetr = map_uetr(ctx, node, "OrgnlUETR");
}

/* Rsn/Cd (or Rsn/Prtry) of the first reason block `block`; MS03 when required and absent. */
static void map_reason(map_ctx *ctx, uint32_t node, const char *block, bool required,
                       cor_iso_related_tx *tx)
{
    uint32_t info = map_child(ctx, node, block);
    uint32_t reason = map_child(ctx, info, "Rsn");
    if (reason != NONE) {
        tx->reason = map_text(ctx, reason, "Cd", 4, false);
        if (tx->reason == NULL && map_child(ctx, reason, "Prtry") == NONE) {
            map_finding(ctx, reason, NULL, "FF01", "reason needs Cd or Prtry");
        }
    }
    if (info != NONE) tx->additional_info = map_text(ctx, info, "AddtlInf", 105, false);
    if (required && reason == NONE) {
        map_finding(ctx, node, block, "MS03", "reason required but not given");
    }
}

/* OrgnlTxRef/Dbtr/Pty/Nm and OrgnlTxRef/Cdtr/Pty/Nm (pacs.004, camt.056). */
static void map_original_parties(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    uint32_t reference = map_child(ctx, node, "OrgnlTxRef");
    if (reference == NONE) return;
    tx->debtor_name = map_text(ctx, map_path2(ctx, reference, "Dbtr", "Pty"), "Nm", 140, false);
    tx->creditor_name = map_text(ctx, map_path2(ctx, reference, "Cdtr", "Pty"), "Nm", 140, false);
}

static cor_error map_related_list(map_ctx *ctx, uint32_t parent, const char *name, uint32_t *index,
                                  void (*each)(map_ctx *, uint32_t, cor_iso_related_tx *))
{
    for (uint32_t node = map_child(ctx, parent, name); node != NONE;
         node = map_next(ctx, node, name)) {
        cor_iso_related_tx *tx = &ctx->message->related[*index];
        map_tx_begin(ctx, *index, &tx->reject_reason);
        each(ctx, node, tx);
        map_schema_type_of(ctx, node);
        map_schema_pass(ctx, node, true);
        map_tx_end(ctx);
        (*index)++;
    }
    return COR_OK;
}

static void map_status_tx(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    tx->id = map_text(ctx, node, "StsId", 35, false);
    map_original_ids(ctx, node, tx);
    tx->status = map_text(ctx, node, "TxSts", 4, false);
    if (tx->status != NULL && !cor_iso_tx_status_known(tx->status)) {
        map_finding(ctx, node, "TxSts", "FF01", "not an ExternalPaymentTransactionStatus1Code");
        tx->status = NULL;
    }
    map_reason(ctx, node, "StsRsnInf", false, tx);
    map_agent(ctx, node, "InstgAgt", false, &tx->instructing_agent);
    map_agent(ctx, node, "InstdAgt", false, &tx->instructed_agent);
}

static void map_return_tx(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    tx->id = map_text(ctx, node, "RtrId", 35, false);
    map_original_ids(ctx, node, tx);
    map_amount(ctx, node, "RtrdIntrBkSttlmAmt", true, &tx->amount);
    tx->settlement_date = map_date(ctx, node, "IntrBkSttlmDt", false);
    tx->charge_bearer = map_code(ctx, node, "ChrgBr", false, map_charge_bearers);
    map_agent(ctx, node, "InstgAgt", false, &tx->instructing_agent);
    map_agent(ctx, node, "InstdAgt", false, &tx->instructed_agent);
    map_reason(ctx, node, "RtrRsnInf", true, tx);
    map_original_parties(ctx, node, tx);
}

static void map_status_request_tx(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    tx->id = map_text(ctx, node, "StsReqId", 35, false);
    map_original_ids(ctx, node, tx);
    map_agent(ctx, node, "InstgAgt", false, &tx->instructing_agent);
    map_agent(ctx, node, "InstdAgt", false, &tx->instructed_agent);
}

static void map_cancel_tx(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    tx->id = map_text(ctx, node, "CxlId", 35, false);
    map_original_ids(ctx, node, tx);
    map_amount(ctx, node, "OrgnlIntrBkSttlmAmt", false, &tx->amount);
    tx->settlement_date = map_date(ctx, node, "OrgnlIntrBkSttlmDt", false);
    map_reason(ctx, node, "CxlRsnInf", true, tx);
    map_original_parties(ctx, node, tx);
}

static void map_resolution_tx(map_ctx *ctx, uint32_t node, cor_iso_related_tx *tx)
{
    tx->id = map_text(ctx, node, "CxlStsId", 35, false);
    map_original_ids(ctx, node, tx);
    tx->status = map_text(ctx, node, "TxCxlSts", 4, false);
    /* A rejection needs a reason, whether stated per transaction or by the group Conf. */
    const char *status = tx->status != NULL ? tx->status : ctx->message->group.group_status;
    bool rejected = status != NULL && strcmp(status, "RJCR") == 0;
    map_reason(ctx, node, "CxlStsRsnInf", rejected, tx);
}

static void map_assignment(map_ctx *ctx, uint32_t root)
{
    cor_iso_group *group = &ctx->message->group;
    uint32_t assignment = map_child(ctx, root, "Assgnmt");
    if (assignment == NONE) {
        map_finding(ctx, root, "Assgnmt", "FF01", "required element missing");
        return;
    }
    group->msg_id = map_text(ctx, assignment, "Id", 35, true);
    group->created = map_datetime(ctx, assignment, "CreDtTm", true, "DT02");
    uint32_t assigner = map_child(ctx, assignment, "Assgnr");
    uint32_t assignee = map_child(ctx, assignment, "Assgne");
    if (assigner == NONE || assignee == NONE) {
        map_finding(ctx, assignment, assigner == NONE ? "Assgnr" : "Assgne", "FF01",
                    "required element missing");
        return;
    }
    map_agent(ctx, assigner, "Agt", false, &group->instructing_agent);
    map_agent(ctx, assignee, "Agt", false, &group->instructed_agent);
}

static cor_error map_status_report(map_ctx *ctx, uint32_t root)
{
    map_group_header(ctx, root, false);
    cor_iso_group *group = &ctx->message->group;
    uint32_t original = map_child(ctx, root, "OrgnlGrpInfAndSts");
    if (original != NONE) {
        group->original_msg_id = map_text(ctx, original, "OrgnlMsgId", 35, true);
        group->original_msg_name = map_text(ctx, original, "OrgnlMsgNmId", 35, true);
        group->group_status = map_text(ctx, original, "GrpSts", 4, false);
        if (group->group_status != NULL && !cor_iso_group_status_known(group->group_status)) {
            map_finding(ctx, original, "GrpSts", "FF01", "not an ExternalPaymentGroupStatus1Code");
        }
        group->group_reason =
            map_text(ctx, map_path2(ctx, original, "StsRsnInf", "Rsn"), "Cd", 4, false);
    }
    uint32_t count = map_count(ctx, root, "TxInfAndSts");
    cor_error rc = map_reserve(ctx, count, root, "TxInfAndSts");
    uint32_t index = 0;
    if (rc == COR_OK) rc = map_related_list(ctx, root, "TxInfAndSts", &index, map_status_tx);
    return rc;
}

static cor_error map_return(map_ctx *ctx, uint32_t root)
{
    map_group_header(ctx, root, true);
    uint32_t count = map_count(ctx, root, "TxInf");
    cor_error rc = map_reserve(ctx, count, root, "TxInf");
    if (rc != COR_OK) return rc;
    uint32_t index = 0;
    map_related_list(ctx, root, "TxInf", &index, map_return_tx);
    map_group_totals(ctx, root, "TxInf", "RtrdIntrBkSttlmAmt", count);
    return COR_OK;
}

static cor_error map_status_request(map_ctx *ctx, uint32_t root)
{
    map_group_header(ctx, root, false);
    cor_iso_group *group = &ctx->message->group;
    uint32_t original = map_child(ctx, root, "OrgnlGrpInf");
    if (original != NONE) {
        group->original_msg_id = map_text(ctx, original, "OrgnlMsgId", 35, true);
        group->original_msg_name = map_text(ctx, original, "OrgnlMsgNmId", 35, true);
    }
    uint32_t count = map_count(ctx, root, "TxInf");
    cor_error rc = map_reserve(ctx, count, root, "TxInf");
    uint32_t index = 0;
    if (rc == COR_OK) rc = map_related_list(ctx, root, "TxInf", &index, map_status_request_tx);
    /* corridor answers a status request from the original message: name it at group level
     * or on every transaction. */
    if (original == NONE && count == 0) {
        map_finding(ctx, root, "OrgnlGrpInf", "FF01", "original group information required");
    }
    uint32_t node = map_child(ctx, root, "TxInf");
    for (uint32_t i = 0; original == NONE && i < count; i++, node = map_next(ctx, node, "TxInf")) {
        if (map_child(ctx, node, "OrgnlGrpInf") != NONE) continue;
        map_tx_begin(ctx, i, &ctx->message->related[i].reject_reason);
        map_finding(ctx, node, "OrgnlGrpInf", "FF01", "original group information required");
        map_tx_end(ctx);
    }
    return rc;
}

static cor_error map_nested(map_ctx *ctx, uint32_t root, const char *outer, const char *inner,
                            void (*each)(map_ctx *, uint32_t, cor_iso_related_tx *))
{
    uint32_t count = 0;
    for (uint32_t node = map_child(ctx, root, outer); node != NONE;
         node = map_next(ctx, node, outer)) {
        uint32_t inner_count = map_count(ctx, node, inner);
        count = count + inner_count < count ? UINT32_MAX : count + inner_count;
    }
    cor_error rc = map_reserve(ctx, count, root, outer);
    if (rc != COR_OK) return rc;
    uint32_t index = 0;
    for (uint32_t node = map_child(ctx, root, outer); node != NONE;
         node = map_next(ctx, node, outer)) {
        map_related_list(ctx, node, inner, &index, each);
    }
    return COR_OK;
}

static cor_error map_cancellation(map_ctx *ctx, uint32_t root)
{
    map_assignment(ctx, root);
    if (map_child(ctx, root, "Undrlyg") == NONE) {
        map_finding(ctx, root, "Undrlyg", "FF01", "required element missing");
    }
    return map_nested(ctx, root, "Undrlyg", "TxInf", map_cancel_tx);
}

static cor_error map_resolution(map_ctx *ctx, uint32_t root)
{
    map_assignment(ctx, root);
    cor_iso_group *group = &ctx->message->group;
    uint32_t status = map_child(ctx, root, "Sts");
    if (status == NONE) {
        map_finding(ctx, root, "Sts", "FF01", "required element missing");
    } else {
        group->group_status = map_text(ctx, status, "Conf", 4, false);
        if (group->group_status != NULL &&
            !cor_iso_investigation_status_known(group->group_status)) {
            map_finding(ctx, status, "Conf", "FF01",
                        "not an ExternalInvestigationExecutionConfirmation1Code");
        }
    }
    return map_nested(ctx, root, "CxlDtls", "TxInfAndSts", map_resolution_tx);
}

/* ---- statements ----------------------------------------------------------------------- */

static const char *const map_credit_debit[] = {"CRDT", "DBIT", NULL};

static bool map_credit(map_ctx *ctx, uint32_t node)
{
    const char *text = map_code(ctx, node, "CdtDbtInd", true, map_credit_debit);
    return text != NULL && text[0] == 'C';
}

static void map_entry(map_ctx *ctx, uint32_t node, cor_iso_entry *entry)
{
    entry->reference = map_text(ctx, node, "NtryRef", 35, false);
    map_amount(ctx, node, "Amt", false, &entry->amount);
    if (entry->amount.currency[0] == '\0' && map_child(ctx, node, "Amt") == NONE) {
        map_finding(ctx, node, "Amt", "AM12", "amount missing");
    }
    entry->credit = map_credit(ctx, node);
    uint32_t status = map_child(ctx, node, "Sts");
    if (status == NONE) {
        map_finding(ctx, node, "Sts", "FF01", "required element missing");
    } else {
        entry->status = map_text(ctx, status, "Cd", 4, false);
    }
    entry->booking_date = map_date_choice(ctx, node, "BookgDt", false);
    entry->value_date = map_date_choice(ctx, node, "ValDt", false);
    entry->servicer_ref = map_text(ctx, node, "AcctSvcrRef", 35, false);
    uint32_t code = map_child(ctx, node, "BkTxCd");
    uint32_t domain = map_child(ctx, code, "Domn");
    if (domain != NONE) {
        entry->domain = map_text(ctx, domain, "Cd", 4, true);
        uint32_t family = map_child(ctx, domain, "Fmly");
        entry->family = map_text(ctx, family, "Cd", 4, true);
        entry->subfamily = map_text(ctx, family, "SubFmlyCd", 4, true);
    }
    entry->proprietary = map_text(ctx, map_child(ctx, code, "Prtry"), "Cd", 35, false);
    uint32_t details = map_path2(ctx, node, "NtryDtls", "TxDtls");
    uint32_t refs = map_child(ctx, details, "Refs");
    entry->end_to_end_id = map_text(ctx, refs, "EndToEndId", 35, false);
    entry->uetr = map_uetr(ctx, refs, "UETR");
    entry->remittance = map_text(ctx, map_child(ctx, details, "RmtInf"), "Ustrd", 140, false);
}

static void map_balances(map_ctx *ctx, uint32_t report_node, cor_iso_report *report)
{
    for (uint32_t node = map_child(ctx, report_node, "Bal"); node != NONE;
         node = map_next(ctx, node, "Bal")) {
        if (report->balance_count == COR_ISO_BALANCES_MAX) {
            map_finding(ctx, report_node, "Bal", "FF01", "more balances than corridor keeps");
            return;
        }
        cor_iso_balance *balance = &report->balances[report->balance_count++];
        balance->type = map_text(ctx, map_path2(ctx, node, "Tp", "CdOrPrtry"), "Cd", 4, false);
        map_amount(ctx, node, "Amt", false, &balance->amount);
        balance->credit = map_credit(ctx, node);
        balance->date = map_date_choice(ctx, node, "Dt", true);
    }
}

static cor_error map_statement(map_ctx *ctx, uint32_t root, const char *name)
{
    map_group_header(ctx, root, false);
    cor_iso_report *report = &ctx->message->report;
    uint32_t node = map_child(ctx, root, name);
    if (node == NONE) {
        map_finding(ctx, root, name, "FF01", "required element missing");
        return COR_OK;
    }
    if (map_next(ctx, node, name) != NONE) {
        map_finding(ctx, root, name, "FF01", "more than one report per message not supported");
    }
    report->id = map_text(ctx, node, "Id", 35, true);
    report->created = map_datetime(ctx, node, "CreDtTm", false, "DT01");
    uint32_t account = map_child(ctx, node, "Acct");
    if (account == NONE) {
        map_finding(ctx, node, "Acct", "FF01", "required element missing");
    } else {
        map_account(ctx, node, "Acct", "AC01", &report->account);
        report->account_owner = map_text(ctx, map_child(ctx, account, "Ownr"), "Nm", 140, false);
        map_agent(ctx, account, "Svcr", false, &report->account_servicer);
    }
    map_balances(ctx, node, report);
    if (strcmp(name, "Stmt") == 0 && report->balance_count == 0) {
        map_finding(ctx, node, "Bal", "FF01", "required element missing");
    }
    uint32_t count = map_count(ctx, node, "Ntry");
    cor_error rc = map_reserve(ctx, count, node, "Ntry");
    if (rc != COR_OK) return rc;
    uint32_t entry_node = map_child(ctx, node, "Ntry");
    for (uint32_t i = 0; i < count; i++, entry_node = map_next(ctx, entry_node, "Ntry")) {
        cor_iso_entry *entry = &ctx->message->entries[i];
        map_tx_begin(ctx, i, &entry->reject_reason);
        map_entry(ctx, entry_node, entry);
        map_schema_type_of(ctx, entry_node);
        map_schema_pass(ctx, entry_node, true);
        map_tx_end(ctx);
    }
    return COR_OK;
}

/* ---- application header --------------------------------------------------------------- */

static void map_app_party(map_ctx *ctx, uint32_t header, const char *name, cor_iso_agent *out)
{
    uint32_t party = map_child(ctx, header, name);
    if (party == NONE) {
        map_finding(ctx, header, name, "FF01", "required element missing");
        return;
    }
    if (map_child(ctx, party, "FIId") != NONE) {
        map_agent(ctx, party, "FIId", true, out);
    } else if (map_child(ctx, party, "OrgId") == NONE) {
        map_finding(ctx, party, NULL, "FF01", "needs FIId or OrgId");
    }
}

static void map_app_header(map_ctx *ctx, uint32_t header)
{
    cor_iso_app_header *out = &ctx->message->header;
    out->present = true;
    map_app_party(ctx, header, "Fr", &out->from);
    map_app_party(ctx, header, "To", &out->to);
    out->business_msg_id = map_text(ctx, header, "BizMsgIdr", 35, true);
    out->msg_def_id = map_text(ctx, header, "MsgDefIdr", 35, true);
    out->business_service = map_text(ctx, header, "BizSvc", 35, false);
    out->created = map_datetime(ctx, header, "CreDt", true, "DT01");
}

/* ---- parts and dispatch --------------------------------------------------------------- */

typedef struct map_kind {
    const char *root;      /* message element below Document */
    const char *tx_name;   /* element of one transaction */
    const char *tx_holder; /* root child holding the transactions, NULL: root itself */
} map_kind;

static const map_kind map_kinds[COR_ISO_MSG_TYPE_COUNT] = {
    [COR_ISO_MSG_PACS_008] = {"FIToFICstmrCdtTrf", "CdtTrfTxInf", NULL},
    [COR_ISO_MSG_PACS_002] = {"FIToFIPmtStsRpt", "TxInfAndSts", NULL},
    [COR_ISO_MSG_PACS_004] = {"PmtRtr", "TxInf", NULL},
    [COR_ISO_MSG_PACS_004_V10] = {"PmtRtr", "TxInf", NULL},
    [COR_ISO_MSG_PACS_009] = {"FICdtTrf", "CdtTrfTxInf", NULL},
    [COR_ISO_MSG_PACS_028] = {"FIToFIPmtStsReq", "TxInf", NULL},
    [COR_ISO_MSG_CAMT_056] = {"FIToFIPmtCxlReq", "TxInf", "Undrlyg"},
    [COR_ISO_MSG_CAMT_029] = {"RsltnOfInvstgtn", "TxInfAndSts", "CxlDtls"},
    [COR_ISO_MSG_CAMT_053] = {"BkToCstmrStmt", "Ntry", "Stmt"},
    [COR_ISO_MSG_CAMT_054] = {"BkToCstmrDbtCdtNtfctn", "Ntry", "Ntfctn"},
};

/* Namespace suffix ("pacs.008.001.08") of node, or NULL when not an ISO 20022 namespace. */
static const char *map_definition(const map_ctx *ctx, uint32_t node)
{
    uint8_t ns = NODE(ctx, node)->ns_index;
    if (ns == 0) return NULL;
    const char *uri = ctx->tree->namespaces[ns - 1u];
    if (strncmp(uri, COR_ISO_NS_PREFIX, COR_ISO_NS_PREFIX_SIZE) != 0) return NULL;
    return uri + COR_ISO_NS_PREFIX_SIZE;
}

/* Finds AppHdr and Document by namespace anywhere in the tree. */
static void map_find_parts(map_ctx *ctx, uint32_t *header_out, uint32_t *document_out)
{
    *header_out = NONE;
    *document_out = NONE;
    for (uint32_t i = 0; i < ctx->tree->node_count; i++) {
        const cor__iso_node *node = NODE(ctx, i);
        if (node->kind != COR_ISO_NODE_ELEMENT) continue;
        const char *definition = map_definition(ctx, i);
        if (definition == NULL) continue;
        bool header = strcmp(node->name, "AppHdr") == 0 && strncmp(definition, "head.", 5) == 0;
        bool document = strcmp(node->name, "Document") == 0;
        if (!header && !document) continue;
        uint32_t *slot = header ? header_out : document_out;
        if (*slot != NONE) {
            cor__iso_finding_add(ctx->message, -1, "FF01", node->name,
                                 "more than one %s in the input", node->name);
            ctx->group_failed = true;
        } else {
            *slot = i;
        }
        i = map_subtree_end(ctx, i);
    }
}

static cor_error map_document_type(map_ctx *ctx, uint32_t document, cor_iso_msg_type *type)
{
    const char *definition = map_definition(ctx, document);
    *type = COR_ISO_MSG_NONE;
    for (int t = COR_ISO_MSG_PACS_008; t < COR_ISO_MSG_HEAD_001; t++) {
        if (strcmp(definition, cor_iso_msg_type_name((cor_iso_msg_type)t)) == 0) {
            *type = (cor_iso_msg_type)t;
        }
    }
    if (*type == COR_ISO_MSG_NONE) {
        cor__iso_finding_add(ctx->message, -1, "FF01", "Document",
                             "unsupported message definition '%.40s'", definition);
        return COR_ERR_VERSION;
    }
    return COR_OK;
}

static cor_error map_document(map_ctx *ctx, uint32_t document, cor_iso_msg_type type)
{
    ctx->ns = NODE(ctx, document)->ns_index;
    ctx->part_root = document;
    uint32_t root = map_child(ctx, document, map_kinds[type].root);
    if (root == NONE) {
        cor__iso_finding_add(ctx->message, -1, "FF01", "Document", "%s expected as the root",
                             map_kinds[type].root);
        return COR_ERR_XML_INVALID;
    }
    ctx->schema = cor__iso_schema_find(cor_iso_msg_type_name(type));
    COR_ASSERT(ctx->schema != NULL);
    ctx->msg_root = root;
    ctx->tx_name = map_kinds[type].tx_name;
    ctx->tx_holder = map_kinds[type].tx_holder;
    cor_error rc = COR_OK;
    switch (type) {
    case COR_ISO_MSG_PACS_008:
        rc = map_credit_transfers(ctx, root, true);
        break;
    case COR_ISO_MSG_PACS_009:
        rc = map_credit_transfers(ctx, root, false);
        break;
    case COR_ISO_MSG_PACS_002:
        rc = map_status_report(ctx, root);
        break;
    case COR_ISO_MSG_PACS_004:
    case COR_ISO_MSG_PACS_004_V10:
        rc = map_return(ctx, root);
        break;
    case COR_ISO_MSG_PACS_028:
        rc = map_status_request(ctx, root);
        break;
    case COR_ISO_MSG_CAMT_056:
        rc = map_cancellation(ctx, root);
        break;
    case COR_ISO_MSG_CAMT_029:
        rc = map_resolution(ctx, root);
        break;
    case COR_ISO_MSG_CAMT_053:
        rc = map_statement(ctx, root, "Stmt");
        break;
    case COR_ISO_MSG_CAMT_054:
        rc = map_statement(ctx, root, "Ntfctn");
        break;
    default:
        COR_UNREACHABLE();
    }
    if (rc != COR_OK) return rc;
    /* Structure of everything outside the transactions, after the mapper's own findings so
     * that the specific reason for a path comes first. */
    NODE(ctx, document)->schema_type = 0;
    map_schema_pass(ctx, document, false);
    return COR_OK;
}

/* Order: refuse unsupported versions first, then the AppHdr (its findings come first, as a
 * receiver reads it first), then the Document, then the two against each other. */
cor_error cor__iso_map(cor__iso_tree *tree, const cor_iso_parser_options *limits,
                       cor_iso_message *message)
{
    COR_ASSERT(tree != NULL && tree->root != NONE);
    map_ctx ctx = {.tree = tree,
                   .message = message,
                   .limits = limits,
                   .tx_index = -1,
                   .last_text = NONE,
                   .part_root = NONE};
    uint32_t header = NONE, document = NONE;
    map_find_parts(&ctx, &header, &document);
    if (header == NONE && document == NONE) {
        cor__iso_finding_add(message, -1, "FF01", "",
                             "no ISO 20022 AppHdr or Document found (by namespace)");
        return COR_ERR_XML_INVALID;
    }
    if (ctx.group_failed) return COR_ERR_XML_INVALID;
    cor_iso_msg_type type = COR_ISO_MSG_HEAD_001;
    if (document != NONE) {
        cor_error rc = map_document_type(&ctx, document, &type);
        if (rc != COR_OK) return rc;
    }
    if (header != NONE) {
        const char *definition = map_definition(&ctx, header);
        if (strcmp(definition, "head.001.001.02") != 0) {
            cor__iso_finding_add(message, -1, "FF01", "AppHdr",
                                 "unsupported application header '%.40s'", definition);
            return COR_ERR_VERSION;
        }
        ctx.ns = NODE(&ctx, header)->ns_index;
        ctx.part_root = header;
        map_app_header(&ctx, header);
        ctx.schema = cor__iso_schema_find("head.001.001.02");
        NODE(&ctx, header)->schema_type = 0;
        map_schema_pass(&ctx, header, true);
    }
    message->type = type;
    if (document != NONE) {
        cor_error rc = map_document(&ctx, document, type);
        if (rc != COR_OK) return rc;
    }
    if (header != NONE && document != NONE && message->header.msg_def_id != NULL &&
        strcmp(message->header.msg_def_id, cor_iso_msg_type_name(type)) != 0) {
        ctx.ns = NODE(&ctx, header)->ns_index;
        ctx.part_root = header;
        ctx.tx_index = -1;
        map_finding(&ctx, header, "MsgDefIdr", "FF01",
                    "MsgDefIdr does not match the Document namespace");
    }
    return ctx.group_failed ? COR_ERR_XML_INVALID : COR_OK;
}
