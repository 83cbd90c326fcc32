"""test_cron.py — `sluice cron`: the scheduler's fire times against two
independent references. In UTC, thousands of generated expressions (lists,
ranges, steps, names, both day fields) are compared with croniter, the
library Airflow's cron timetables use. Across daylight-saving changes in
Europe/Berlin, America/New_York and Australia/Sydney, fire times are
compared with a brute-force reference written here over Python's zoneinfo:
walk the instants minute by minute, take each one's wall time, and fire
when the wall time matches and has not been seen before (so a skipped wall
time never fires and a repeated one fires once). Plus the command line's
errors and exit codes.
"""
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
FIELDS = [(0, 59, None), (0, 23, None), (1, 31, None), (1, 12, MONTHS), (0, 6, DAYS)]


def value_text(rng, value, names, low):
    if names and rng.random() < 0.3:
        return names[value - low] if rng.random() < 0.5 else names[value - low].upper()
    return str(value)


def random_item(rng, low, high, names):
    kind = rng.random()
    if kind < 0.2:
        return "*"
    if kind < 0.35:
        return f"*/{rng.randint(1, min(high - low + 1, 15))}"
    a = rng.randint(low, high)
    if kind < 0.6:
        return value_text(rng, a, names, low)
    b = rng.randint(a, high)
    if b == a:   # croniter reads a range of one value ("58-58") as "*"; sluice as the value
        return value_text(rng, a, names, low)
    text = f"{value_text(rng, a, names, low)}-{value_text(rng, b, names, low)}"
    if kind < 0.8:
        return text
    return f"{text}/{rng.randint(1, max(1, b - a + 1))}"


def random_field(rng, low, high, names):
    if rng.random() < 0.35:
        return "*"
    return ",".join(random_item(rng, low, high, names) for _ in range(rng.randint(1, 3)))


def random_day_field(rng, low, high, names):
    """A day field croniter and sluice read alike: "*", or a list of some days.
    (croniter makes a list of every day "*" or not depending on the other
    field's text; sluice follows POSIX: only a "*" item leaves a field out.)"""
    while True:
        text = random_field(rng, low, high, names)
        if text == "*":
            return text
        items = text.split(",")
        if any(item.startswith("*") for item in items):
            continue
        if expand(text, low, high, names) != set(range(low, high + 1)):
            return text


def random_expression(rng):
    return " ".join((random_day_field if i in (2, 4) else random_field)(rng, *spec) for i, spec in enumerate(FIELDS))


def fires(sluice, expression, zone, after, count):
    result = sluice.run("cron", expression, "--timezone", zone, "--after", after, "--count", str(count))
    assert result.returncode == 0, result.describe()
    return [datetime.fromisoformat(line) for line in result.stdout.splitlines()]


def can_fire_in_utc(expression):
    """croniter searches forever for what never fires; skip those few (sluice refuses them)."""
    try:
        croniter(expression)
    except Exception:
        return False
    return True


def test_thousands_of_expressions_fire_when_croniter_says(sluice):
    rng = random.Random(20261203)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    checked = 0
    for i in range(2000):
        expression = random_expression(rng)
        result = sluice.run("cron", expression, "--after", "2026-01-01T00:00:00Z", "--count", "5")
        if result.returncode != 0:
            # Only an expression that can never fire (day 31 of a short month) may be refused.
            assert "never fires" in result.stderr, result.describe()
            continue
        got = [datetime.fromisoformat(line) for line in result.stdout.splitlines()]
        assert can_fire_in_utc(expression), expression
        it = croniter(expression, start)
        expected = [it.get_next(datetime) for _ in range(len(got))]
        assert got == expected, f"{expression}: sluice {got}, croniter {expected}"
        assert len(got) == 5 or got[-1].year > 2050, f"{expression}: only {len(got)} fire times"
        checked += 1
    assert checked > 1600


def matches(fields, wall):
    """The cron rule as POSIX states it; `either` when neither day field has a "*" item."""
    minutes, hours, days, months, weekdays, either = fields
    if wall.minute not in minutes or wall.hour not in hours or wall.month not in months:
        return False
    is_day = wall.day in days
    is_weekday = (wall.isoweekday() % 7) in weekdays
    return (is_day or is_weekday) if either else (is_day and is_weekday)


def expand(text, low, high, names):
    values = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            a, b = low, high
        elif "-" in base:
            a, b = (int(x) if x.isdigit() else names.index(x.lower()) + low for x in base.split("-"))
        else:
            a = int(base) if base.isdigit() else names.index(base.lower()) + low
            b = high if step else a
        values.update(range(a, b + 1, int(step) if step else 1))
    return values


def reference_fires(expression, zone, after, count, horizon_days=8):
    """Brute force over instants: fire at each minute whose wall time matches, once per wall time."""
    parts = expression.split()
    sets = [expand(p, *spec) for p, spec in zip(parts, FIELDS)]
    either = "*" not in parts[2].split(",") and "*" not in parts[4].split(",")
    fields = (*sets, either)
    tz = ZoneInfo(zone)
    seen = set()
    out = []
    t = after.replace(second=0) - timedelta(hours=3)   # wall times seen just before `after` count as seen
    end = after + timedelta(days=horizon_days)
    while t < end and len(out) < count:
        wall = t.astimezone(tz)
        key = wall.replace(tzinfo=None)
        if key not in seen:
            seen.add(key)
            if t > after and matches(fields, wall):
                out.append(t)   # the instant: aware times in a fold never compare equal across zones
        t += timedelta(minutes=1)
    return out


# (zone, an instant a day before a change of its offset)
TRANSITIONS = [
    ("Europe/Berlin", datetime(2026, 3, 28, 1, tzinfo=timezone.utc)),
    ("Europe/Berlin", datetime(2026, 10, 24, 1, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 3, 7, 7, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 10, 31, 6, tzinfo=timezone.utc)),
    ("Australia/Sydney", datetime(2026, 4, 3, 16, tzinfo=timezone.utc)),
    ("Australia/Sydney", datetime(2026, 10, 2, 16, tzinfo=timezone.utc)),
]


def dst_expression(rng):
    """Expressions that fire often around 01:00-04:00 local, where the changes happen."""
    minute = rng.choice(["*/15", "0", "30", "0,45", "*/7", "59", "5-10"])
    hour = rng.choice(["*", "1-3", "2", "1,2,3", "*/2", "0-4", "2-3"])
    day_of_week = rng.choice(["*", "*", "sun", "0-6", "sat,sun"])
    return f"{minute} {hour} * * {day_of_week}"


@pytest.mark.parametrize("zone,around", TRANSITIONS, ids=[f"{z}-{t:%m}" for z, t in TRANSITIONS])
def test_fire_times_across_daylight_saving_changes_match_a_brute_force_reference(sluice, zone, around):
    rng = random.Random(f"{zone}{around}")
    for i in range(40):
        expression = dst_expression(rng)
        after = around + timedelta(minutes=rng.randint(0, 36 * 60))
        got = fires(sluice, expression, zone, after.strftime("%Y-%m-%dT%H:%M:%SZ"), 12)
        expected = reference_fires(expression, zone, after, 12)
        for t in got:
            assert t.utcoffset() == t.astimezone(ZoneInfo(zone)).utcoffset(), f"{expression}: {t} has a wrong offset"
        # The reference looks 8 days ahead: compare what falls in them.
        got = [t.astimezone(timezone.utc) for t in got if t < after + timedelta(days=8)]
        assert expected and got == expected, f"{expression} in {zone} after {after}: sluice {got}, reference {expected}"


def test_a_wall_time_given_without_offset_is_one_of_the_zone(sluice):
    got = fires(sluice, "0 12 * * *", "Asia/Tokyo", "2026-06-01T11:59", 1)
    assert got == [datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Asia/Tokyo"))]
    assert got[0].utcoffset() == timedelta(hours=9)


def test_the_fields_may_be_separate_arguments_and_options_may_follow(sluice):
    result = sluice.run("cron", "0", "6", "*", "*", "mon-fri", "--after", "2026-12-04T07:00:00Z", "--count", "2")
    assert result.returncode == 0, result.describe()
    assert result.stdout.splitlines() == ["2026-12-07T06:00:00+00:00", "2026-12-08T06:00:00+00:00"]


def test_default_is_five_times_after_now_in_utc(sluice):
    result = sluice.run("cron", "@hourly")
    assert result.returncode == 0, result.describe()
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and all(line.endswith(":00:00+00:00") for line in lines), result.stdout
    first = datetime.fromisoformat(lines[0])
    assert timedelta(0) < first - datetime.now(timezone.utc) <= timedelta(hours=1, seconds=60)


@pytest.mark.parametrize("args,message", [
    (["0 25 * * *"], "cron expression '0 25 * * *': hour at column 3: 25 is out of range 0-23"),
    (["* * * *"], "has 4 fields; it needs 5"),
    (["0 0 30 2 *"], "never fires"),
    (["@sometimes"], "unknown alias '@sometimes'"),
    (["@daily", "--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["@daily", "--timezone", "../../etc/passwd"], "is not a time zone name"),
    (["@daily", "--count", "0"], "--count: '0' is not a number from 1 to 100000"),
    (["@daily", "--after", "yesterday"], "--after: 'yesterday' is not a date or date-time"),
    (["@daily", "--timezone", "Europe/Berlin", "--after", "2026-03-29T02:30"],
     "2026-03-29T02:30 does not exist in Europe/Berlin"),
    ([], "usage: sluice cron"),
])
def test_mistakes_exit_2_and_say_what_is_wrong(sluice, args, message):
    result = sluice.run("cron", *args)
    assert result.returncode == 2, result.describe()
    assert message in result.stderr, result.describe()
    assert result.stdout == ""


def test_help_describes_the_command(sluice):
    result = sluice.run("cron", "--help")
    assert result.returncode == 0
    assert "--timezone TZ" in result.stdout and "fires once" in result.stdout
