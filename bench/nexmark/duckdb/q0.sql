-- Nexmark q0 over the views of views.sql.
SELECT auction, bidder, price, "dateTime", extra FROM bid;
