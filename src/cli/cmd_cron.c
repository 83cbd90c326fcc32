/* cmd_cron.c — `sluice cron EXPR [--timezone TZ] [--after TIME] [--count N]`:
 * the next fire times of a cron expression, computed by the scheduler's own
 * code (scheduler/cron.c), one a line on stdout, as wall times of the zone
 * with their offset. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "scheduler/cron.h"

#define CRON_DEFAULT_COUNT 5
#define CRON_MAX_COUNT 100000
#define CRON_EXPRESSION_MAX 512

static void cron_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice cron EXPR [--timezone TZ] [--after TIME] [--count N]\n"
            "\n"
            "Prints the next times the cron expression EXPR fires, one a line, as wall\n"
            "times of TZ with their UTC offset. EXPR is five fields (minute hour\n"
            "day-of-month month day-of-week; quote it, or pass the fields as five\n"
            "arguments) or @yearly, @monthly, @weekly, @daily or @hourly.\n"
            "\n"
            "  --timezone TZ  a tz database name like Europe/Berlin (default UTC)\n"
            "  --after TIME   start after TIME: 2026-03-29T01:30 (a wall time of TZ) or\n"
            "                 with an offset, 2026-03-29T01:30:00Z (default now)\n"
            "  --count N      how many times to print, 1 to %d (default %d)\n"
            "\n"
            "A wall time that does not exist (the hour skipped in spring) does not fire;\n"
            "one that occurs twice (the hour repeated in autumn) fires once.\n"
            "Exit codes: 0 ok, 2 usage error or invalid EXPR.\n",
            CRON_MAX_COUNT, CRON_DEFAULT_COUNT);
}

/* --after TIME in seconds since the epoch; a time without an offset is a
 * wall time of tz. */
static int parse_after(const char *text, const sl_tz *tz, int64_t *after)
{
    int64_t us;
    sl_error err;
    if (sl_tz_parse_time(tz, text, &us, &err)) {
        fprintf(stderr, "sluice cron: --after: %s\n", err.message);
        return SL_EXIT_USAGE;
    }
    *after = us / 1000000 - (us % 1000000 < 0);
    return SL_EXIT_OK;
}

int sl_cmd_cron(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "timezone", required_argument, NULL, 'z' },
        { "after", required_argument, NULL, 'a' },
        { "count", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *zone = "UTC", *after_text = NULL;
    long count = CRON_DEFAULT_COUNT;
    int option;
    optind = 1;
    /* GNU getopt moves the fields after the options; no field starts with '-'. */
    while ((option = getopt_long(argc, argv, "z:a:n:h", long_options, NULL)) != -1) {
        switch (option) {
        case 'z': zone = optarg; break;
        case 'a': after_text = optarg; break;
        case 'n': {
            char *end;
            count = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || count < 1 || count > CRON_MAX_COUNT) {
                fprintf(stderr, "sluice cron: --count: '%s' is not a number from 1 to %d\n", optarg, CRON_MAX_COUNT);
                return SL_EXIT_USAGE;
            }
            break;
        }
        case 'h': cron_usage(stdout); return SL_EXIT_OK;
        default: cron_usage(stderr); return SL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cron_usage(stderr);
        return SL_EXIT_USAGE;
    }
    /* The fields come as one argument or as several. */
    char expression[CRON_EXPRESSION_MAX] = "";
    size_t len = 0;
    for (int i = optind; i < argc; i++) {
        int written = snprintf(expression + len, sizeof expression - len, "%s%s", i > optind ? " " : "", argv[i]);
        if (written < 0 || (size_t)written >= sizeof expression - len) {
            fprintf(stderr, "sluice cron: the expression is over %d characters\n", CRON_EXPRESSION_MAX - 1);
            return SL_EXIT_USAGE;
        }
        len += (size_t)written;
    }

    sl_error err;
    sl_error_clear(&err);
    sl_cron cron;
    if (sl_cron_parse(expression, &cron, &err)) {
        fprintf(stderr, "sluice cron: %s\n", err.message);
        return SL_EXIT_USAGE;
    }
    sl_tz *tz;
    if (sl_tz_load(zone, &tz, &err)) {
        fprintf(stderr, "sluice cron: --timezone: %s\n", err.message);
        return err.code == SL_ENOTFOUND || err.code == SL_EINVAL ? SL_EXIT_USAGE : SL_EXIT_FAILURE;
    }
    int64_t after = sl_clock_wall_ms() / 1000;
    int code = after_text ? parse_after(after_text, tz, &after) : SL_EXIT_OK;
    for (long i = 0; i < count && code == SL_EXIT_OK; i++) {
        int64_t next;
        if (sl_cron_next(&cron, tz, after, &next)) {
            if (i == 0) {
                fprintf(stderr, "sluice cron: '%s' does not fire in the 30 years after the start\n", expression);
                code = SL_EXIT_FAILURE;
            }
            break;
        }
        char text[SL_TIME_ISO_MAX];
        sl_time_format_offset(next * 1000000, sl_tz_offset(tz, next), text);
        printf("%s\n", text);
        after = next;
    }
    sl_tz_free(tz);
    if (fflush(stdout) != 0 && code == SL_EXIT_OK) {
        perror("sluice cron: stdout");
        code = SL_EXIT_FAILURE;
    }
    return code;
}
