/* paths.h — small file-system helpers every connector may need. */
#ifndef SL_PATHS_H
#define SL_PATHS_H

#include "core/error.h"

/* mkdir -p of the directory that holds path (not path itself). Errors:
 * SL_EIO naming the directory, path and strerror; SL_ENOMEM. */
int sl_make_parent_dirs(const char *path, sl_error *err);

#endif
