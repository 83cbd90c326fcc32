-- Nexmark q11, user sessions: how many bids each bidder made in each of its
-- sessions (bids less than 10 s apart). Flink SQL as the Nexmark repo's
-- (its group-window SESSION form); not yet runnable by sluice.
WITH bid AS (
    SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
           bid.channel AS channel, bid.url AS url, bid.`dateTime` AS `dateTime`,
           bid.extra AS extra
    FROM input WHERE event_type = 2
)
SELECT B.bidder, count(*) AS bid_count,
       SESSION_START(B.`dateTime`, INTERVAL '10' SECOND) AS starttime,
       SESSION_END(B.`dateTime`, INTERVAL '10' SECOND) AS endtime
FROM bid B
GROUP BY B.bidder, SESSION(B.`dateTime`, INTERVAL '10' SECOND)
