/*
 * corridor: operating errors.
 *
 * One closed enum for every operating error a library call can return, generated from a
 * single list so that the enum, the names and the human texts never drift apart. Ledger
 * *results* (per event, such as exceeds_credits) are not errors: they live in ledger.h.
 * Programmer errors (broken internal state) are assertions, never a cor_error.
 */
#ifndef CORRIDOR_ERROR_H
#define CORRIDOR_ERROR_H

#define COR_ERROR_LIST(X)                                                          \
    X(COR_OK, "success")                                                           \
    X(COR_ERR_NOMEM, "memory exhausted")                                           \
    X(COR_ERR_IO, "storage i/o failed")                                            \
    X(COR_ERR_LIMIT, "input exceeds a configured limit")                           \
    X(COR_ERR_INVALID, "invalid argument")                                         \
    X(COR_ERR_NOT_FOUND, "not found")                                              \
    X(COR_ERR_EXISTS, "already exists")                                            \
    X(COR_ERR_CORRUPT, "stored data is corrupt")                                   \
    X(COR_ERR_VERSION, "unknown format version")                                   \
    X(COR_ERR_JOURNAL_FULL, "journal reached its size limit")                      \
    X(COR_ERR_POISONED, "object is unusable after an earlier failure")             \
    X(COR_ERR_PARSE, "input could not be parsed")                                  \
    X(COR_ERR_XML_INVALID, "iso 20022 message rejected")                           \
    X(COR_ERR_AUTH, "authentication failed")                                       \
    X(COR_ERR_FORBIDDEN, "not allowed for this caller")                            \
    X(COR_ERR_BUSY, "queue full, try again later")                                 \
    X(COR_ERR_CLOSED, "object is shutting down")

typedef enum cor_error {
#define COR_ERROR_ENUM(name, text) name,
    COR_ERROR_LIST(COR_ERROR_ENUM)
#undef COR_ERROR_ENUM
        COR_ERROR_COUNT
} cor_error;

/* Human text, lowercase, never NULL (unknown values give "unknown error"). */
const char *cor_strerror(cor_error error);

/* The enum name, e.g. "COR_ERR_IO", for logs and tests; never NULL. */
const char *cor_error_name(cor_error error);

#endif
