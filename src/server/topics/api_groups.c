/* api_groups.c — the consumer-group routes' handlers (see api_groups.h).
 *
 * A list is the embedded groups and Kafka's (when configured) in one order,
 * by (name, source: embedded before kafka), paged by a cursor holding the
 * last (name, source) of the page before. Only the groups of the page are
 * looked into (their topics, offsets and ends), so a page costs the same
 * with ten groups or ten thousand: reading the groups directory once is all
 * the rest costs. With ?topic= a group is listed only when it has offsets
 * for that topic.
 */
#include "server/topics/api_groups.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "scheduler/scheduler.h"
#include "server/api_params.h"
#include "server/dags/dag_json.h"
#include "server/topics/group_offsets.h"
#include "server/topics/kafka_admin.h"
#include "server/server.h"

#define LIST_LIMIT_DEFAULT 100

typedef enum group_source { SOURCE_EMBEDDED = 0, SOURCE_KAFKA } group_source;

static const char *const source_names[] = { "embedded", "kafka" };

typedef struct candidate {
    const char *name;       /* borrowed from a names list */
    group_source source;
} candidate;

/* The embedded group's offsets (of topic alone when not NULL). */
static int embedded_offsets(sl_log *log, const char *group, const char *only_topic, sl_group_offsets *offsets,
                            sl_error *err)
{
    char **topics = NULL;
    size_t n_topics = 0;
    int rc = sl_log_group_topics(log, group, &topics, &n_topics, err);
    for (size_t t = 0; t < n_topics && rc == SL_OK; t++) {
        if (only_topic && strcmp(topics[t], only_topic) != 0) continue;
        sl_topic *topic = NULL;
        sl_error open_err;
        sl_error_clear(&open_err);
        if (sl_log_topic_open(log, topics[t], &topic, &open_err) != SL_OK) {
            /* Offsets of a topic since deleted: shown, with no end. */
            int64_t committed[1];
            rc = sl_log_group_load(log, group, topics[t], committed, 1, err);
            if (rc == SL_OK) rc = sl_group_offsets_add(offsets, topics[t], 0, committed[0], -1, -1);
            continue;
        }
        int32_t n = sl_topic_partitions(topic);
        int64_t *committed = malloc((size_t)n * sizeof *committed);
        if (!committed) {
            rc = sl_error_set(err, SL_ENOMEM, "out of memory reading group '%s'", group);
            break;
        }
        rc = sl_log_group_load(log, group, topics[t], committed, n, err);
        for (int32_t p = 0; p < n && rc == SL_OK; p++)
            rc = sl_group_offsets_add(offsets, topics[t], p, committed[p], sl_topic_start_offset(topic, p),
                                      sl_topic_end_offset(topic, p));
        free(committed);
        if (rc == SL_ENOMEM) sl_error_set(err, rc, "out of memory reading group '%s'", group);
    }
    sl_log_names_free(topics, n_topics);
    return rc;
}

static int candidate_offsets(sl_log *log, sl_kafka_admin *kafka, const candidate *c, const char *only_topic,
                             sl_group_offsets *offsets, sl_error *err)
{
    if (c->source == SOURCE_EMBEDDED) return embedded_offsets(log, c->name, only_topic, offsets, err);
    bool is_found;
    int rc = sl_kafka_admin_group_offsets(kafka, c->name, offsets, &is_found, err);
    if (rc || !only_topic) return rc;
    /* Keep only the topic asked for. */
    size_t kept = 0;
    for (size_t i = 0; i < offsets->n_items; i++) {
        if (strcmp(offsets->items[i].topic, only_topic) == 0) offsets->items[kept++] = offsets->items[i];
        else free(offsets->items[i].topic);
    }
    offsets->n_items = kept;
    return SL_OK;
}

static void write_lag(sl_json_out *out, int64_t lag)
{
    if (lag >= 0) sl_json_int(out, lag);
    else sl_json_null(out);
}

/* {"group","source","topics":[...],"lag"} */
static void write_summary(sl_json_out *out, const candidate *c, const sl_group_offsets *offsets)
{
    sl_json_begin_object(out);
    sl_json_key(out, "group");
    sl_json_string(out, c->name);
    sl_json_key(out, "source");
    sl_json_string(out, source_names[c->source]);
    sl_json_key(out, "topics");
    sl_json_begin_array(out);
    for (size_t i = 0; i < offsets->n_items; i++)
        if (i == 0 || strcmp(offsets->items[i].topic, offsets->items[i - 1].topic) != 0)
            sl_json_string(out, offsets->items[i].topic);
    sl_json_end_array(out);
    sl_json_key(out, "lag");
    write_lag(out, sl_group_offsets_lag(offsets));
    sl_json_end_object(out);
}

static int compare_candidates(const candidate *a, const candidate *b)
{
    int by_name = strcmp(a->name, b->name);
    return by_name ? by_name : (int)a->source - (int)b->source;
}

/* The cursor text of c: its source's digit, then its name. */
static void cursor_of(const candidate *c, char *cursor)
{
    char text[SL_API_NAME_MAX + 2];
    snprintf(text, sizeof text, "%d%s", (int)c->source, c->name);
    sl_dag_cursor_encode('g', text, cursor);
}

/* Asks the offsets of the Kafka groups the page will likely show (the first
 * limit + 1 after the cursor with the prefix) at once, rather than one
 * round trip after another; false with err set when Kafka failed. */
static bool prefetch_kafka_groups(sl_kafka_admin *kafka, char **remote, size_t n_remote, const candidate *after,
                                  const char *prefix, int limit, sl_error *err)
{
    const char **wanted = malloc(((size_t)limit + 1) * sizeof *wanted);
    if (!wanted) {
        sl_error_set(err, SL_ENOMEM, "out of memory");
        return false;
    }
    size_t n = 0, prefix_len = prefix ? strlen(prefix) : 0;
    for (size_t r = 0; r < n_remote && n < (size_t)limit + 1; r++) {
        candidate c = { remote[r], SOURCE_KAFKA };
        if (after->name && compare_candidates(&c, after) <= 0) continue;
        if (prefix_len && strncmp(c.name, prefix, prefix_len) != 0) continue;
        wanted[n++] = c.name;
    }
    int rc = sl_kafka_admin_prefetch_groups(kafka, wanted, n, err);
    free(wanted);
    return rc == SL_OK;
}

static bool kafka_failed(sl_http_response *response, sl_kafka_admin *kafka, const sl_error *err)
{
    /* err names the brokers and what they were asked. */
    (void)kafka;
    sl_http_error(response, 503, "%s", err->message);
    return false;
}

/* Opens the Kafka client when the file maps topics onto Kafka; false after a 5xx. */
static bool open_kafka(void *context, sl_kafka_admin **kafka, sl_http_response *response)
{
    sl_scheduler_dags *dags = sl_scheduler_dags_acquire(sl_server_scheduler(context));
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_kafka_admin_open(sl_scheduler_dags_plan(dags), kafka, &err);
    sl_scheduler_dags_release(dags);
    if (rc == SL_OK) return true;
    sl_http_error(response, rc == SL_ECONFIG ? 500 : 503, "kafka: %s", err.message);
    return false;
}

void sl_api_groups_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    int limit;
    char after_text[SL_API_NAME_MAX + 2];
    const char *prefix = sl_http_query(request, "prefix"), *topic = sl_http_query(request, "topic");
    if (!sl_api_param_limit(sl_http_query(request, "limit"), LIST_LIMIT_DEFAULT, &limit, response) ||
        !sl_api_param_cursor('g', sl_http_query(request, "cursor"), after_text, sizeof after_text, response) ||
        (topic && !sl_api_param_name("topic", topic, response)))
        return;
    candidate after = { .name = after_text[0] ? after_text + 1 : NULL,
                        .source = after_text[0] == '1' ? SOURCE_KAFKA : SOURCE_EMBEDDED };
    if (after_text[0] && after_text[0] != '0' && after_text[0] != '1') {
        sl_http_error(response, 400, "cursor was not given by this list");
        return;
    }
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    sl_log *log = sl_server_log(context);
    sl_kafka_admin *kafka = NULL;
    char **embedded = NULL, **remote = NULL;
    size_t n_embedded = 0, n_remote = 0;
    sl_error err;
    sl_error_clear(&err);
    if (!open_kafka(context, &kafka, response)) return;
    /* Embedded names after the cursor's: a page needs limit + 1 of them
     * (the one past the page says whether there is more), all with a topic
     * filter, which may pass over many. */
    size_t wanted = topic ? SIZE_MAX : (size_t)limit + 1;
    if (sl_log_groups_page(log, after.name, prefix, wanted, &embedded, &n_embedded, &err)) {
        sl_http_error(response, 500, "listing groups: %s", err.message);
        goto done;
    }
    if (kafka && sl_kafka_admin_groups(kafka, &remote, &n_remote, &err)) {
        kafka_failed(response, kafka, &err);
        goto done;
    }
    if (kafka && !prefetch_kafka_groups(kafka, remote, n_remote, &after, prefix, limit, &err)) {
        kafka_failed(response, kafka, &err);
        goto done;
    }
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    sl_json_key(&out, "groups");
    sl_json_begin_array(&out);
    int n_listed = 0, rc = SL_OK;
    bool is_kafka_error = false;
    candidate last = { 0 };
    bool has_more = false;
    size_t e = 0, r = 0;
    while ((e < n_embedded || r < n_remote) && rc == SL_OK && out.rc == SL_OK) {
        /* The next of the two sorted lists. */
        candidate c;
        if (r >= n_remote || (e < n_embedded && strcmp(embedded[e], remote[r]) <= 0))
            c = (candidate){ embedded[e++], SOURCE_EMBEDDED };
        else
            c = (candidate){ remote[r++], SOURCE_KAFKA };
        if (after.name && compare_candidates(&c, &after) <= 0) continue;
        if (prefix_len && strncmp(c.name, prefix, prefix_len) != 0) continue;
        sl_group_offsets offsets = { 0 };
        rc = candidate_offsets(log, kafka, &c, topic, &offsets, &err);
        is_kafka_error = rc && c.source == SOURCE_KAFKA;
        bool is_match = rc == SL_OK && (!topic || offsets.n_items > 0);
        if (is_match && n_listed == limit) {
            has_more = true;
            sl_group_offsets_free(&offsets);
            break;
        }
        if (is_match) {
            write_summary(&out, &c, &offsets);
            last = c;
            n_listed++;
        }
        sl_group_offsets_free(&offsets);
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "next_cursor");
    if (has_more) {
        char cursor[SL_DAG_CURSOR_MAX];
        cursor_of(&last, cursor);
        sl_json_string(&out, cursor);
    } else {
        sl_json_null(&out);
    }
    sl_json_end_object(&out);
    if (out.rc == SL_OK) out.rc = sl_buffer_append_byte(&response->body, '\n');
    if (is_kafka_error) kafka_failed(response, kafka, &err);
    else if (rc) sl_http_error(response, 500, "%s", err.message);
    else if (out.rc) sl_http_error(response, 500, "out of memory");
done:
    sl_log_names_free(embedded, n_embedded);
    sl_log_names_free(remote, n_remote);
    sl_kafka_admin_close(kafka);
}

void sl_api_groups_get(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *group = sl_http_param(request, "group"), *source = sl_http_query(request, "source");
    if (!sl_api_param_name("group", group, response)) return;
    if (source && strcmp(source, "embedded") != 0 && strcmp(source, "kafka") != 0) {
        sl_http_error(response, 400, "source '%.100s' is neither embedded nor kafka", source);
        return;
    }
    sl_log *log = sl_server_log(context);
    sl_kafka_admin *kafka = NULL;
    sl_group_offsets offsets = { 0 };
    sl_error err;
    sl_error_clear(&err);
    candidate c = { group, SOURCE_EMBEDDED };
    int rc = SL_OK;
    if (!source || strcmp(source, "embedded") == 0) rc = embedded_offsets(log, group, NULL, &offsets, &err);
    if (rc) {
        sl_http_error(response, 500, "%s", err.message);
        goto done;
    }
    if (offsets.n_items == 0 && (!source || strcmp(source, "kafka") == 0)) {
        if (!open_kafka(context, &kafka, response)) goto done;
        bool is_found = false;
        if (kafka && sl_kafka_admin_group_offsets(kafka, group, &offsets, &is_found, &err)) {
            kafka_failed(response, kafka, &err);
            goto done;
        }
        if (is_found) c.source = SOURCE_KAFKA;
    }
    if (offsets.n_items == 0) {
        sl_http_error(response, 404, "no consumer group called '%s'%s", group,
                      kafka ? " in the data dir or on Kafka" : " in the data dir");
        goto done;
    }
    sl_json_out out;
    sl_json_out_init(&out, &response->body);
    sl_json_begin_object(&out);
    sl_json_key(&out, "group");
    sl_json_string(&out, group);
    sl_json_key(&out, "source");
    sl_json_string(&out, source_names[c.source]);
    sl_json_key(&out, "offsets");
    sl_json_begin_array(&out);
    for (size_t i = 0; i < offsets.n_items; i++) {
        const sl_group_offset *o = &offsets.items[i];
        sl_json_begin_object(&out);
        sl_json_key(&out, "topic");
        sl_json_string(&out, o->topic);
        sl_json_key(&out, "partition");
        sl_json_int(&out, o->partition);
        sl_json_key(&out, "committed");
        if (o->committed >= 0) sl_json_int(&out, o->committed);
        else sl_json_null(&out);
        sl_json_key(&out, "end_offset");
        if (o->end_offset >= 0) sl_json_int(&out, o->end_offset);
        else sl_json_null(&out);
        sl_json_key(&out, "lag");
        write_lag(&out, sl_group_offset_lag(o));
        sl_json_end_object(&out);
    }
    sl_json_end_array(&out);
    sl_json_key(&out, "lag");
    write_lag(&out, sl_group_offsets_lag(&offsets));
    sl_json_end_object(&out);
    if (out.rc == SL_OK) out.rc = sl_buffer_append_byte(&response->body, '\n');
    if (out.rc) sl_http_error(response, 500, "out of memory");
done:
    sl_group_offsets_free(&offsets);
    sl_kafka_admin_close(kafka);
}
