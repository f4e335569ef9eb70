/* Structured log lines on stderr (see log.h). */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cor_log(cor_log_level level, const char *message, const char *fields_format, ...)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char fields[512];
    va_list args;
    va_start(args, fields_format);
    vsnprintf(fields, sizeof(fields), fields_format, args);
    va_end(args);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"%s\"%s%s\n",
            utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
            now.tv_nsec / 1000000L, level_names[level], message, fields[0] != '\0' ? " " : "",
            fields);
}
