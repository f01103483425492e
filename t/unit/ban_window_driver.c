
/*
 * Copyright (C) tenant_guard authors
 *
 * The C side of t/104-ban-script.t, which runs tg_ban_count_script in a
 * real Redis and compares:
 *
 *     ban_window_driver script    prints tg_ban_count_script as compiled
 *     ban_window_driver           reads "now longest" lines, and prints
 *                                 "count window" after each step of
 *                                 tg_ban_window_count(), from no window
 */


#include <stdio.h>
#include <string.h>

#include "tg_ban.h"


int
main(int argc, char **argv)
{
    long long  now, longest, window, count;
    char       line[256];

    if (argc == 2 && strcmp(argv[1], "script") == 0) {
        fputs(tg_ban_count_script, stdout);
        return 0;
    }

    if (argc != 1) {
        fprintf(stderr, "usage: %s [script] < steps\n", argv[0]);
        return 2;
    }

    window = 0;
    count = 0;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (sscanf(line, "%lld %lld", &now, &longest) != 2) {
            fprintf(stderr, "ban_window_driver: bad step: %s", line);
            return 2;
        }

        if (tg_ban_window_count(&window, &count, now, longest) != 0) {
            fprintf(stderr, "ban_window_driver: the step returned non-0\n");
            return 1;
        }

        printf("%lld %lld\n", count, window);
    }

    return 0;
}
