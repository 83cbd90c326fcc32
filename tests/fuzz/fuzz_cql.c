/* fuzz_cql.c — libFuzzer target for CQL native protocol v4 responses from
 * a server: frame headers (cql/frame.c), LZ4-compressed bodies
 * (cql/compress.c), every response body (cql/messages_decode.c) and the cells of
 * Rows decoded by their column types (cql/codec_decode.c).
 *
 * The input is a run of response frames as read from a socket: a 9-byte
 * header, then its body (cut short when the input ends first). Each decoded
 * Rows result is walked row by row and every cell decoded; a Prepared
 * result's partition key indexes must name bind markers.
 */
#include "fuzz_util.h"

#include "core/arena.h"
#include "cql/codec.h"
#include "cql/frame.h"
#include "cql/messages.h"

static void walk_rows(const sl_cql_rows *rows, sl_arena *arena)
{
    const sl_cql_metadata *m = &rows->metadata;
    if (m->n_columns > 4096) return;
    sl_cql_cell cells[4096];
    sl_cql_row_iter iter;
    sl_error err;
    int rc;
    sl_cql_rows_begin(rows, &iter);
    while ((rc = sl_cql_rows_next(&iter, cells, &err)) == 1) {
        if (!m->columns) continue;
        for (int32_t c = 0; c < m->n_columns; c++) {
            sl_value value;
            sl_cql_decode_value(m->columns[c].type, cells[c].ptr, cells[c].len, arena, &value, &err);
        }
    }
    fuzz_check(rc == 0, "rows that decoded whole fail to iterate");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_arena *arena = sl_arena_new(0);
    fuzz_check(arena != NULL, "out of memory");
    size_t at = 0;
    while (size - at >= SL_CQL_HEADER_SIZE) {
        sl_cql_header header;
        sl_error err;
        if (sl_cql_header_decode(data + at, size - at, SL_CQL_VERSION_RESPONSE, &header, &err) != SL_OK) break;
        at += SL_CQL_HEADER_SIZE;
        size_t len = header.length < size - at ? header.length : size - at;
        /* A copy of exactly the body's size, so ASan sees any overread. */
        uint8_t *body = malloc(len ? len : 1);
        fuzz_check(body != NULL, "out of memory");
        if (len) memcpy(body, data + at, len);
        sl_cql_response response;
        if (sl_cql_decode_response(&header, body, len, arena, &response, &err) == SL_OK &&
            response.opcode == SL_CQL_OP_RESULT) {
            if (response.result_kind == SL_CQL_RESULT_ROWS) walk_rows(&response.rows, arena);
            if (response.result_kind == SL_CQL_RESULT_PREPARED) {
                const sl_cql_metadata *bind = &response.prepared.bind;
                for (int32_t i = 0; i < bind->n_pk_indexes; i++)
                    fuzz_check(bind->pk_indexes[i] < bind->n_columns, "a partition key index past the columns");
            }
        }
        free(body);
        at += len;
        sl_arena_reset(arena);
    }
    sl_arena_free(arena);
    return 0;
}
