/* topic.h — the `topic` connector: source and sink on the embedded log. */
#ifndef SL_CONNECTOR_TOPIC_H
#define SL_CONNECTOR_TOPIC_H

#include "connectors/connector.h"

extern const sl_source_ops sl_topic_source;
extern const sl_sink_ops sl_topic_sink;

#endif
