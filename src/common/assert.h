/*
 * Assertions. COR_ASSERT stays in release builds and aborts with file:line: a ledger that
 * carries on after an internal fact broke can corrupt money, so we never compile it out.
 * COR_DEBUG_ASSERT is for O(n) checks and is active only when COR_DEBUG is defined (the
 * test and sanitizer builds define it). Asserts never have side effects.
 */
#ifndef COR_ASSERT_H
#define COR_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

_Noreturn void cor__assert_fail(const char *expr, const char *file, int line);

#define COR_ASSERT(expr) ((expr) ? (void)0 : cor__assert_fail(#expr, __FILE__, __LINE__))

#ifdef COR_DEBUG
#define COR_DEBUG_ASSERT(expr) COR_ASSERT(expr)
#else
#define COR_DEBUG_ASSERT(expr) ((void)0)
#endif

#define COR_UNREACHABLE() cor__assert_fail("unreachable", __FILE__, __LINE__)

#endif
