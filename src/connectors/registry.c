/* registry.c — the one list of built-in connectors. Adding a connector is
 * adding its ops table to a list below. */
#include "connectors/connector.h"

#include <string.h>

#include "connectors/cassandra/cassandra.h"
#include "connectors/file/file.h"
#include "connectors/generator/generator.h"
#include "connectors/kafka/kafka.h"
#include "connectors/sqlite/sqlite.h"
#include "connectors/stdio/stdio.h"
#include "connectors/topic/topic.h"

static const sl_source_ops *const sources[] = {
    &sl_generator_source,
    &sl_topic_source,
    &sl_file_source,
    &sl_stdio_source,
    &sl_kafka_source,
};

static const sl_sink_ops *const sinks[] = {
    &sl_topic_sink,
    &sl_sqlite_sink,
    &sl_file_sink,
    &sl_stdio_sink,
    &sl_kafka_sink,
    &sl_cassandra_sink,
};

const sl_source_ops *sl_connector_source(const char *name)
{
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(sources[i]->name, name) == 0) return sources[i];
    return NULL;
}

const sl_sink_ops *sl_connector_sink(const char *name)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
        if (strcmp(sinks[i]->name, name) == 0) return sinks[i];
    return NULL;
}

/* Appends name to the ", "-separated list in out (size bytes). */
static void append_name(char *out, size_t size, const char *name)
{
    if (out[0]) strncat(out, ", ", size - strlen(out) - 1);
    strncat(out, name, size - strlen(out) - 1);
}

/* Names are joined on each call (config errors only, single-threaded). */
const char *sl_connector_source_names(void)
{
    static char names[256];
    names[0] = '\0';
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) append_name(names, sizeof names, sources[i]->name);
    return names;
}

const char *sl_connector_sink_names(void)
{
    static char names[256];
    names[0] = '\0';
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) append_name(names, sizeof names, sinks[i]->name);
    return names;
}

const sl_source_ops *sl_connector_source_at(size_t i)
{
    return i < sizeof sources / sizeof sources[0] ? sources[i] : NULL;
}

const sl_sink_ops *sl_connector_sink_at(size_t i)
{
    return i < sizeof sinks / sizeof sinks[0] ? sinks[i] : NULL;
}
