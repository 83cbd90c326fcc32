-- Nexmark q2 over the views of views.sql.
SELECT auction, price FROM bid WHERE auction % 123 = 0;
