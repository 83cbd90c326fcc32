/* columns.c — see columns.h. */
#include "connectors/common/columns.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void sl_columns_free(sl_columns *columns)
{
    for (size_t i = 0; i < columns->n_columns; i++) {
        free(columns->names[i]);
        free(columns->types[i]);
    }
    free(columns->names);
    free(columns->types);
    columns->names = NULL;
    columns->types = NULL;
    columns->n_columns = 0;
}

int sl_columns_add(sl_columns *columns, const char *name, size_t len,
                          const char *type)
{
    size_t n = columns->n_columns;
    char **names = realloc(columns->names, (n + 1) * sizeof *names);
    if (!names) return SL_ENOMEM;
    columns->names = names;
    char **types = realloc(columns->types, (n + 1) * sizeof *types);
    if (!types) return SL_ENOMEM;
    columns->types = types;
    char *name_copy = strndup(name, len);
    char *type_copy = strdup(type ? type : "");
    if (!name_copy || !type_copy) {
        free(name_copy);
        free(type_copy);
        return SL_ENOMEM;
    }
    names[n] = name_copy;
    types[n] = type_copy;
    columns->n_columns = n + 1;
    return SL_OK;
}

long sl_columns_find(const sl_columns *columns, const char *name, size_t len)
{
    for (size_t i = 0; i < columns->n_columns; i++)
        if (strlen(columns->names[i]) == len && memcmp(columns->names[i], name, len) == 0)
            return (long)i;
    return -1;
}
