/* kafka_admin.c — Kafka's consumer groups through librdkafka's admin API
 * (see kafka_admin.h). Librdkafka 2.0 answers admin requests on a queue:
 * each request here gets its own queue, is sent with a request timeout, and
 * the queue is polled until a little past it, so a cluster that does not
 * answer costs one bounded wait. The watermarks of a group's partitions are
 * asked one partition at a time within what is left of the same budget.
 */
#include "server/topics/kafka_admin.h"

#include <inttypes.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_common.h"
#include "core/clock.h"
#include "log/log.h"

/* How much longer than the request timeout the answer is waited for. */
#define POLL_GRACE_MS 1000

/* A partition's watermarks, asked once per client (one request) however
 * many groups of the page read it. */
typedef struct watermarks {
    char *topic;
    int32_t partition;
    int64_t low, high;
} watermarks;

/* A group's committed offsets asked ahead (sl_kafka_admin_prefetch_groups). */
typedef struct prefetched_group {
    char *group;
    rd_kafka_topic_partition_list_t *list;   /* NULL once taken, or when its answer failed */
} prefetched_group;

struct sl_kafka_admin {
    sl_kafka_identity who;   /* first: the opaque of librdkafka's log callbacks */
    rd_kafka_t *client;
    char *brokers;
    watermarks *known;
    size_t n_known;
    size_t known_capacity;
    prefetched_group *prefetched;
    size_t n_prefetched;
    rd_kafka_conf_t *consumer_conf;   /* the same settings, for browsing consumers */
};

int sl_kafka_admin_open(const sl_plan *plan, sl_kafka_admin **out, sl_error *err)
{
    *out = NULL;
    const sl_node *kafka_node = plan ? sl_node_get(sl_node_get(sl_config_root(plan->doc), "topics"), "kafka") : NULL;
    const sl_node *brokers = sl_node_get(kafka_node, "brokers");
    if (!brokers || brokers->kind != SL_NODE_SCALAR) return SL_OK;
    sl_kafka_admin *kafka = calloc(1, sizeof *kafka);
    if (!kafka || !(kafka->brokers = strdup(brokers->scalar))) {
        free(kafka);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    sl_kafka_identity_init(&kafka->who, kafka->brokers, "groups API", "-");
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = sl_kafka_conf_set(conf, "bootstrap.servers", kafka->brokers, err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "log.connection.close", "false", err);
    if (rc == SL_OK) rc = sl_kafka_conf_apply_properties(conf, sl_node_get(kafka_node, "properties"), NULL, NULL, err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        sl_kafka_admin_close(kafka);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, kafka);
    sl_kafka_conf_set_logging(conf);
    kafka->consumer_conf = rd_kafka_conf_dup(conf);
    kafka->client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!kafka->client) {
        rd_kafka_conf_destroy(conf);
        rc = sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': %s", kafka->brokers, error);
        sl_kafka_admin_close(kafka);
        return rc;
    }
    *out = kafka;
    return SL_OK;
}

void sl_kafka_admin_close(sl_kafka_admin *kafka)
{
    if (!kafka) return;
    if (kafka->client) rd_kafka_destroy(kafka->client);
    for (size_t i = 0; i < kafka->n_known; i++) free(kafka->known[i].topic);
    free(kafka->known);
    for (size_t i = 0; i < kafka->n_prefetched; i++) {
        free(kafka->prefetched[i].group);
        if (kafka->prefetched[i].list) rd_kafka_topic_partition_list_destroy(kafka->prefetched[i].list);
    }
    free(kafka->prefetched);
    if (kafka->consumer_conf) rd_kafka_conf_destroy(kafka->consumer_conf);
    free(kafka->brokers);
    free(kafka);
}

const char *sl_kafka_admin_brokers(const sl_kafka_admin *kafka)
{
    return kafka->brokers;
}

/* Options for an admin request of kind with the request timeout set. */
static rd_kafka_AdminOptions_t *admin_options(sl_kafka_admin *kafka, rd_kafka_admin_op_t kind, sl_error *err)
{
    char error[256];
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(kafka->client, kind);
    if (!options) {
        sl_error_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    if (rd_kafka_AdminOptions_set_request_timeout(options, SL_KAFKA_ADMIN_TIMEOUT_MS, error, sizeof error)) {
        sl_error_set(err, SL_EINVAL, "kafka: %s", error);
        rd_kafka_AdminOptions_destroy(options);
        return NULL;
    }
    return options;
}

/* The answer of type on queue, or NULL with err set after the deadline. */
static rd_kafka_event_t *wait_answer(sl_kafka_admin *kafka, rd_kafka_queue_t *queue, rd_kafka_event_type_t type,
                                     const char *what, sl_error *err)
{
    int64_t deadline = sl_clock_monotonic_ms() + SL_KAFKA_ADMIN_TIMEOUT_MS + POLL_GRACE_MS;
    for (;;) {
        int64_t left = deadline - sl_clock_monotonic_ms();
        if (left <= 0) break;
        rd_kafka_event_t *event = rd_kafka_queue_poll(queue, (int)left);
        if (!event) break;
        if (rd_kafka_event_type(event) == type) {
            if (rd_kafka_event_error(event)) {
                sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': %s: %s", kafka->brokers, what,
                             rd_kafka_event_error_string(event));
                rd_kafka_event_destroy(event);
                return NULL;
            }
            return event;
        }
        rd_kafka_event_destroy(event);
    }
    sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': %s: no answer within %d ms", kafka->brokers, what,
                 SL_KAFKA_ADMIN_TIMEOUT_MS + POLL_GRACE_MS);
    return NULL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_kafka_admin_groups(sl_kafka_admin *kafka, char ***names, size_t *n_names, sl_error *err)
{
    *names = NULL;
    *n_names = 0;
    rd_kafka_AdminOptions_t *options = admin_options(kafka, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, err);
    if (!options) return err ? err->code : SL_ENOMEM;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(kafka->client);
    rd_kafka_ListConsumerGroups(kafka->client, options, queue);
    rd_kafka_event_t *event = wait_answer(kafka, queue, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
                                          "listing consumer groups", err);
    int rc = event ? SL_OK : SL_ETIMEOUT;
    if (event) {
        const rd_kafka_ListConsumerGroups_result_t *result = rd_kafka_event_ListConsumerGroups_result(event);
        size_t n_errors = 0, n_valid = 0;
        const rd_kafka_error_t **errors = rd_kafka_ListConsumerGroups_result_errors(result, &n_errors);
        const rd_kafka_ConsumerGroupListing_t **valid = rd_kafka_ListConsumerGroups_result_valid(result, &n_valid);
        if (n_errors > 0) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': listing consumer groups: %s", kafka->brokers,
                              rd_kafka_error_string(errors[0]));
        } else if (n_valid > 0) {
            char **found = calloc(n_valid, sizeof *found);
            rc = found ? SL_OK : SL_ENOMEM;
            size_t n = 0;
            for (size_t i = 0; i < n_valid && rc == SL_OK; i++) {
                found[n] = strdup(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
                if (!found[n]) rc = SL_ENOMEM;
                else n++;
            }
            if (rc) {
                sl_log_names_free(found, n);
                sl_error_set(err, rc, "out of memory listing Kafka's groups");
            } else {
                qsort(found, n, sizeof *found, compare_names);
                *names = found;
                *n_names = n;
            }
        }
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    return rc;
}

/* The committed offsets of groups[0..n), asked all at once (librdkafka
 * takes one group per ListConsumerGroupOffsets request, so n requests go
 * out on one queue and their answers are gathered as they come, within one
 * timeout): lists[i] gets a copy of group i's (the caller destroys them),
 * or stays NULL when the answer failed, with err saying why. */
static int committed_offsets_of(sl_kafka_admin *kafka, const char *const *groups, size_t n,
                                rd_kafka_topic_partition_list_t **lists, sl_error *err)
{
    int rc = SL_OK;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(kafka->client);
    size_t n_sent = 0, n_answered = 0;
    for (size_t i = 0; i < n; i++) {
        lists[i] = NULL;
        rd_kafka_AdminOptions_t *options = admin_options(kafka, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, err);
        if (!options) {
            rc = err ? err->code : SL_ENOMEM;
            break;
        }
        rd_kafka_AdminOptions_set_opaque(options, (void *)(uintptr_t)i);
        rd_kafka_ListConsumerGroupOffsets_t *request = rd_kafka_ListConsumerGroupOffsets_new(groups[i], NULL);
        rd_kafka_ListConsumerGroupOffsets(kafka->client, &request, 1, options, queue);
        rd_kafka_ListConsumerGroupOffsets_destroy(request);
        rd_kafka_AdminOptions_destroy(options);
        n_sent++;
    }
    int64_t deadline = sl_clock_monotonic_ms() + SL_KAFKA_ADMIN_TIMEOUT_MS + POLL_GRACE_MS;
    while (n_answered < n_sent) {
        int64_t left = deadline - sl_clock_monotonic_ms();
        rd_kafka_event_t *event = left > 0 ? rd_kafka_queue_poll(queue, (int)left) : NULL;
        if (!event) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': offsets of %zu groups: no answer within %d ms",
                              kafka->brokers, n_sent - n_answered, SL_KAFKA_ADMIN_TIMEOUT_MS + POLL_GRACE_MS);
            break;
        }
        if (rd_kafka_event_type(event) != RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT) {
            rd_kafka_event_destroy(event);
            continue;
        }
        n_answered++;
        size_t i = (size_t)(uintptr_t)rd_kafka_event_opaque(event);
        const rd_kafka_ListConsumerGroupOffsets_result_t *result = rd_kafka_event_ListConsumerGroupOffsets_result(event);
        size_t n_groups = 0;
        const rd_kafka_group_result_t **answers =
            result ? rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n_groups) : NULL;
        const rd_kafka_error_t *group_error = n_groups ? rd_kafka_group_result_error(answers[0]) : NULL;
        if (rd_kafka_event_error(event)) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': offsets of group '%s': %s", kafka->brokers,
                              groups[i], rd_kafka_event_error_string(event));
        } else if (n_groups == 0 || i >= n) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': offsets of group '%s': no answer for the group",
                              kafka->brokers, i < n ? groups[i] : "?");
        } else if (group_error) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': offsets of group '%s': %s", kafka->brokers,
                              groups[i], rd_kafka_error_string(group_error));
        } else if (!lists[i]) {
            const rd_kafka_topic_partition_list_t *partitions = rd_kafka_group_result_partitions(answers[0]);
            lists[i] = partitions ? rd_kafka_topic_partition_list_copy(partitions) : rd_kafka_topic_partition_list_new(0);
        }
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    return rc;
}

/* The committed offsets of group: prefetched (taken from the client), or
 * asked now. A list the caller destroys, or NULL with err set. */
static rd_kafka_topic_partition_list_t *committed_offsets(sl_kafka_admin *kafka, const char *group, sl_error *err)
{
    for (size_t i = 0; i < kafka->n_prefetched; i++) {
        if (!kafka->prefetched[i].list || strcmp(kafka->prefetched[i].group, group) != 0) continue;
        rd_kafka_topic_partition_list_t *list = kafka->prefetched[i].list;
        kafka->prefetched[i].list = NULL;
        return list;
    }
    rd_kafka_topic_partition_list_t *list = NULL;
    committed_offsets_of(kafka, &group, 1, &list, err);
    return list;
}

int sl_kafka_admin_prefetch_groups(sl_kafka_admin *kafka, const char *const *groups, size_t n, sl_error *err)
{
    if (n == 0) return SL_OK;
    rd_kafka_topic_partition_list_t **lists = calloc(n, sizeof *lists);
    prefetched_group *grown = realloc(kafka->prefetched, (kafka->n_prefetched + n) * sizeof *grown);
    if (!lists || !grown) {
        free(lists);
        if (grown) kafka->prefetched = grown;
        return sl_error_set(err, SL_ENOMEM, "out of memory asking Kafka for groups' offsets");
    }
    kafka->prefetched = grown;
    int rc = committed_offsets_of(kafka, groups, n, lists, err);
    for (size_t i = 0; i < n; i++) {
        char *name = strdup(groups[i]);
        if (!name) {
            if (lists[i]) rd_kafka_topic_partition_list_destroy(lists[i]);
            continue;
        }
        kafka->prefetched[kafka->n_prefetched++] = (prefetched_group){ name, lists[i] };
    }
    free(lists);
    return rc;
}

/* The watermarks of topic/partition, asked within left_ms unless known. */
static rd_kafka_resp_err_t query_watermarks(sl_kafka_admin *kafka, const char *topic, int32_t partition,
                                            int64_t left_ms, int64_t *low, int64_t *high)
{
    for (size_t i = 0; i < kafka->n_known; i++) {
        if (kafka->known[i].partition == partition && strcmp(kafka->known[i].topic, topic) == 0) {
            *low = kafka->known[i].low;
            *high = kafka->known[i].high;
            return RD_KAFKA_RESP_ERR_NO_ERROR;
        }
    }
    if (left_ms <= 0) return RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(kafka->client, topic, partition, low, high,
                                                                (int)left_ms);
    if (code) return code;
    if (kafka->n_known == kafka->known_capacity) {
        size_t capacity = kafka->known_capacity ? 2 * kafka->known_capacity : 16;
        watermarks *grown = realloc(kafka->known, capacity * sizeof *grown);
        if (!grown) return RD_KAFKA_RESP_ERR_NO_ERROR;   /* not kept: asked again if needed */
        kafka->known = grown;
        kafka->known_capacity = capacity;
    }
    char *copy = strdup(topic);
    if (copy) kafka->known[kafka->n_known++] = (watermarks){ copy, partition, *low, *high };
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int compare_partitions(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    int by_topic = strcmp(x->topic, y->topic);
    return by_topic ? by_topic : (x->partition > y->partition) - (x->partition < y->partition);
}

int sl_kafka_admin_group_offsets(sl_kafka_admin *kafka, const char *group, sl_group_offsets *offsets, bool *is_found,
                            sl_error *err)
{
    *is_found = false;
    int64_t deadline = sl_clock_monotonic_ms() + SL_KAFKA_ADMIN_TIMEOUT_MS;
    rd_kafka_topic_partition_list_t *committed = committed_offsets(kafka, group, err);
    if (!committed) return SL_ETIMEOUT;
    qsort(committed->elems, (size_t)committed->cnt, sizeof *committed->elems, compare_partitions);
    int rc = SL_OK;
    for (int i = 0; i < committed->cnt && rc == SL_OK; i++) {
        const rd_kafka_topic_partition_t *p = &committed->elems[i];
        if (p->err || p->offset < 0) continue;   /* no offset committed for it */
        *is_found = true;
        int64_t low = -1, high = -1;
        rd_kafka_resp_err_t code = query_watermarks(kafka, p->topic, p->partition,
                                                    deadline - sl_clock_monotonic_ms(), &low, &high);
        if (code) {
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': watermarks of %s partition %" PRId32 ": %s",
                              kafka->brokers, p->topic, p->partition, rd_kafka_err2str(code));
            break;
        }
        if (sl_group_offsets_add(offsets, p->topic, p->partition, p->offset, low, high))
            rc = sl_error_set(err, SL_ENOMEM, "out of memory reading group '%s'", group);
    }
    rd_kafka_topic_partition_list_destroy(committed);
    return rc;
}

/* ---- topics ---- */

/* The cluster's metadata (all topics, or one), destroyed by the caller. */
static int metadata_of(sl_kafka_admin *kafka, const char *topic, const struct rd_kafka_metadata **out, sl_error *err)
{
    rd_kafka_topic_t *handle = topic ? rd_kafka_topic_new(kafka->client, topic, NULL) : NULL;
    if (topic && !handle) return sl_error_set(err, SL_ENOMEM, "out of memory");
    rd_kafka_resp_err_t code = rd_kafka_metadata(kafka->client, topic ? 0 : 1, handle, out, SL_KAFKA_ADMIN_TIMEOUT_MS);
    if (handle) rd_kafka_topic_destroy(handle);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_OK;
    return sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': metadata%s%s: %s", kafka->brokers,
                        topic ? " of " : "", topic ? topic : "", rd_kafka_err2str(code));
}

typedef struct named_count {
    char *name;
    int32_t count;
} named_count;

static int compare_named(const void *a, const void *b)
{
    return strcmp(((const named_count *)a)->name, ((const named_count *)b)->name);
}

int sl_kafka_admin_topics(sl_kafka_admin *kafka, char ***names, int32_t **partitions, size_t *n_topics,
                          sl_error *err)
{
    *names = NULL;
    *partitions = NULL;
    *n_topics = 0;
    const struct rd_kafka_metadata *metadata = NULL;
    int rc = metadata_of(kafka, NULL, &metadata, err);
    if (rc) return rc;
    size_t n = 0, total = (size_t)metadata->topic_cnt;
    named_count *found = calloc(total ? total : 1, sizeof *found);
    char **out_names = calloc(total ? total : 1, sizeof *out_names);
    int32_t *out_counts = calloc(total ? total : 1, sizeof *out_counts);
    rc = found && out_names && out_counts ? SL_OK : SL_ENOMEM;
    for (size_t i = 0; i < total && rc == SL_OK; i++) {
        const rd_kafka_metadata_topic_t *t = &metadata->topics[i];
        if (t->err || strncmp(t->topic, "__", 2) == 0) continue;
        found[n].name = strdup(t->topic);
        if (!found[n].name) rc = SL_ENOMEM;
        else found[n++].count = t->partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    if (rc == SL_OK) {
        qsort(found, n, sizeof *found, compare_named);
        for (size_t i = 0; i < n; i++) {
            out_names[i] = found[i].name;
            out_counts[i] = found[i].count;
        }
        *names = out_names;
        *partitions = out_counts;
        *n_topics = n;
    } else {
        for (size_t i = 0; i < n; i++) free(found[i].name);
        free(out_names);
        free(out_counts);
        sl_error_set(err, rc, "out of memory listing Kafka's topics");
    }
    free(found);
    return rc;
}

static int64_t setting_number(const char *text)
{
    char *end = NULL;
    long long value = text ? strtoll(text, &end, 10) : -1;
    return text && end && *end == '\0' && value >= 0 ? (int64_t)value : -1;
}

/* retention.ms, retention.bytes and compression.type of topic into info. */
static int describe_settings(sl_kafka_admin *kafka, const char *topic, sl_kafka_topic_info *info, sl_error *err)
{
    rd_kafka_AdminOptions_t *options = admin_options(kafka, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, err);
    if (!options) return SL_ENOMEM;
    rd_kafka_ConfigResource_t *resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(kafka->client);
    rd_kafka_DescribeConfigs(kafka->client, &resource, 1, options, queue);
    char what[300];
    snprintf(what, sizeof what, "settings of topic %s", topic);
    rd_kafka_event_t *event = wait_answer(kafka, queue, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, what, err);
    int rc = event ? SL_OK : SL_ETIMEOUT;
    if (event) {
        size_t n_resources = 0;
        const rd_kafka_ConfigResource_t **resources =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &n_resources);
        for (size_t r = 0; r < n_resources; r++) {
            size_t n_entries = 0;
            const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(resources[r], &n_entries);
            for (size_t e = 0; e < n_entries; e++) {
                const char *name = rd_kafka_ConfigEntry_name(entries[e]);
                const char *value = rd_kafka_ConfigEntry_value(entries[e]);
                if (strcmp(name, "retention.ms") == 0) info->retention_ms = setting_number(value);
                else if (strcmp(name, "retention.bytes") == 0) info->retention_bytes = setting_number(value);
                else if (strcmp(name, "compression.type") == 0 && value)
                    snprintf(info->compression, sizeof info->compression, "%s", value);
            }
        }
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_ConfigResource_destroy(resource);
    rd_kafka_AdminOptions_destroy(options);
    return rc;
}

int sl_kafka_admin_topic(sl_kafka_admin *kafka, const char *topic, sl_kafka_topic_info *info, bool *is_found,
                         sl_error *err)
{
    *info = (sl_kafka_topic_info){ .retention_ms = -1, .retention_bytes = -1 };
    *is_found = false;
    int64_t deadline = sl_clock_monotonic_ms() + SL_KAFKA_ADMIN_TIMEOUT_MS;
    const struct rd_kafka_metadata *metadata = NULL;
    int rc = metadata_of(kafka, topic, &metadata, err);
    if (rc) return rc;
    int32_t n = 0;
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = metadata->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(metadata);
    if (n <= 0) return SL_OK;
    info->partitions = n;
    info->low = calloc((size_t)n, sizeof *info->low);
    info->high = calloc((size_t)n, sizeof *info->high);
    if (!info->low || !info->high) {
        sl_kafka_topic_info_free(info);
        return sl_error_set(err, SL_ENOMEM, "out of memory describing topic %s", topic);
    }
    for (int32_t p = 0; p < n && rc == SL_OK; p++) {
        rd_kafka_resp_err_t code = query_watermarks(kafka, topic, p, deadline - sl_clock_monotonic_ms(),
                                                    &info->low[p], &info->high[p]);
        if (code)
            rc = sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': watermarks of %s partition %d: %s",
                              kafka->brokers, topic, (int)p, rd_kafka_err2str(code));
    }
    if (rc == SL_OK) rc = describe_settings(kafka, topic, info, err);
    if (rc) {
        sl_kafka_topic_info_free(info);
        return rc;
    }
    *is_found = true;
    return SL_OK;
}

void sl_kafka_topic_info_free(sl_kafka_topic_info *info)
{
    free(info->low);
    free(info->high);
    info->low = info->high = NULL;
}

/* ---- what browsing needs ---- */

int sl_kafka_admin_partitions(sl_kafka_admin *kafka, const char *topic, int32_t *n, sl_error *err)
{
    *n = 0;
    const struct rd_kafka_metadata *metadata = NULL;
    int rc = metadata_of(kafka, topic, &metadata, err);
    if (rc) return rc;
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        *n = metadata->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(metadata);
    return SL_OK;
}

int sl_kafka_admin_watermarks(sl_kafka_admin *kafka, const char *topic, int32_t partition, int64_t *low,
                              int64_t *high, sl_error *err)
{
    rd_kafka_resp_err_t code = query_watermarks(kafka, topic, partition, SL_KAFKA_ADMIN_TIMEOUT_MS, low, high);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return SL_OK;
    return sl_error_set(err, SL_ETIMEOUT, "kafka brokers '%s': watermarks of %s partition %d: %s", kafka->brokers,
                        topic, (int)partition, rd_kafka_err2str(code));
}

rd_kafka_t *sl_kafka_admin_consumer(sl_kafka_admin *kafka, sl_error *err)
{
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(kafka->consumer_conf);
    /* Never subscribed and never committing: assign() alone, so the group
     * is only a name and no offsets of anyone's are touched. */
    int rc = sl_kafka_conf_set(conf, "group.id", "sluice-api-browse", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "enable.auto.commit", "false", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "enable.auto.offset.store", "false", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "enable.partition.eof", "true", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "queued.max.messages.kbytes", "16384", err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!consumer) {
        rd_kafka_conf_destroy(conf);
        sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': %s", kafka->brokers, error);
    }
    return consumer;
}

/* ---- producing one message ---- */

typedef struct delivery {
    bool is_done;
    rd_kafka_resp_err_t error;
    int32_t partition;
    int64_t offset;
} delivery;

static void on_delivery(rd_kafka_t *client, const rd_kafka_message_t *message, void *opaque)
{
    (void)client;
    (void)opaque;
    delivery *d = message->_private;
    d->is_done = true;
    d->error = message->err;
    d->partition = message->partition;
    d->offset = message->offset;
}

int sl_kafka_admin_produce(sl_kafka_admin *kafka, const char *topic, int32_t partition, const sl_record *record,
                           int32_t *stored_partition, int64_t *stored_offset, sl_error *err)
{
    /* A producer of its own for the call: the admin client's has no
     * delivery callback, and one message a request costs little beside
     * the broker's round trip. */
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(kafka->consumer_conf);
    if (!conf) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = sl_kafka_conf_set(conf, "partitioner", "murmur2_random", err);
    if (rc == SL_OK) rc = sl_kafka_conf_set(conf, "enable.idempotence", "true", err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!producer) {
        rd_kafka_conf_destroy(conf);
        return sl_error_set(err, SL_ECONFIG, "kafka brokers '%s': %s", kafka->brokers, error);
    }
    rd_kafka_headers_t *headers = record->n_headers ? rd_kafka_headers_new(record->n_headers) : NULL;
    for (size_t i = 0; headers && i < record->n_headers; i++)
        rd_kafka_header_add(headers, record->headers[i].key.ptr, (ssize_t)record->headers[i].key.len,
                            record->headers[i].value.ptr, (ssize_t)record->headers[i].value.len);
    delivery d = { 0 };
    rd_kafka_resp_err_t sent = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(record->key.ptr, record->key.len),
        RD_KAFKA_V_VALUE((void *)record->raw.ptr, record->raw.len), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (sent != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (headers) rd_kafka_headers_destroy(headers);   /* not taken by a failed produce */
        rc = sl_error_set_transient(err, SL_ESINK, "kafka brokers '%s': topic %s: %s", kafka->brokers, topic,
                                    rd_kafka_err2str(sent));
    } else {
        rd_kafka_flush(producer, 30000);
        if (!d.is_done)
            rc = sl_error_set_transient(err, SL_ETIMEOUT, "kafka brokers '%s': topic %s: no acknowledgement within "
                                        "30 s", kafka->brokers, topic);
        else if (d.error)
            rc = sl_error_set(err, SL_ESINK, "kafka brokers '%s': topic %s: %s", kafka->brokers, topic,
                              rd_kafka_err2str(d.error));
    }
    if (rc == SL_OK) {
        *stored_partition = d.partition;
        *stored_offset = d.offset;
    }
    rd_kafka_destroy(producer);
    return rc;
}
