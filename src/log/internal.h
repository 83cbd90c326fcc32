/* internal.h — what log.c, topic.c and groups.c share and nobody else sees:
 * the sl_log and sl_topic structs, name checks, and topic loading.
 *
 * Ownership: the sl_log owns its registry of open topics; a topic owns its
 * partitions. The registry mutex guards the topic list and every topic
 * create, open and delete; each partition guards itself.
 */
#ifndef SL_LOG_INTERNAL_H
#define SL_LOG_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log/log.h"
#include "log/partition.h"

#define SL_LOG_NAME_MAX 200

struct sl_topic {
    char *name;
    char *dir;                   /* <data_dir>/topics/<name> */
    sl_topic_config config;      /* defaults resolved */
    bool is_read_only;           /* of a read-only log: appends, flushes and retention refused */
    sl_partition **partitions;
    int32_t n_partitions;
};

struct sl_log {
    char *data_dir;
    char *topics_dir;
    char *groups_dir;
    int lock_fd;                  /* -1 for a read-only log, which takes no lock */
    bool is_read_only;
    pthread_mutex_t mutex;        /* the topic registry */
    pthread_mutex_t groups_mutex; /* group offset files */
    /* The last listing of groups/ (sl_log_groups), kept while the
     * directory's mtime is unchanged; guarded by its own mutex. */
    pthread_mutex_t group_names_mutex;
    char **group_names;
    size_t n_group_names;
    struct timespec group_names_mtime;
    bool has_group_names;
    sl_topic **topics;
    size_t n_topics;
    size_t topics_capacity;
};

/* Checks a topic or group name: [A-Za-z0-9._-]+, at most 200 characters,
 * not "." or "..". SL_EINVAL naming `what` and the name otherwise. */
int sl__log_check_name(const char *what, const char *name, sl_error *err);

/* malloc'ed "<a>/<b>" (or "<a>/<b><suffix>"); NULL when out of memory. */
char *sl__log_path(const char *a, const char *b, const char *suffix);

/* Opens the topic stored in dir (read-only: writing nothing, for a
 * read-only log); SL_ENOTFOUND when it has no topic.conf. */
int sl__topic_load(const char *dir, const char *name, bool is_read_only, sl_topic **out,
                   sl_error *err);

/* SL_OK for the writer's log; for a read-only one, SL_EINVAL saying that
 * `what` needs the data dir's lock. */
int sl__log_check_writable(const sl_log *log, const char *what, sl_error *err);

/* Creates the topic in dir with config (partitions >= 1). */
int sl__topic_create(const char *dir, const char *name, const sl_topic_config *config,
                     sl_topic **out, sl_error *err);

/* Closes every partition (fsyncing) and frees the topic. Accepts NULL. */
void sl__topic_free(sl_topic *topic);

/* Sorted, malloc'ed names of the entries of dir for which
 * "<dir>/<entry>/<inner>" exists and whose name passes sl__log_check_name. */
int sl__log_list_dir(const char *dir, const char *inner, char ***names, size_t *n_names,
                     sl_error *err);

#endif
