-- Nexmark q5, hot items: in every hop window of 10 s sliding by 2 s, the
-- auctions with the most bids. Flink SQL as the Nexmark repo's; not yet
-- runnable by sluice.
WITH bid AS (
    SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
           bid.channel AS channel, bid.url AS url, bid.`dateTime` AS `dateTime`,
           bid.extra AS extra
    FROM input WHERE event_type = 2
)
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
    SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
    FROM (
        SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
        FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
    ) AS CountBids
    GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
   AND AuctionBids.num >= MaxBids.maxn
