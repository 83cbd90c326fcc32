-- Nexmark q1, currency conversion: every bid with its price from dollars to
-- euros. The reference's price is DECIMAL(23, 3); here it is a double.
SELECT bid.auction AS auction, bid.bidder AS bidder, 0.908 * bid.price AS price,
       bid.`dateTime` AS `dateTime`, bid.extra AS extra
FROM input
WHERE event_type = 2
