-- Nexmark q5 over the views of views.sql. Hop windows of 10 s sliding by
-- 2 s, aligned on the epoch as Flink's HOP: a bid at t (µs) is in the 5
-- windows starting at (floor(t / 2 s) - k) * 2 s, k = 0..4.
WITH hop AS (
    SELECT auction,
           (epoch_us("dateTime") // 2000000 - k) * 2000000 AS start_us
    FROM bid, (SELECT unnest(range(5)) AS k)
), counts AS (
    SELECT auction, count(*) AS num, start_us FROM hop GROUP BY auction, start_us
), maxima AS (
    SELECT max(num) AS maxn, start_us FROM counts GROUP BY start_us
)
SELECT C.auction, C.num
FROM counts C JOIN maxima M ON C.start_us = M.start_us AND C.num >= M.maxn;
