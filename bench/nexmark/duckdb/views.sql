-- The views the DuckDB forms of the Nexmark queries read: `events` over a
-- JSON lines file of the generator's nexmark events ({events} is replaced by
-- its path), and `person`, `auction`, `bid` over it as the Nexmark repo's
-- ddl_views.sql defines them. dateTime and expires are TIMESTAMP (UTC).
CREATE VIEW events AS
SELECT * FROM read_json('{events}', format = 'newline_delimited', columns = {
    event_type: 'INTEGER',
    person: 'STRUCT(id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
                    city VARCHAR, state VARCHAR, "dateTime" TIMESTAMP, extra VARCHAR)',
    auction: 'STRUCT(id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
                     reserve BIGINT, "dateTime" TIMESTAMP, expires TIMESTAMP, seller BIGINT,
                     category BIGINT, extra VARCHAR)',
    bid: 'STRUCT(auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
                 "dateTime" TIMESTAMP, extra VARCHAR)'
});

CREATE VIEW person AS
SELECT person.id AS id, person.name AS name, person.emailAddress AS emailAddress,
       person.creditCard AS creditCard, person.city AS city, person.state AS state,
       person."dateTime" AS "dateTime", person.extra AS extra
FROM events WHERE event_type = 0;

CREATE VIEW auction AS
SELECT auction.id AS id, auction.itemName AS itemName, auction.description AS description,
       auction.initialBid AS initialBid, auction.reserve AS reserve,
       auction."dateTime" AS "dateTime", auction.expires AS expires, auction.seller AS seller,
       auction.category AS category, auction.extra AS extra
FROM events WHERE event_type = 1;

CREATE VIEW bid AS
SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price AS price,
       bid.channel AS channel, bid.url AS url, bid."dateTime" AS "dateTime",
       bid.extra AS extra
FROM events WHERE event_type = 2;
