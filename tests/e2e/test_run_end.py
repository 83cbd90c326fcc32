"""test_run_end.py — how a `sluice run` ends, and what it then claims.

A run reports success (exit 0, state `ok`) only when every pipeline read its
source to the source's own end, or when its sources never end by themselves
(`--follow`, a generator without a count), so a stop is their normal end.
A pipeline cut short is not ok: `--for` elapsing first gives exit 1 and
state `incomplete`, SIGINT/SIGTERM exit 130/143 and state `interrupted`;
the message names the pipeline. Each case used to exit 0 with state `ok`.
"""
import signal
import time

import pytest

from e2e_util import finish, parse_summary

ENDLESS = 1_000_000_000  # a count no run of these tests reaches


def generator_config(count):
    count_setting = f", count: {count}" if count else ""
    return f"""\
pipelines:
  make_users:
    source: {{ generator: {{ kind: users{count_setting} }} }}
    sink:   {{ file: {{ path: data/users.jsonl }} }}
"""


def lines_in(path):
    return sum(1 for _ in path.open()) if path.exists() else 0


def wait_for_lines(path, proc, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while lines_in(path) < at_least:
        assert proc.poll() is None, "sluice ended early:\n" + "\n".join(map(str, finish(proc, 10)))
        assert time.monotonic() < deadline, f"{path}: fewer than {at_least} lines within {timeout}s"
        time.sleep(0.1)


def test_for_elapsing_before_a_bounded_source_ends_is_incomplete(sluice, workdir):
    (workdir / "users.yaml").write_text(generator_config(ENDLESS))
    result = sluice.run("run", "users.yaml", "--for", "1s", timeout=120)
    assert result.returncode == 1, result.describe()
    summary = parse_summary(result.stderr)["make_users"]
    assert summary["state"] == "incomplete", result.describe()
    assert "pipeline make_users: --for 1s elapsed before its source had been read to its end" in result.stderr
    # What was counted as stored is stored.
    assert lines_in(workdir / "data" / "users.jsonl") == summary["out"]


def test_for_ends_an_endless_source_normally(sluice, workdir):
    (workdir / "users.yaml").write_text(generator_config(0))
    result = sluice.run("run", "users.yaml", "--for", "1s", timeout=120)
    assert result.returncode == 0, result.describe()
    assert parse_summary(result.stderr)["make_users"]["state"] == "ok", result.describe()


def test_a_bounded_source_read_to_its_end_is_ok_within_for(sluice, workdir):
    (workdir / "users.yaml").write_text(generator_config(500))
    result = sluice.run("run", "users.yaml", "--for", "300s", timeout=320)
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)["make_users"]
    assert (summary["in"], summary["out"], summary["state"]) == (500, 500, "ok"), result.describe()


@pytest.mark.parametrize("signal_number, code, name", [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_before_the_end_is_interrupted(signal_number, code, name, sluice, workdir):
    (workdir / "users.yaml").write_text(generator_config(ENDLESS))
    proc = sluice.popen("run", "users.yaml")
    try:
        wait_for_lines(workdir / "data" / "users.jsonl", proc, 1000)
        proc.send_signal(signal_number)
        rc, out, err = finish(proc, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert rc == code, f"exit {rc}\n{out}\n{err}"
    assert parse_summary(err)["make_users"]["state"] == "interrupted", err
    assert f"pipeline make_users: interrupted by {name} before its source had been read to its end" in err, err


def test_a_signal_to_a_follow_run_is_its_normal_end(sluice, workdir):
    (workdir / "users.yaml").write_text(generator_config(ENDLESS))
    proc = sluice.popen("run", "users.yaml", "--follow")
    try:
        wait_for_lines(workdir / "data" / "users.jsonl", proc, 1000)
        proc.send_signal(signal.SIGTERM)
        rc, out, err = finish(proc, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert rc == 0, f"exit {rc}\n{out}\n{err}"
    assert parse_summary(err)["make_users"]["state"] == "ok", err
