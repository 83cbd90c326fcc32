-- Nexmark q4, average price per category: the average of the closing
-- (highest) bid of each auction, among its bids between its start and its
-- expiry. Flink SQL as the Nexmark repo's; not yet runnable by sluice.
WITH auction AS (
    SELECT auction.id AS id, auction.itemName AS itemName, auction.description AS description,
           auction.initialBid AS initialBid, auction.reserve AS reserve,
           auction.`dateTime` AS `dateTime`, auction.expires AS expires,
           auction.seller AS seller, auction.category AS category, auction.extra AS extra
    FROM input WHERE event_type = 1
), bid AS (
    SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
           bid.channel AS channel, bid.url AS url, bid.`dateTime` AS `dateTime`,
           bid.extra AS extra
    FROM input WHERE event_type = 2
)
SELECT Q.category, AVG(Q.final) AS final
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category
