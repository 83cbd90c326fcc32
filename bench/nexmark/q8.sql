-- Nexmark q8, monitor new users: the people who joined and opened an
-- auction in the same tumbling window of 10 s. Flink SQL as the Nexmark
-- repo's; not yet runnable by sluice.
WITH person AS (
    SELECT person.id AS id, person.name AS name, person.emailAddress AS emailAddress,
           person.creditCard AS creditCard, person.city AS city, person.state AS state,
           person.`dateTime` AS `dateTime`, person.extra AS extra
    FROM input WHERE event_type = 0
), auction AS (
    SELECT auction.id AS id, auction.itemName AS itemName, auction.description AS description,
           auction.initialBid AS initialBid, auction.reserve AS reserve,
           auction.`dateTime` AS `dateTime`, auction.expires AS expires,
           auction.seller AS seller, auction.category AS category, auction.extra AS extra
    FROM input WHERE event_type = 1
)
SELECT P.id, P.name, P.starttime
FROM (
    SELECT id, name, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY id, name, window_start, window_end
) P
JOIN (
    SELECT seller, window_start AS starttime, window_end AS endtime
    FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
