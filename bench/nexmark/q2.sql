-- Nexmark q2, selection: the bids on auctions whose id is a multiple of 123.
SELECT bid.auction AS auction, bid.price AS price
FROM input
WHERE event_type = 2 AND mod(bid.auction, 123) = 0
