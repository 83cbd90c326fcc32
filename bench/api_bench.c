/* api_bench.c — the HTTP API of `sluice server` under load, beside the
 * ceiling of the same client against a minimal libmicrohttpd server.
 *
 * It starts `build/sluice server` on a config of its own in bench/out/api
 * (a generator feeding topic `events`, 3 partitions, and a pipeline reading
 * it as a group), with BENCH_API_GROUPS (default 10,000) consumer groups
 * written beforehand in the log's on-disk format (groups/<group>/<topic>.offsets,
 * "partition next-offset" lines), waits until the generator has written its 200,000 records (so the API is measured, not the feed),
 * then measures for BENCH_API_SECONDS (default 5) each:
 *   GET /api/v1/pipelines                       the pipelines' status
 *   GET /api/v1/topics/events/messages?limit=100  a page of messages, merged over partitions
 *   GET /api/v1/groups?limit=100                a page of groups among BENCH_API_GROUPS
 * with BENCH_API_CONNECTIONS (default 3) keep-alive connections, one thread
 * each with its own reused libcurl easy handle, one request at a time:
 * requests/s, latency p50 and p99. The reference is the same client against
 * a libmicrohttpd server in this process (the same thread pool size as
 * sluice's, 2) answering a fixed body of the same size as each answer: what
 * HTTP alone costs, the ceiling. Prints the figures and the ratio
 * sluice/reference; asserts nothing; exits 1 only when the server fails.
 *   build/api_bench [build/sluice]   (from the repository root; `make bench` builds it)
 */
#include <curl/curl.h>
#include <limits.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORK_DIR "bench/out/api"
#define MAX_CONNECTIONS 16
#define MAX_SAMPLES (4 * 1024 * 1024)

typedef struct body {
    char *data;
    size_t len;
} body;

typedef struct client {
    const char *url;
    double seconds;
    double *latencies_ms;   /* this client's samples */
    size_t n_samples;
    size_t n_failed;
} client;

typedef struct figures {
    double requests_per_s;
    double p50_ms;
    double p99_ms;
    size_t n_failed;
} figures;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    body *b = user;
    size_t len = size * n;
    char *grown = realloc(b->data, b->len + len + 1);
    if (!grown) return 0;
    memcpy(grown + b->len, data, len);
    b->data = grown;
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* One GET; the answer's body in *out (caller frees out->data); the status. */
static long get(const char *url, body *out)
{
    CURL *curl = curl_easy_init();
    *out = (body){ 0 };
    if (!curl) return -1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    return status;
}

static void *run_client(void *arg)
{
    client *c = arg;
    CURL *curl = curl_easy_init();
    if (!curl) return NULL;
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    double end = now_s() + c->seconds;
    while (c->n_samples < MAX_SAMPLES / MAX_CONNECTIONS) {
        double started = now_s();
        if (started >= end) break;
        long status = 0;
        if (curl_easy_perform(curl) != CURLE_OK ||
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
            c->n_failed++;
            continue;
        }
        c->latencies_ms[c->n_samples++] = (now_s() - started) * 1000.0;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Loads url from n_connections keep-alive clients for seconds. */
static figures measure(const char *url, int n_connections, double seconds)
{
    figures f = { 0 };
    client clients[MAX_CONNECTIONS];
    pthread_t threads[MAX_CONNECTIONS];
    size_t per_client = MAX_SAMPLES / MAX_CONNECTIONS;
    double started = now_s();
    for (int i = 0; i < n_connections; i++) {
        clients[i] = (client){ .url = url, .seconds = seconds, .latencies_ms = malloc(per_client * sizeof(double)) };
        if (!clients[i].latencies_ms || pthread_create(&threads[i], NULL, run_client, &clients[i]) != 0) {
            fprintf(stderr, "api_bench: cannot start a client thread\n");
            exit(1);
        }
    }
    size_t n = 0;
    for (int i = 0; i < n_connections; i++) {
        pthread_join(threads[i], NULL);
        n += clients[i].n_samples;
        f.n_failed += clients[i].n_failed;
    }
    double elapsed = now_s() - started;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t at = 0;
    for (int i = 0; i < n_connections; i++) {
        if (all) memcpy(all + at, clients[i].latencies_ms, clients[i].n_samples * sizeof *all);
        at += clients[i].n_samples;
        free(clients[i].latencies_ms);
    }
    if (all && n) {
        qsort(all, n, sizeof *all, compare_doubles);
        f.p50_ms = all[n / 2];
        f.p99_ms = all[(size_t)((double)(n - 1) * 0.99)];
    }
    f.requests_per_s = (double)n / elapsed;
    free(all);
    return f;
}

/* ---- the reference server ---- */

typedef struct reference {
    struct MHD_Daemon *daemon;
    body answer;            /* the fixed body; swapped between measurements */
} reference;

static enum MHD_Result answer_fixed(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                    const char *version, const char *upload_data, size_t *upload_data_size,
                                    void **state)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    reference *ref = cls;
    if (!*state) {   /* the first call of a request only sees its headers */
        *state = ref;
        return MHD_YES;
    }
    struct MHD_Response *reply =
        MHD_create_response_from_buffer(ref->answer.len, ref->answer.data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ok = MHD_queue_response(connection, MHD_HTTP_OK, reply);
    MHD_destroy_response(reply);
    return ok;
}

/* ---- the sluice server ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "api_bench: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "api_bench: cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void write_groups(int n_groups)
{
    char path[512];
    make_dir(WORK_DIR "/data");
    make_dir(WORK_DIR "/data/groups");
    for (int i = 0; i < n_groups; i++) {
        snprintf(path, sizeof path, WORK_DIR "/data/groups/bench-%05d", i);
        make_dir(path);
        snprintf(path, sizeof path, WORK_DIR "/data/groups/bench-%05d/events.offsets", i);
        char text[64];
        snprintf(text, sizeof text, "0 %d\n1 %d\n2 %d\n", i % 50, i % 70, i % 90);
        write_file(path, text);
    }
}

static const char CONFIG[] =
    "pipelines:\n"
    "  feed:\n"
    "    source: { generator: { kind: sequence, count: 200000, rate: 20000 } }\n"
    "    sink:   { topic: { name: events, partitions: 3, key: id } }\n"
    "  copy:\n"
    "    source: { topic: { name: events, group: copier } }\n"
    "    sink:   { file: { path: /dev/null } }\n"
    "http: { listen: \"127.0.0.1:0\" }\n";

static pid_t start_server(const char *sluice)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(WORK_DIR) != 0) _exit(127);
        FILE *out = freopen("server.log", "w", stderr);
        (void)out;
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(sluice, sluice, "server", "server.yaml", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The server's URL from data/server.json ("url": "http://..."), waiting up to 60 s. */
static bool server_url(pid_t pid, char *url, size_t size)
{
    for (int i = 0; i < 600; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) return false;
        FILE *f = fopen(WORK_DIR "/data/server.json", "r");
        if (f) {
            char text[2048];
            size_t n = fread(text, 1, sizeof text - 1, f);
            fclose(f);
            text[n] = '\0';
            const char *at = strstr(text, "\"url\":\"");
            if (!at) at = strstr(text, "\"url\": \"");
            if (at) {
                at = strchr(at + 5, '"') + 1;
                const char *end = strchr(at, '"');
                if (end && (size_t)(end - at) < size) {
                    memcpy(url, at, (size_t)(end - at));
                    url[end - at] = '\0';
                    return true;
                }
            }
        }
        usleep(100 * 1000);
    }
    return false;
}

/* Waits up to 120 s until the topic has at least n messages. */
static bool wait_messages(const char *base, long n)
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/topics/events", base);
    for (int i = 0; i < 1200; i++) {
        body b;
        if (get(url, &b) == 200 && b.data) {
            const char *at = strstr(b.data, "\"messages\":");
            long messages = at ? strtol(at + 11, NULL, 10) : 0;
            free(b.data);
            if (messages >= n) return true;
        } else {
            free(b.data);
        }
        usleep(100 * 1000);
    }
    return false;
}

static int env_int(const char *name, int fallback)
{
    const char *text = getenv(name);
    return text && atoi(text) > 0 ? atoi(text) : fallback;
}

int main(int argc, char **argv)
{
    char sluice[4096];
    if (!realpath(argc > 1 ? argv[1] : "build/sluice", sluice)) {
        fprintf(stderr, "api_bench: %s: %s (run `make build/sluice` first)\n", argc > 1 ? argv[1] : "build/sluice",
                strerror(errno));
        return 1;
    }
    int n_groups = env_int("BENCH_API_GROUPS", 10000);
    int seconds = env_int("BENCH_API_SECONDS", 5);
    int n_connections = env_int("BENCH_API_CONNECTIONS", 3);
    if (n_connections > MAX_CONNECTIONS) n_connections = MAX_CONNECTIONS;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    if (system("rm -rf " WORK_DIR " && mkdir -p " WORK_DIR) != 0) {
        fprintf(stderr, "api_bench: cannot make %s\n", WORK_DIR);
        return 1;
    }
    write_file(WORK_DIR "/server.yaml", CONFIG);
    write_groups(n_groups);
    pid_t pid = start_server(sluice);
    char base[256];
    if (pid < 0 || !server_url(pid, base, sizeof base) || !wait_messages(base, 200000)) {
        fprintf(stderr, "api_bench: the server did not start or fill its topic (see %s/server.log)\n", WORK_DIR);
        if (pid > 0) kill(pid, SIGKILL);
        return 1;
    }

    reference ref = { 0 };
    ref.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer_fixed, &ref,
                                  MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = ref.daemon ? MHD_get_daemon_info(ref.daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        fprintf(stderr, "api_bench: the reference libmicrohttpd server did not start\n");
        kill(pid, SIGKILL);
        return 1;
    }
    char reference_url[128];
    snprintf(reference_url, sizeof reference_url, "http://127.0.0.1:%u/fixed", (unsigned)info->port);

    static const struct { const char *name, *path; } routes[] = {
        { "pipelines (status)", "/api/v1/pipelines" },
        { "topic browse, 100 messages", "/api/v1/topics/events/messages?limit=100" },
        { "groups page, 100 of N", "/api/v1/groups?limit=100" },
    };
    printf("API of sluice server: %d keep-alive connections, %d s per route, %d consumer groups\n", n_connections,
           seconds, n_groups);
    printf("%-30s %8s %9s %9s | %9s %9s %9s | %7s\n", "route", "bytes", "req/s", "p50 ms", "ref req/s", "ref p50",
           "ref p99", "ratio");
    int rc = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s%s", base, routes[i].path);
        body sample;
        if (get(url, &sample) != 200) {
            fprintf(stderr, "api_bench: GET %s failed: %s\n", url, sample.data ? sample.data : "(no answer)");
            free(sample.data);
            rc = 1;
            continue;
        }
        figures f = measure(url, n_connections, seconds);
        ref.answer = sample;   /* the reference answers a body of the same size */
        figures r = measure(reference_url, n_connections, seconds);
        printf("%-30s %8zu %9.0f %9.2f | %9.0f %9.2f %9.2f | %6.2fx  (sluice p99 %.2f ms%s)\n", routes[i].name,
               sample.len, f.requests_per_s, f.p50_ms, r.requests_per_s, r.p50_ms, r.p99_ms,
               r.requests_per_s > 0 ? f.requests_per_s / r.requests_per_s : 0.0, f.p99_ms,
               f.n_failed ? ", some requests FAILED" : "");
        if (f.n_failed) rc = 1;
        free(sample.data);
        ref.answer = (body){ 0 };
    }
    double load[1] = { 0 };
    getloadavg(load, 1);
    printf("ratio: sluice's requests/s over the reference's (a fixed body of the same size, same client); "
           "load average %.2f\n", load[0]);
    MHD_stop_daemon(ref.daemon);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "api_bench: the server exited with status %d (see %s/server.log)\n", status, WORK_DIR);
        rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
