-- Nexmark q11 over the views of views.sql. Session windows of 10 s per
-- bidder: a bid 10 s or more after the bidder's previous one starts a new
-- session; a session ends 10 s after its last bid.
WITH marked AS (
    SELECT bidder, epoch_us("dateTime") AS t_us,
           CASE WHEN epoch_us("dateTime") - lag(epoch_us("dateTime"))
                     OVER (PARTITION BY bidder ORDER BY "dateTime") < 10000000
                THEN 0 ELSE 1 END AS is_new
    FROM bid
), numbered AS (
    SELECT bidder, t_us,
           sum(is_new) OVER (PARTITION BY bidder ORDER BY t_us ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
)
SELECT bidder, count(*) AS bid_count, make_timestamp(min(t_us)) AS starttime,
       make_timestamp(max(t_us) + 10000000) AS endtime
FROM numbered
GROUP BY bidder, session;
