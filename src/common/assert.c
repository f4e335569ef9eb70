#include "common/assert.h"

_Noreturn void cor__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "corridor: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}
