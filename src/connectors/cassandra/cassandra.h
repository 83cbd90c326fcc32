/* cassandra.h — the `cassandra` sink: rows upserted into a Cassandra table
 * through sluice's own CQL client (src/cql/).
 *
 * Its settings are the table in cassandra.c (`sluice connectors cassandra`,
 * docs/connectors.md). See cassandra.c for behaviour and cassandra_schema.h
 * for the type map.
 */
#ifndef SL_CONNECTOR_CASSANDRA_H
#define SL_CONNECTOR_CASSANDRA_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "config/options.h"
#include "connectors/connector.h"

typedef struct sl_cassandra_conf {
    sl_str_list hosts;
    int64_t port;
    char *keyspace;
    char *table;
    sl_str_list key;               /* primary key columns, partition key first */
    sl_str_list partition_key;     /* a prefix of key; default its first column */
    const sl_node *columns;        /* declared name: CQL type (wins over inference) */
    bool create;                   /* create keyspace and table when missing */
    const sl_node *replication;    /* keyspace replication map for create */
    char *consistency;
    int64_t ttl_ms;                /* 0: rows never expire */
    int64_t concurrency;           /* writes (requests) in flight */
    int64_t batch_rows;            /* rows per unlogged batch (1: single EXECUTEs) */
    char *username;
    char *password;
    char *compression;             /* none | lz4 */
    bool tls;
    char *tls_ca;
    char *tls_cert;
    char *tls_key;
    bool tls_verify;
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
} sl_cassandra_conf;

extern const sl_sink_ops sl_cassandra_sink;

#endif
