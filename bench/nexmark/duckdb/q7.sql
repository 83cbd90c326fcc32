-- Nexmark q7 over the views of views.sql. Tumbling windows of 10 s aligned
-- on the epoch: a bid at t (µs) is in the window ending at
-- (floor(t / 10 s) + 1) * 10 s.
WITH maxima AS (
    SELECT MAX(price) AS maxprice, (epoch_us("dateTime") // 10000000 + 1) * 10000000 AS end_us
    FROM bid
    GROUP BY end_us
)
SELECT B.auction, B.price, B.bidder, B."dateTime", B.extra
FROM bid B JOIN maxima B1 ON B.price = B1.maxprice
WHERE epoch_us(B."dateTime") BETWEEN B1.end_us - 10000000 AND B1.end_us;
