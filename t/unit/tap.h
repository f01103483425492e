
/*
 * Copyright (C) tenant_guard authors
 *
 * A minimal TAP producer for the engine's unit tests: each ok() is one
 * test case, printed as "ok N - name" or "not ok N - name" with the file
 * and line of a failure as a diagnostic; tap_done() prints the plan and
 * gives main() its exit code (the number of failures, at most 254).
 */


#ifndef _TG_TAP_H_INCLUDED_
#define _TG_TAP_H_INCLUDED_


#include <stdarg.h>
#include <stdio.h>
#include <string.h>


#define ok(cond, ...)  tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* equality of two integers, both shown on failure */
#define is_int(got, want, ...)                                               \
    tap_is_int((long long) (got), (long long) (want), __FILE__, __LINE__,    \
               __VA_ARGS__)

/* a C string (NULL allowed) and an expected one */
#define is_str(got, want, ...)                                               \
    tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* an error text holds a fragment */
#define like(got, frag, ...)                                                 \
    tap_like((got), (frag), __FILE__, __LINE__, __VA_ARGS__)

#define diag(...)  tap_diag(__VA_ARGS__)

/*
 * A known engine bug: "not ok N - name # TODO reason" while it is there
 * (TAP does not count it as a failure), "ok N - name # TODO reason" once it
 * is fixed (prove reports it as "TODO passed": drop the TODO then).
 */
#define todo_ok(cond, reason, ...)                                           \
    tap_todo(!!(cond), (reason), __FILE__, __LINE__, __VA_ARGS__)

/* "ok N # SKIP reason": a case not run here */
#define skip(reason, ...)  tap_skip((reason), __VA_ARGS__)


extern int  tap_n;
extern int  tap_failed;


__attribute__((format(printf, 4, 5), unused))
static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list  ap;

    tap_n++;

    printf("%sok %d - ", pass ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");

    if (!pass) {
        tap_failed++;
        printf("#   Failed test at %s line %d.\n", file, line);
    }

    fflush(stdout);

    return pass;
}


__attribute__((format(printf, 1, 2), unused))
static void
tap_diag(const char *fmt, ...)
{
    va_list  ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}


__attribute__((format(printf, 5, 6), unused))
static int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
    char     name[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (!tap_ok(got == want, file, line, "%s", name)) {
        tap_diag("         got: %lld", got);
        tap_diag("    expected: %lld", want);
        return 0;
    }

    return 1;
}


__attribute__((format(printf, 5, 6), unused))
static int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
    int      pass;
    char     name[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    pass = (got == NULL && want == NULL)
           || (got != NULL && want != NULL && strcmp(got, want) == 0);

    if (!tap_ok(pass, file, line, "%s", name)) {
        tap_diag("         got: %s%s%s", got ? "'" : "", got ? got : "NULL",
                 got ? "'" : "");
        tap_diag("    expected: %s%s%s", want ? "'" : "",
                 want ? want : "NULL", want ? "'" : "");
        return 0;
    }

    return 1;
}


__attribute__((format(printf, 5, 6), unused))
static int
tap_like(const char *got, const char *frag, const char *file, int line,
    const char *fmt, ...)
{
    char     name[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (!tap_ok(got != NULL && strstr(got, frag) != NULL, file, line, "%s",
                name))
    {
        tap_diag("         got: '%s'", got ? got : "NULL");
        tap_diag("    expected: a text holding '%s'", frag);
        return 0;
    }

    return 1;
}


__attribute__((format(printf, 5, 6), unused))
static int
tap_todo(int pass, const char *reason, const char *file, int line,
    const char *fmt, ...)
{
    va_list  ap;

    tap_n++;

    printf("%sok %d - ", pass ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" # TODO %s\n", reason);

    if (!pass) {
        printf("#   Failed (TODO) test at %s line %d.\n", file, line);
    }

    fflush(stdout);

    return pass;
}


__attribute__((format(printf, 2, 3), unused))
static void
tap_skip(const char *reason, const char *fmt, ...)
{
    va_list  ap;

    tap_n++;

    printf("ok %d - ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" # SKIP %s\n", reason);
    fflush(stdout);
}


/* prints the plan; the exit code for main() */
__attribute__((unused))
static int
tap_done(void)
{
    printf("1..%d\n", tap_n);

    if (tap_failed) {
        printf("# Looks like you failed %d test%s of %d.\n", tap_failed,
               tap_failed == 1 ? "" : "s", tap_n);
    }

    fflush(stdout);

    return tap_failed > 254 ? 254 : tap_failed;
}


/* one definition per test program */
#define TAP_GLOBALS  int tap_n; int tap_failed


#endif /* _TG_TAP_H_INCLUDED_ */
