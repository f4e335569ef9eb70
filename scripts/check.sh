#!/bin/sh
# House rules (make check): line length <= 100, no FIXME, no tabs in C sources, plus
# cppcheck when present. Prints each finding as file:line: message; exits 1 on any.
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c' \
        'bench/*.c')
for f in $files; do
    awk -v f="$f" 'length($0) > 100 { printf "%s:%d: line longer than 100 columns\n", f, NR; bad=1 }
                   /FIXME/ { printf "%s:%d: FIXME blocks a merge\n", f, NR; bad=1 }
                   /\t/ { printf "%s:%d: tab character\n", f, NR; bad=1 }
                   END { exit bad }' "$f" || status=1
done
# Banned functions: each has a bounded or thread-safe replacement (snprintf, memcpy,
# strtok_r, strtol with checks, gmtime_r, localtime_r, fgets).
if git grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gmtime|localtime|gets)\(' \
        -- 'src/*.c' 'src/*.h' 'tests/*.c' 'fuzz/*.c' 'bench/*.c'; then
    echo "banned function used (see scripts/check.sh for the replacements)"
    status=1
fi
if command -v cppcheck >/dev/null 2>&1; then
    cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
        --suppress=missingIncludeSystem -Iinclude -Isrc src include 2>&1 || status=1
fi
exit $status
