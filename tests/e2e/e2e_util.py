"""e2e_util.py — helpers shared by the end-to-end suites: running the sluice
binary with a timeout, collecting a background run's stdout lines, parsing its
run summary (on stderr), spotting sanitizer reports,
locating text in a config for file:line:column checks, and re-deriving the
rows the seed pipeline (examples/users.yaml) must store from the generator's
own output, independently of sluice's SQL and SQLite sink.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USERS_YAML = REPO / "examples" / "users.yaml"

# The 11 columns of created_users, in the seed's SELECT order.
COLUMNS = ["id", "first_name", "last_name", "gender", "city", "post_code", "email",
           "username", "registered_date", "phone", "picture"]

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                     "ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL")


@dataclass
class Result:
    args: list
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    def describe(self):
        return (f"$ sluice {' '.join(map(str, self.args))}\nexit {self.returncode} after {self.elapsed:.2f}s\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")


class Sluice:
    """Runs one sluice binary with a working directory (cwd) of its own."""

    def __init__(self, binary, cwd, env=None):
        self.binary = str(binary)
        self.cwd = str(cwd)
        self.env = dict(os.environ)
        self.env.pop("SLUICE_DATA_DIR", None)
        if env:
            self.env.update(env)

    def _env(self, extra):
        env = dict(self.env)
        if extra:
            env.update(extra)
        return env

    def run(self, *args, timeout=120, input=None, env=None, cwd=None):
        """Runs to completion (killed after timeout seconds, which fails the test)."""
        start = time.monotonic()
        proc = subprocess.Popen([self.binary, *map(str, args)], cwd=cwd or self.cwd, env=self._env(env),
                                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(input=input.encode() if isinstance(input, str) else input,
                                        timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"sluice {' '.join(map(str, args))} did not finish within {timeout}s\n"
                                 f"stdout: {out.decode(errors='replace')[-2000:]}\n"
                                 f"stderr: {err.decode(errors='replace')[-2000:]}") from None
        return Result(list(args), proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                      time.monotonic() - start)

    def popen(self, *args, env=None, cwd=None):
        """Starts sluice in the background (stdout/stderr to pipes)."""
        return subprocess.Popen([self.binary, *map(str, args)], cwd=cwd or self.cwd, env=self._env(env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc, timeout):
    """Waits for a background sluice; returns (returncode, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"sluice did not exit within {timeout}s\nstdout: {out.decode(errors='replace')}\n"
                             f"stderr: {err.decode(errors='replace')}") from None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


class LineReader:
    """Collects a background sluice's stdout lines (and its stderr) on threads, so a test can
    wait for lines while it runs, then for its exit."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.stderr = []
        self.threads = [threading.Thread(target=self._read, args=(proc.stdout, self.lines), daemon=True),
                        threading.Thread(target=self._read, args=(proc.stderr, self.stderr), daemon=True)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _read(stream, into):
        for line in iter(stream.readline, b""):
            into.append(line.decode(errors="replace").rstrip("\n"))

    def wait_for(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.lines) < n:
            assert self.proc.poll() is None or len(self.lines) >= n, \
                f"exit {self.proc.returncode} after {self.lines}\n" + "\n".join(self.stderr)
            assert time.monotonic() < deadline, f"{len(self.lines)} of {n} lines within {timeout}s: {self.lines}"
            time.sleep(0.05)

    def finish(self, timeout):
        """Waits for the exit (killing the process after timeout s, which fails) -> (code, stderr)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"sluice did not exit within {timeout}s\n" + "\n".join(self.stderr)) from None
        for thread in self.threads:
            thread.join(timeout=30)
        return code, "\n".join(self.stderr)


def sanitizer_reports(stderr):
    """Lines of stderr that are sanitizer reports (empty list when clean)."""
    return [line for line in stderr.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


# ---- run summary ----------------------------------------------------------------

_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)s\s+([\d.]+)\s+(\S+)\s*$")


def parse_summary(stderr):
    """{pipeline: {in, out, filtered, dlq, elapsed, rps, state}} from `sluice run`'s table, which it
    prints on stderr (stdout carries records only); {} when stderr has no table."""
    rows = {}
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^pipeline\s+in\s+out\s+filtered\s+dlq\s+elapsed\s+records/s\s+state", line):
            for row in lines[i + 1:]:
                m = _ROW.match(row)
                if not m:
                    break
                rows[m.group(1)] = {"in": int(m.group(2)), "out": int(m.group(3)),
                                    "filtered": int(m.group(4)), "dlq": int(m.group(5)),
                                    "elapsed": float(m.group(6)), "rps": float(m.group(7)),
                                    "state": m.group(8)}
            break
    return rows


# ---- config positions ---------------------------------------------------------------

def position_of(text, needle, occurrence=1):
    """1-based (line, column) of the start of the n-th occurrence of needle in text."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return line, column


# ---- the seed pipeline's expected rows -------------------------------------------------

def users_yaml_text(count=None):
    """examples/users.yaml, with the generator's count replaced when given."""
    text = USERS_YAML.read_text()
    if count is not None:
        new = re.sub(r"count:\s*100000", f"count: {count}", text, count=1)
        assert new != text, "examples/users.yaml no longer has 'count: 100000'"
        text = new
    return text


def dump_users_config(path, count=100000, seed=42):
    """A config that writes the generator's users as JSON lines to path."""
    return (f"pipelines:\n"
            f"  dump_users:\n"
            f"    source: {{ generator: {{ kind: users, count: {count}, rate: 0, seed: {seed} }} }}\n"
            f"    sink:   {{ file: {{ path: {path} }} }}\n")


def expected_row(user):
    """The created_users row the seed's SQL must make of one generated user."""
    return {
        "id": user["login"]["uuid"].lower(),
        "first_name": user["name"]["first"],
        "last_name": user["name"]["last"],
        "gender": user["gender"],
        "city": user["location"]["city"],
        "post_code": user["location"]["postcode"],
        "email": user["email"],
        "username": user["login"]["username"],
        "registered_date": user["registered"]["date"],
        "phone": user["phone"],
        "picture": user["picture"]["thumbnail"],
    }


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def expected_rows_by_id(users):
    rows = {}
    for user in users:
        row = expected_row(user)
        assert row["id"] not in rows, f"generator produced uuid {row['id']} twice"
        rows[row["id"]] = row
    return rows


def normalise(column, value):
    """post_code may be stored as int or text: compare it as text."""
    if column == "post_code" and value is not None:
        return str(value)
    return value


def check_users_table(db_path, expected, count):
    """Asserts created_users holds exactly the expected rows (count of them), field by field."""
    assert os.path.exists(db_path), f"{db_path} was not created"
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        names = [r[1] for r in con.execute("PRAGMA table_info(created_users)")]
        assert names == COLUMNS, f"created_users columns are {names}, expected {COLUMNS}"
        total, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM created_users").fetchone()
        assert total == count, f"created_users has {total} rows, expected {count}"
        assert distinct == count, f"created_users has {distinct} distinct ids, expected {count}"
        examples = []
        per_column = {}
        seen = 0
        for row in con.execute(f"SELECT {', '.join(COLUMNS)} FROM created_users"):
            got = dict(zip(COLUMNS, row))
            want = expected.get(got["id"])
            seen += 1
            if want is None:
                per_column["(unexpected id)"] = per_column.get("(unexpected id)", 0) + 1
                if len(examples) < 10:
                    examples.append(f"unexpected id {got['id']!r}")
                continue
            for c in COLUMNS:
                if normalise(c, got[c]) != normalise(c, want[c]):
                    per_column[c] = per_column.get(c, 0) + 1
                    if len(examples) < 10:
                        examples.append(f"id {got['id']}: {c} = {got[c]!r}, expected {want[c]!r}")
        assert not per_column, (f"rows differ from the generator's users (rows per column: {per_column}):\n"
                                + "\n".join(examples))
        assert seen == count
    finally:
        con.close()


def rss_mb(pid):
    """Resident set size of process pid in MB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
