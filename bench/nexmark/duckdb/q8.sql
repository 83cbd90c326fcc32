-- Nexmark q8 over the views of views.sql. Tumbling windows of 10 s aligned
-- on the epoch (window start floor(t / 10 s) * 10 s, in µs).
WITH P AS (
    SELECT id, name, epoch_us("dateTime") // 10000000 * 10000000 AS start_us
    FROM person GROUP BY id, name, start_us
), A AS (
    SELECT seller, epoch_us("dateTime") // 10000000 * 10000000 AS start_us
    FROM auction GROUP BY seller, start_us
)
SELECT P.id, P.name, make_timestamp(P.start_us) AS starttime
FROM P JOIN A ON P.id = A.seller AND P.start_us = A.start_us;
