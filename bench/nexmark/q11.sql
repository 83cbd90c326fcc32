-- Nexmark q11, user sessions: how many bids each bidder made in each of its
-- sessions (bids less than 10 s apart). The Nexmark repo writes it with
-- Flink's legacy group window (GROUP BY SESSION(...), SESSION_START); this
-- is the same query in the window table function form Flink recommends.
WITH bid AS (
    SELECT bid.bidder AS bidder, bid.`dateTime` AS `dateTime`
    FROM input WHERE event_type = 2
)
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TABLE(SESSION(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
GROUP BY bidder, window_start, window_end
