"""test_topic_readers.py — `sluice topic` beside a running `sluice run`:
list, describe (with the lag of the run's group) and consume read the data
dir without its lock while the run writes it, consume --follow sees records
appended (and segments rolled and removed by retention) after it started,
the writing verbs fail naming the process that holds the lock, and list and
describe work on a read-only copy of a data dir without changing a file.

The readers run under ASan+UBSan (the read-only log is what they exercise);
the run is the plain build.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from e2e_util import finish, sanitizer_reports

RUN = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 200 } }
    sink:   { topic: { name: events, partitions: 2, segment_bytes: 4KiB, retention_bytes: 16KiB } }
  drain:
    source: { topic: { name: events, group: drainers } }
    sink:   { file: { path: out.jsonl } }
"""

DEADLINE = 60


def wait_for(what, check, timeout=DEADLINE):
    """Polls check() until it returns something truthy; fails naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def list_records(result):
    """{topic: records} from `sluice topic list`."""
    rows = {}
    for line in result.stdout.splitlines()[1:]:
        name, partitions, records = line.split()
        rows[name] = int(records)
    return rows


def describe_offsets(result):
    """({partition: (start, end)}, {group: {partition: (committed, lag)}}) from `sluice topic describe`."""
    partitions, groups = {}, {}
    for line in result.stdout.splitlines():
        m = re.fullmatch(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*", line)
        if m:
            partitions[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
            continue
        m = re.fullmatch(r"(\S+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s*", line)
        if m:
            groups.setdefault(m.group(1), {})[int(m.group(2))] = (int(m.group(3)), int(m.group(4)))
    return partitions, groups


class Lines:
    """Collects the stdout lines of a background process on a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)


@pytest.fixture
def running(sluice, workdir):
    """A `sluice run --follow` feeding topic events (2 partitions, small segments, retention)
    and draining it with group drainers; stopped with SIGINT at the end (it must exit 0)."""
    (workdir / "run.yaml").write_text(RUN)
    proc = sluice.popen("run", "run.yaml", "--follow")
    try:
        yield proc
        assert proc.poll() is None, f"the run stopped by itself: {finish(proc, 10)}"
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc, timeout=DEADLINE)
        assert code == 0, f"the run exited {code} after SIGINT\nstdout: {out}\nstderr: {err}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run_reader(sluice_asan, *args, **kwargs):
    result = sluice_asan.run("topic", *args, "--data-dir", "data", timeout=DEADLINE, **kwargs)
    assert not sanitizer_reports(result.stderr), result.describe()
    return result


def test_list_describe_and_consume_work_while_a_run_writes(running, sluice_asan):
    def listed():
        result = run_reader(sluice_asan, "list")
        assert result.returncode == 0, result.describe()
        return list_records(result).get("events", 0) > 50 and result

    listing = wait_for("topic list to show events with records", listed)
    assert re.search(r"^events\s+2\s+\d+\s*$", listing.stdout, re.M), listing.stdout

    def described_with_lag():
        result = run_reader(sluice_asan, "describe", "events")
        assert result.returncode == 0, result.describe()
        partitions, groups = describe_offsets(result)
        return sorted(groups.get("drainers", {})) == [0, 1] and (result, partitions, groups)

    result, partitions, groups = wait_for("describe to show group drainers", described_with_lag)
    assert sorted(partitions) == [0, 1], result.stdout
    for p, (committed, lag) in groups["drainers"].items():
        start, end = partitions[p]
        assert lag == end - committed and 0 <= lag, result.stdout
        assert committed <= end, result.stdout

    consumed = run_reader(sluice_asan, "consume", "events", "--max", "20", "--metadata")
    assert consumed.returncode == 0, consumed.describe()
    records = [line for line in consumed.stdout.splitlines() if line]
    assert len(records) == 20, consumed.stdout
    assert all('"value":"{\\"id\\":' in r for r in records), consumed.stdout


def partition_0(sluice_asan):
    """(start, end) of partition 0 of events, from describe."""
    result = run_reader(sluice_asan, "describe", "events")
    assert result.returncode == 0, result.describe()
    return describe_offsets(result)[0][0]


def test_consume_follow_sees_records_appended_after_it_started(running, sluice_asan, workdir):
    wait_for("records in events",
             lambda: list_records(run_reader(sluice_asan, "list")).get("events", 0) > 0)
    follower = sluice_asan.popen("topic", "consume", "events", "--data-dir", "data", "--follow", "--metadata",
                                 "--partition", "0")
    lines = Lines(follower)

    def offsets():
        found = (re.search(r'"partition":0,"offset":(\d+)', line) for line in lines.snapshot())
        return [int(m.group(1)) for m in found if m]

    try:
        wait_for("the follower to print its first record", offsets)
        # From here on the follower has its log open: whatever is written
        # now, as the writer rolls 4 KiB segments and retention removes the
        # oldest past 16 KiB, it must see by catching up.
        _, opened_end = partition_0(sluice_asan)
        wait_for("retention to remove a segment", lambda: partition_0(sluice_asan)[0] > 0)
        _, target = partition_0(sluice_asan)
        target = max(target, opened_end) + 100
        wait_for(f"the follower to print offset {target}", lambda: offsets() and offsets()[-1] >= target)
        assert follower.poll() is None, "the follower stopped"
        seen = offsets()
        assert seen == sorted(seen) and len(seen) == len(set(seen)), "offsets out of order or repeated"
        assert len(seen) == len(lines.snapshot()), f"lines that are not records: {lines.snapshot()[:5]}"
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            _, err = follower.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            follower.kill()
            _, err = follower.communicate()
        lines.thread.join(timeout=DEADLINE)
    assert not sanitizer_reports(err.decode(errors="replace")), err.decode(errors="replace")


def test_writing_verbs_fail_naming_the_process_that_holds_the_lock(running, sluice_asan):
    wait_for("records in events",
             lambda: list_records(run_reader(sluice_asan, "list")).get("events", 0) > 0)
    attempts = [
        (["create", "other", "--partitions", "1"], None),
        (["produce", "events"], "x\n"),
        (["delete", "events"], None),
        (["consume", "events", "--group", "watchers", "--max", "1"], None),
    ]
    for args, stdin in attempts:
        result = run_reader(sluice_asan, *args, input=stdin)
        assert result.returncode == 1, result.describe()
        assert f"in use by process {running.pid}" in result.stderr, result.describe()
        assert "list, describe and consume without --group work while it runs" in result.stderr, result.describe()
        assert result.stdout == "", result.describe()
    assert "consume --group (which commits the group's offsets)" in result.stderr, result.describe()
    listing = run_reader(sluice_asan, "list")
    assert listing.returncode == 0 and list(list_records(listing)) == ["events"], listing.describe()
    described = run_reader(sluice_asan, "describe", "events")
    assert "watchers" not in described.stdout, described.stdout


def tree_state(root):
    """Every path under root with its size and mtime (ns)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            state[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return state


def chmod_tree(root, writable):
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644 if writable else 0o444)
        os.chmod(dirpath, 0o755 if writable else 0o555)


def test_list_and_describe_work_on_a_read_only_copy_and_change_nothing(sluice, workdir):
    result = sluice.run("topic", "produce", "events", "--data-dir", "data", "--partitions", "2",
                        input="".join(f'{{"n":{i}}}\n' for i in range(50)), timeout=DEADLINE)
    assert result.returncode == 0, result.describe()
    result = sluice.run("topic", "consume", "events", "--data-dir", "data", "--group", "g", "--max", "10",
                        timeout=DEADLINE)
    assert result.returncode == 0, result.describe()
    originals = [sluice.run("topic", *args, "--data-dir", "data", timeout=DEADLINE)
                 for args in (["list"], ["describe", "events"])]

    # Outside pytest's private tmp dir, so that an unprivileged user can reach it.
    holder = tempfile.mkdtemp(prefix="sluice-ro-")
    try:
        os.chmod(holder, 0o755)
        copy = os.path.join(holder, "data")
        shutil.copytree(workdir / "data", copy)
        os.remove(os.path.join(copy, "LOCK"))  # a reader must not create one
        chmod_tree(copy, writable=False)
        before = tree_state(copy)
        # root writes through any mode bits: run the readers as nobody when we are root.
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if not setpriv:
                pytest.skip("running as root without setpriv: cannot make the copy read-only to sluice")
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run([*prefix, "touch", os.path.join(copy, "probe")], capture_output=True)
        assert probe.returncode != 0, "the copy is writable after all: the test would prove nothing"
        for args, original in zip((["list"], ["describe", "events"]), originals):
            result = subprocess.run([*prefix, sluice.binary, "topic", *args, "--data-dir", copy], cwd=holder,
                                    capture_output=True, timeout=DEADLINE, env=sluice.env)
            stderr = result.stderr.decode(errors="replace")
            assert result.returncode == 0, f"topic {' '.join(args)}: exit {result.returncode}\n{stderr}"
            assert result.stdout.decode() == original.stdout, (result.stdout.decode(), original.stdout)
        writer = subprocess.run([*prefix, sluice.binary, "topic", "create", "x", "--data-dir", copy], cwd=holder,
                                capture_output=True, timeout=DEADLINE, env=sluice.env)
        assert writer.returncode == 1, writer
        assert tree_state(copy) == before, "a reader changed the read-only data dir"
        assert "LOCK" not in before and not os.path.exists(os.path.join(copy, "LOCK"))
    finally:
        chmod_tree(holder, writable=True)
        shutil.rmtree(holder)


def test_list_of_a_missing_data_dir_fails_and_creates_nothing(sluice, workdir):
    result = sluice.run("topic", "list", "--data-dir", "nowhere", timeout=DEADLINE)
    assert result.returncode == 1, result.describe()
    assert "data dir nowhere: does not exist" in result.stderr, result.describe()
    assert not (workdir / "nowhere").exists()


def test_help_says_which_verbs_need_the_lock(sluice):
    result = sluice.run("topic", "--help", timeout=DEADLINE)
    assert result.returncode == 0, result.describe()
    text = " ".join(result.stdout.split())
    assert "list, describe and consume read a data dir without its lock" in text, result.stdout
    assert "create, delete, produce and consume --group (it commits offsets) write, so they need it" in text
