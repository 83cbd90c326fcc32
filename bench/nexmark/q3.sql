-- Nexmark q3, local item suggestion: who sells in category 10 in Oregon,
-- Idaho or California (a regular join of auctions with their sellers).
-- Written as the Nexmark repo's Flink SQL, over the views person and
-- auction of the input's events (as its ddl_views.sql).
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
SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
