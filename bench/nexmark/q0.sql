-- Nexmark q0, pass-through: every bid, its fields as they are (the cost of
-- reading and writing the events). The input is the generator's nexmark
-- events, so the bids are the events of type 2.
SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
       bid.`dateTime` AS `dateTime`, bid.extra AS extra
FROM input
WHERE event_type = 2
