/* nexmark.c — the Nexmark event model (see nexmark.h for what it gives).
 *
 * Ids. Event ids are dealt in epochs of total = person + auction + bid
 * proportions: within an epoch, offsets [0, person) are people, the next
 * `auction` offsets auctions, the rest bids. The last person (auction) id
 * created by event id e is what last_person()/last_auction() compute; the
 * person or auction an event itself creates is that id. A random person is
 * drawn among the latest num_active_people plus a lead of 10 ids not yet
 * created, a random auction among the latest num_in_flight_auctions plus a
 * lead of 10 (the reference's PERSON_ID_LEAD and AUCTION_ID_LEAD); a hot
 * seller, bidder or auction is the latest id rounded down to a multiple of
 * 100 (+1 for bidders), chosen with probability 1 - 1/ratio. The reference
 * adds FIRST_PERSON_ID to a bidder twice (Flink's BidGenerator); here it is
 * added once, as Beam does, so that bidders are ids of people.
 *
 * Times. Event number n happens at base_time + floor(n * 1e6 / rate µs) in
 * whole milliseconds. Numbers are shuffled within groups of
 * out_of_order_group_size (n -> group base + n * 953 mod size), and the
 * shuffled number gives both the event id and its time.
 *
 * Randomness. splitmix64 (Steele, Lea, Flood 2014), as users.c: the stream
 * of an event starts at mix(mix(seed) ^ event id); a draw below n takes the
 * high 32 bits times n (n < 2^32; a bias under n / 2^32, as Java's nextInt
 * has none but nothing here needs that), a double takes 53 bits. Channel
 * URLs come from streams of (seed, channel), so they need no cache.
 *
 * Text is written by hand into one buffer (no printf), since the generator
 * must not be a benchmark's bottleneck.
 */
#include "connectors/generator/nexmark.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))
#define W(text) { text, sizeof(text) - 1 }

#define PERSON_ID_LEAD 10
#define AUCTION_ID_LEAD 10
#define HOT_SELLER_GRAIN 100
#define HOT_AUCTION_GRAIN 100
#define HOT_BIDDER_GRAIN 100
#define HOT_CHANNELS_RATIO 2
#define N_CHANNELS 10000
#define OUT_OF_ORDER_MULTIPLIER 953
#define MIN_STRING_LENGTH 3

/* Stream keys of the URL streams, apart from the events' ids. */
#define CHANNEL_STREAM_KEY UINT64_C(0x6e65786d61726b31)
#define HOT_URL_STREAM_KEY UINT64_C(0x6e65786d61726b32)

static const sl_str us_states[] = { W("AZ"), W("CA"), W("ID"), W("OR"), W("WA"), W("WY") };
static const sl_str us_cities[] = {
    W("Phoenix"), W("Los Angeles"), W("San Francisco"), W("Boise"), W("Portland"), W("Bend"),
    W("Redmond"), W("Seattle"), W("Kent"), W("Cheyenne"),
};
static const sl_str first_names[] = {
    W("Peter"), W("Paul"), W("Luke"), W("John"), W("Saul"), W("Vicky"), W("Kate"), W("Julie"),
    W("Sarah"), W("Deiter"), W("Walter"),
};
static const sl_str last_names[] = {
    W("Shultz"), W("Abrams"), W("Spencer"), W("White"), W("Bartels"), W("Walton"), W("Smith"),
    W("Jones"), W("Noris"),
};
static const sl_str hot_channels[] = { W("Google"), W("Facebook"), W("Baidu"), W("Apple") };

/* ---- randomness ----------------------------------------------------- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_next(rng *r)
{
    r->state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(r->state);
}

static rng rng_start(uint64_t seed, uint64_t key)
{
    rng r = { mix64(mix64(seed) ^ key) };
    return r;
}

/* A draw in [0, n), n >= 1. */
static int64_t rng_below(rng *r, int64_t n)
{
    if (n <= 1) return 0;
    if ((uint64_t)n <= UINT32_MAX)
        return (int64_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
    return (int64_t)(rng_next(r) % (uint64_t)n);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- text ----------------------------------------------------------- */

typedef struct writer {
    char *pos;
} writer;

static sl_str put(writer *w, sl_str text)
{
    sl_str at = { w->pos, text.len };
    memcpy(w->pos, text.ptr, text.len);
    w->pos += text.len;
    return at;
}

static void put_uint(writer *w, uint64_t n)
{
    char digits[20];
    int n_digits = 0;
    do {
        digits[n_digits++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (n_digits) *w->pos++ = digits[--n_digits];
}

/* The reference's nextString: 3 to max_length - 1 characters, each a
 * lowercase letter or, one time in 13, `special`; spaces at the ends are
 * trimmed. */
static sl_str put_random_string(writer *w, rng *r, int64_t max_length, char special)
{
    int64_t len = MIN_STRING_LENGTH + rng_below(r, max_length - MIN_STRING_LENGTH);
    char *start = w->pos;
    for (int64_t i = 0; i < len; i++)
        *w->pos++ = rng_below(r, 13) == 0 ? special : (char)('a' + rng_below(r, 26));
    char *end = w->pos;
    while (start < end && *start == ' ') start++;
    while (end > start && end[-1] == ' ') end--;
    return (sl_str){ start, (size_t)(end - start) };
}

/* `length` random lowercase letters, 13 from each 64-bit draw. */
static sl_str put_letters(writer *w, rng *r, int64_t length)
{
    sl_str at = { w->pos, (size_t)length };
    while (length > 0) {
        uint64_t draw = rng_next(r);
        for (int i = 0; i < 13 && length > 0; i++, length--) {
            *w->pos++ = (char)('a' + draw % 26);
            draw /= 26;
        }
    }
    return at;
}

/* The reference's nextExtra: letters padding a record of current_size
 * bytes to average_size on average (within ±20% of what is missing). */
static sl_str put_extra(writer *w, rng *r, int64_t current_size, int64_t average_size)
{
    if (current_size > average_size) return (sl_str){ w->pos, 0 };
    int64_t missing = average_size - current_size;
    int64_t delta = (int64_t)llround((double)missing * 0.2);
    int64_t size = missing - delta + (delta == 0 ? 0 : rng_below(r, 2 * delta));
    return put_letters(w, r, size);
}

/* "https://www.nexmark.com/abc/de_f/ghi/item.htm?query=1" */
static void put_base_url(writer *w, rng *r)
{
    put(w, (sl_str)W("https://www.nexmark.com/"));
    for (int i = 0; i < 3; i++) {
        put_random_string(w, r, 5, '_');
        *w->pos++ = '/';
    }
    put(w, (sl_str)W("item.htm?query=1"));
}

/* The 32 bits of n in reverse order, as a non-negative number (the
 * reference takes Math.abs of Java's Integer.reverse). */
static int64_t reversed_bits(uint32_t n)
{
    uint32_t reversed = 0;
    for (int i = 0; i < 32; i++, n >>= 1) reversed = (reversed << 1) | (n & 1);
    int64_t as_signed = reversed >= UINT32_C(0x80000000) ? (int64_t)reversed - (INT64_C(1) << 32)
                                                          : (int64_t)reversed;
    return as_signed < 0 ? -as_signed : as_signed;
}

/* ---- ids and times -------------------------------------------------- */

static int64_t total_proportion(const sl_nexmark_config *c)
{
    return c->person_proportion + c->auction_proportion + c->bid_proportion;
}

/* Base-0 id of the latest person created at or before event id e. */
static int64_t last_person(const sl_nexmark_config *c, int64_t e)
{
    int64_t epoch = e / total_proportion(c), offset = e % total_proportion(c);
    if (offset >= c->person_proportion) offset = c->person_proportion - 1;
    return epoch * c->person_proportion + offset;
}

/* Base-0 id of the latest auction created at or before event id e (-1 before the first). */
static int64_t last_auction(const sl_nexmark_config *c, int64_t e)
{
    int64_t epoch = e / total_proportion(c), offset = e % total_proportion(c);
    if (offset < c->person_proportion) {
        epoch--;
        offset = c->auction_proportion - 1;
    } else if (offset >= c->person_proportion + c->auction_proportion) {
        offset = c->auction_proportion - 1;
    } else {
        offset -= c->person_proportion;
    }
    return epoch * c->auction_proportion + offset;
}

static int64_t random_person(const sl_nexmark_config *c, int64_t e, rng *r)
{
    int64_t n_people = last_person(c, e) + 1;
    int64_t active = n_people < c->num_active_people ? n_people : c->num_active_people;
    return n_people - active + rng_below(r, active + PERSON_ID_LEAD);
}

static int64_t random_auction(const sl_nexmark_config *c, int64_t e, rng *r)
{
    int64_t newest = last_auction(c, e);
    int64_t oldest = newest - c->num_in_flight_auctions;
    if (oldest < 0) oldest = 0;
    return oldest + rng_below(r, newest - oldest + 1 + AUCTION_ID_LEAD);
}

/* Event number after shuffling within its out-of-order group. */
static int64_t adjusted_number(const sl_nexmark_config *c, int64_t n)
{
    int64_t group = c->out_of_order_group_size;
    return n / group * group + (n * OUT_OF_ORDER_MULTIPLIER) % group;
}

/* Event time of event number n, in µs (whole milliseconds after base). */
static int64_t time_of_number(const sl_nexmark_config *c, int64_t n)
{
    double delay_us = 1e6 / (double)c->first_event_rate;
    int64_t after_ms = (int64_t)((double)n * delay_us) / 1000;
    return c->base_time_us + after_ms * 1000;
}

/* ---- events --------------------------------------------------------- */

static void make_person(const sl_nexmark_config *c, int64_t e, int64_t time_us, rng *r, writer *w,
                        sl_nexmark_person *p)
{
    p->id = last_person(c, e) + SL_NEXMARK_FIRST_PERSON_ID;
    char *name_start = w->pos;
    put(w, first_names[rng_below(r, COUNT_OF(first_names))]);
    *w->pos++ = ' ';
    put(w, last_names[rng_below(r, COUNT_OF(last_names))]);
    p->name = (sl_str){ name_start, (size_t)(w->pos - name_start) };
    char *email_start = w->pos;
    sl_str user = put_random_string(w, r, 7, ' ');
    memmove(email_start, user.ptr, user.len);   /* drop leading spaces the trim skipped */
    w->pos = email_start + user.len;
    *w->pos++ = '@';
    char *host_start = w->pos;
    sl_str host = put_random_string(w, r, 5, ' ');
    memmove(host_start, host.ptr, host.len);
    w->pos = host_start + host.len;
    put(w, (sl_str)W(".com"));
    p->email_address = (sl_str){ email_start, (size_t)(w->pos - email_start) };
    char *card_start = w->pos;
    for (int i = 0; i < 4; i++) {
        if (i > 0) *w->pos++ = ' ';
        int64_t group = rng_below(r, 10000);
        for (int64_t scale = 1000; scale >= 1; scale /= 10) *w->pos++ = (char)('0' + group / scale % 10);
    }
    p->credit_card = (sl_str){ card_start, (size_t)(w->pos - card_start) };
    p->city = us_cities[rng_below(r, COUNT_OF(us_cities))];
    p->state = us_states[rng_below(r, COUNT_OF(us_states))];
    p->date_time_us = time_us;
    int64_t size = 8 + (int64_t)(p->name.len + p->email_address.len + p->credit_card.len +
                                 p->city.len + p->state.len);
    p->extra = put_extra(w, r, size, c->avg_person_size);
}

static void make_auction(const sl_nexmark_config *c, int64_t number, int64_t e, int64_t time_us,
                         rng *r, writer *w, sl_nexmark_auction *a)
{
    a->id = last_auction(c, e) + SL_NEXMARK_FIRST_AUCTION_ID;
    int64_t seller;
    if (rng_below(r, c->hot_sellers_ratio) > 0)
        seller = last_person(c, e) / HOT_SELLER_GRAIN * HOT_SELLER_GRAIN;
    else
        seller = random_person(c, e, r);
    a->seller = seller + SL_NEXMARK_FIRST_PERSON_ID;
    a->category = SL_NEXMARK_FIRST_CATEGORY_ID + rng_below(r, SL_NEXMARK_N_CATEGORIES);
    a->initial_bid = llround(pow(10.0, rng_unit(r) * 6.0) * 100.0);
    /* An auction lasts up to twice the event time that num_in_flight_auctions
     * auctions take to be created. */
    int64_t events_for_auctions = c->num_in_flight_auctions * total_proportion(c) /
                                  c->auction_proportion;
    int64_t horizon_ms = (time_of_number(c, number + events_for_auctions) - time_us) / 1000;
    int64_t span_ms = 2 * horizon_ms > 1 ? 2 * horizon_ms : 1;
    a->date_time_us = time_us;
    a->expires_us = time_us + (1 + rng_below(r, span_ms)) * 1000;
    a->item_name = put_random_string(w, r, 20, ' ');
    a->description = put_random_string(w, r, 100, ' ');
    a->reserve = a->initial_bid + llround(pow(10.0, rng_unit(r) * 6.0) * 100.0);
    int64_t size = 8 + (int64_t)(a->item_name.len + a->description.len) + 5 * 8;
    a->extra = put_extra(w, r, size, c->avg_auction_size);
}

static void make_bid(const sl_nexmark_config *c, uint64_t seed, int64_t e, int64_t time_us,
                     rng *r, writer *w, sl_nexmark_bid *b)
{
    int64_t auction;
    if (rng_below(r, c->hot_auction_ratio) > 0)
        auction = last_auction(c, e) / HOT_AUCTION_GRAIN * HOT_AUCTION_GRAIN;
    else
        auction = random_auction(c, e, r);
    b->auction = auction + SL_NEXMARK_FIRST_AUCTION_ID;
    int64_t bidder;
    if (rng_below(r, c->hot_bidders_ratio) > 0)
        bidder = last_person(c, e) / HOT_BIDDER_GRAIN * HOT_BIDDER_GRAIN + 1;
    else
        bidder = random_person(c, e, r);
    b->bidder = bidder + SL_NEXMARK_FIRST_PERSON_ID;
    b->price = llround(pow(10.0, rng_unit(r) * 6.0) * 100.0);
    char *url_start;
    if (rng_below(r, HOT_CHANNELS_RATIO) > 0) {
        int64_t hot = rng_below(r, COUNT_OF(hot_channels));
        b->channel = hot_channels[hot];
        rng url_rng = rng_start(seed ^ HOT_URL_STREAM_KEY, (uint64_t)hot);
        url_start = w->pos;
        put_base_url(w, &url_rng);
    } else {
        int64_t channel = rng_below(r, N_CHANNELS);
        char *channel_start = w->pos;
        put(w, (sl_str)W("channel-"));
        put_uint(w, (uint64_t)channel);
        b->channel = (sl_str){ channel_start, (size_t)(w->pos - channel_start) };
        rng url_rng = rng_start(seed ^ CHANNEL_STREAM_KEY, (uint64_t)channel);
        url_start = w->pos;
        put_base_url(w, &url_rng);
        if (rng_below(&url_rng, 10) > 0) {
            put(w, (sl_str)W("&channel_id="));
            put_uint(w, (uint64_t)reversed_bits((uint32_t)channel));
        }
    }
    b->url = (sl_str){ url_start, (size_t)(w->pos - url_start) };
    b->date_time_us = time_us;
    b->extra = put_extra(w, r, 4 * 8, c->avg_bid_size);
}

size_t sl_nexmark_text_capacity(const sl_nexmark_config *config)
{
    int64_t largest = config->avg_person_size;
    if (config->avg_auction_size > largest) largest = config->avg_auction_size;
    if (config->avg_bid_size > largest) largest = config->avg_bid_size;
    /* extra is under 1.2 times the average plus one; the other text of an
     * event (an auction's name and description) under 200 bytes. */
    return 256 + (size_t)largest + (size_t)largest / 5 + 2;
}

size_t sl_nexmark_event_make(const sl_nexmark_config *config, uint64_t seed, uint64_t index,
                             char *text, sl_nexmark_event *out)
{
    int64_t number = adjusted_number(config, (int64_t)index);
    int64_t event_id = number;
    int64_t time_us = time_of_number(config, number);
    rng r = rng_start(seed, (uint64_t)event_id);
    writer w = { text };
    int64_t remainder = event_id % total_proportion(config);
    memset(out, 0, sizeof *out);
    if (remainder < config->person_proportion) {
        out->type = SL_NEXMARK_PERSON;
        make_person(config, event_id, time_us, &r, &w, &out->person);
    } else if (remainder < config->person_proportion + config->auction_proportion) {
        out->type = SL_NEXMARK_AUCTION;
        make_auction(config, number, event_id, time_us, &r, &w, &out->auction);
    } else {
        out->type = SL_NEXMARK_BID;
        make_bid(config, seed, event_id, time_us, &r, &w, &out->bid);
    }
    return (size_t)(w.pos - text);
}

/* ---- records -------------------------------------------------------- */

#define N_TOP_MEMBERS 4
#define MAX_EVENT_MEMBERS 10

static void set(sl_member *member, sl_str key, sl_value value)
{
    member->key = key;
    member->value = value;
}

static size_t person_members(const sl_nexmark_person *p, sl_member *m)
{
    set(&m[0], (sl_str)W("id"), sl_value_int(p->id));
    set(&m[1], (sl_str)W("name"), sl_value_string(p->name));
    set(&m[2], (sl_str)W("emailAddress"), sl_value_string(p->email_address));
    set(&m[3], (sl_str)W("creditCard"), sl_value_string(p->credit_card));
    set(&m[4], (sl_str)W("city"), sl_value_string(p->city));
    set(&m[5], (sl_str)W("state"), sl_value_string(p->state));
    set(&m[6], (sl_str)W("dateTime"), sl_value_timestamp(p->date_time_us));
    set(&m[7], (sl_str)W("extra"), sl_value_string(p->extra));
    return 8;
}

static size_t auction_members(const sl_nexmark_auction *a, sl_member *m)
{
    set(&m[0], (sl_str)W("id"), sl_value_int(a->id));
    set(&m[1], (sl_str)W("itemName"), sl_value_string(a->item_name));
    set(&m[2], (sl_str)W("description"), sl_value_string(a->description));
    set(&m[3], (sl_str)W("initialBid"), sl_value_int(a->initial_bid));
    set(&m[4], (sl_str)W("reserve"), sl_value_int(a->reserve));
    set(&m[5], (sl_str)W("dateTime"), sl_value_timestamp(a->date_time_us));
    set(&m[6], (sl_str)W("expires"), sl_value_timestamp(a->expires_us));
    set(&m[7], (sl_str)W("seller"), sl_value_int(a->seller));
    set(&m[8], (sl_str)W("category"), sl_value_int(a->category));
    set(&m[9], (sl_str)W("extra"), sl_value_string(a->extra));
    return 10;
}

static size_t bid_members(const sl_nexmark_bid *b, sl_member *m)
{
    set(&m[0], (sl_str)W("auction"), sl_value_int(b->auction));
    set(&m[1], (sl_str)W("bidder"), sl_value_int(b->bidder));
    set(&m[2], (sl_str)W("price"), sl_value_int(b->price));
    set(&m[3], (sl_str)W("channel"), sl_value_string(b->channel));
    set(&m[4], (sl_str)W("url"), sl_value_string(b->url));
    set(&m[5], (sl_str)W("dateTime"), sl_value_timestamp(b->date_time_us));
    set(&m[6], (sl_str)W("extra"), sl_value_string(b->extra));
    return 7;
}

int sl_nexmark_build_record(sl_arena *arena, const sl_nexmark_config *config, uint64_t seed,
                            uint64_t index, sl_value *out)
{
    sl_member *top = sl_arena_alloc(arena, (N_TOP_MEMBERS + MAX_EVENT_MEMBERS) * sizeof *top);
    size_t capacity = sl_nexmark_text_capacity(config);
    char *text = sl_arena_alloc(arena, capacity);
    if (!top || !text) return SL_ENOMEM;
    sl_nexmark_event event;
    size_t used = sl_nexmark_event_make(config, seed, index, text, &event);
    /* The text is the arena's last allocation: this shrinks it in place. */
    (void)sl_arena_realloc(arena, text, capacity, used);

    sl_member *inner = top + N_TOP_MEMBERS;
    size_t n_inner;
    if (event.type == SL_NEXMARK_PERSON)
        n_inner = person_members(&event.person, inner);
    else if (event.type == SL_NEXMARK_AUCTION)
        n_inner = auction_members(&event.auction, inner);
    else
        n_inner = bid_members(&event.bid, inner);
    sl_value object = { .type = SL_TYPE_OBJECT };
    object.object.members = inner;
    object.object.n_members = n_inner;

    set(&top[0], (sl_str)W("event_type"), sl_value_int((int64_t)event.type));
    set(&top[1], (sl_str)W("person"), event.type == SL_NEXMARK_PERSON ? object : sl_value_null());
    set(&top[2], (sl_str)W("auction"), event.type == SL_NEXMARK_AUCTION ? object : sl_value_null());
    set(&top[3], (sl_str)W("bid"), event.type == SL_NEXMARK_BID ? object : sl_value_null());
    sl_value record = { .type = SL_TYPE_OBJECT };
    record.object.members = top;
    record.object.n_members = N_TOP_MEMBERS;
    *out = record;
    return SL_OK;
}
