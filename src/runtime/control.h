/* control.h — what a control command does to one continuous pipeline of
 * `sluice server` (a DAG `control:` task, the API's start/stop/restart
 * routes): the actions and their names, one table. The names are also the
 * choices of the `control.action` setting (runtime/plan_settings.c).
 */
#ifndef SL_RUNTIME_CONTROL_H
#define SL_RUNTIME_CONTROL_H

typedef enum sl_control_action {
    SL_CONTROL_START = 0,   /* run a stopped, failed or finished pipeline again */
    SL_CONTROL_STOP,        /* drain it and leave it stopped */
    SL_CONTROL_RESTART,     /* stop, then start */
} sl_control_action;

#define SL_CONTROL_MAX SL_CONTROL_RESTART

/* "start", "stop", "restart", in the enum's order, NULL-ended. */
extern const char *const sl_control_action_names[];

/* Parses a name of sl_control_action_names; SL_EINVAL when it is none. */
int sl_control_action_parse(const char *name, sl_control_action *action);

#endif
