/* control.c — the names of the control actions (see control.h). */
#include "runtime/control.h"

#include <string.h>

#include "core/error.h"

const char *const sl_control_action_names[] = { "start", "stop", "restart", NULL };

int sl_control_action_parse(const char *name, sl_control_action *action)
{
    for (int a = 0; a <= SL_CONTROL_MAX; a++) {
        if (name && strcmp(name, sl_control_action_names[a]) == 0) {
            *action = (sl_control_action)a;
            return SL_OK;
        }
    }
    return SL_EINVAL;
}
