-- Nexmark q1 over the views of views.sql (0.908 * price is a DECIMAL here).
SELECT auction, bidder, 0.908 * price AS price, "dateTime", extra FROM bid;
