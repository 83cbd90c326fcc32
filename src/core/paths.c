/* paths.c — file-system helpers shared by connectors (see paths.h). */
#include "core/paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sl_make_parent_dirs(const char *path, sl_error *err)
{
    int rc = SL_OK;
    char *copy = strdup(path);
    if (!copy) return sl_error_set(err, SL_ENOMEM, "%s: no memory", path);
    for (char *slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            int saved = errno;
            sl_error_set(err, SL_EIO, "cannot create directory %s for %s: %s", copy, path, strerror(saved));
            rc = sl_error_mark(err, sl_error_class_of_errno(saved));
            break;
        }
        *slash = '/';
    }
    free(copy);
    return rc;
}
