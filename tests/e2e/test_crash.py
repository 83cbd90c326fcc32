"""test_crash.py — kill -9 in the middle of the seed pipeline, rerun, and
check that the stored result is exactly the full result (at-least-once
delivery + keyed upserts = every user once, each row right).

The kill lands at a seeded random moment between 0.05 s and the duration of
a measured full run, different in each of three iterations. The rerun's
generator continues from the index its sinks had acknowledged before the
kill, so records the killed run appended after that are appended again
(same keys: at-least-once); the keyed upsert into created_users absorbs
them, and user_data holds every user at least once.
"""
import random
import signal
import time

import pytest

import kafka_batch
from e2e_util import Sluice, check_users_table, finish, parse_summary, users_yaml_text

_full_run_seconds = {}


def full_run_seconds(sluice_bin, tmp_path_factory):
    """Wall time of one complete users.yaml run on this machine (measured once)."""
    if "value" not in _full_run_seconds:
        work = tmp_path_factory.mktemp("crash_baseline")
        (work / "users.yaml").write_text(users_yaml_text())
        result = Sluice(sluice_bin, work).run("run", "users.yaml", "--quiet", timeout=180)
        assert result.returncode == 0, result.describe()
        _full_run_seconds["value"] = result.elapsed
    return _full_run_seconds["value"]


@pytest.mark.parametrize("iteration", [0, 1, 2])
def test_kill_9_then_rerun_stores_each_user_exactly_once(iteration, sluice, workdir, sluice_bin,
                                                         tmp_path_factory, expected_users):
    full = full_run_seconds(sluice_bin, tmp_path_factory)
    rng = random.Random(20240601 + iteration)
    delay = rng.uniform(0.05, max(0.1, full))
    (workdir / "users.yaml").write_text(users_yaml_text())

    proc = sluice.popen("run", "users.yaml", "--quiet")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    code, _, err = finish(proc, timeout=30)
    # -9 when the kill landed; 0 when the run had already finished by itself.
    assert code in (-signal.SIGKILL, 0), f"first run exited {code} (kill after {delay:.2f}s)\n{err}"

    result = sluice.run("run", "users.yaml", timeout=180)
    assert result.returncode == 0, f"rerun after kill at {delay:.2f}s of {full:.2f}s\n" + result.describe()
    summary = parse_summary(result.stderr)
    assert summary.get("store_users", {}).get("dlq") == 0, result.describe()
    # The rerun produced only what the killed run had not committed.
    assert 0 <= summary.get("ingest_users", {}).get("out", -1) <= 100000, result.describe()
    topic = kafka_batch.read_topic(str(workdir / "data"), "user_data")
    keys = [r.key for rs in topic.values() for r in rs]
    assert len(set(keys)) == 100000 and len(keys) < 200000, f"{len(set(keys))} users in {len(keys)} records"
    try:
        check_users_table(workdir / "data" / "users.db", expected_users["rows"], 100000)
    except AssertionError as e:
        raise AssertionError(f"after kill -9 at {delay:.2f}s (full run {full:.2f}s) and a rerun: {e}") from None
