/*
 * One line per event on stderr: "2026-11-29T17:21:10.123Z level=info msg=\"...\" key=value".
 * Thread-safe (one fprintf per line under stdio's lock). Fields are preformatted key=value
 * text given by the caller.
 */
#ifndef COR_NODE_LOG_H
#define COR_NODE_LOG_H

typedef enum cor_log_level {
    COR_LOG_DEBUG,
    COR_LOG_INFO,
    COR_LOG_WARN,
    COR_LOG_ERROR
} cor_log_level;

/* fields_format: printf format of the key=value part (may be ""). */
void cor_log(cor_log_level level, const char *message, const char *fields_format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
