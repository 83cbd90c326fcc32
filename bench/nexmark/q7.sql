-- Nexmark q7, highest bid: the bids at the highest price of their tumbling
-- window of 10 s. Flink SQL as the Nexmark repo's; not yet runnable by
-- sluice.
WITH bid AS (
    SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
           bid.channel AS channel, bid.url AS url, bid.`dateTime` AS `dateTime`,
           bid.extra AS extra
    FROM input WHERE event_type = 2
)
SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra
FROM bid B
JOIN (
    SELECT MAX(price) AS maxprice, window_end AS `dateTime`
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`
