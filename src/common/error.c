/* Names and texts of cor_error, generated from COR_ERROR_LIST. */
#include "corridor/error.h"

static const char *const error_texts[] = {
#define COR_ERROR_TEXT(name, text) text,
    COR_ERROR_LIST(COR_ERROR_TEXT)
#undef COR_ERROR_TEXT
};

static const char *const error_names[] = {
#define COR_ERROR_NAME(name, text) #name,
    COR_ERROR_LIST(COR_ERROR_NAME)
#undef COR_ERROR_NAME
};

_Static_assert(sizeof(error_texts) / sizeof(error_texts[0]) == COR_ERROR_COUNT,
               "one text per error");

const char *cor_strerror(cor_error error)
{
    if ((unsigned)error >= COR_ERROR_COUNT) return "unknown error";
    return error_texts[error];
}

const char *cor_error_name(cor_error error)
{
    if ((unsigned)error >= COR_ERROR_COUNT) return "COR_ERR_UNKNOWN";
    return error_names[error];
}
