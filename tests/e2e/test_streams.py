"""test_streams.py — what `sluice run` writes where.

stdout carries data only: the records of a stdio sink, byte for byte, so
`cat in.jsonl | sluice run p.yaml > out.jsonl` gives exactly the records. The
summary, the log and the progress line go to stderr. The progress line is
drawn only when stderr is a terminal: redrawn in place ("\\r" ... ESC[K),
cleared before the summary, never wider than the terminal (80 columns at
most), with a percent and an ETA when the source's size is known and the
lag when it reads a topic. When stdout is that same terminal and a pipeline
writes stdout, there is no progress line (records would run into it).

The terminal tests run sluice on a pseudo-terminal (os.openpty) and read its
frames from the master side. Where a test needs the run to be under way
while it looks (an ETA, a lag), stdout is a pipe the test reads only a
little per frame, so the run cannot end before the test has seen what it
waits for, however slow or fast the machine is.
"""
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import termios
import time
import tty

import pytest

from e2e_util import parse_summary, sanitizer_reports

SUMMARY_HEADER = re.compile(r"^pipeline\s+in\s+out\s+filtered\s+dlq\s+elapsed\s+records/s\s+state", re.M)
FRAME = re.compile(r"\r([^\r\n\x1b]*)\x1b\[K")   # one drawing of the progress line


def records_text(n, width=40):
    """n JSON lines (compact, as the stdio sink passes raw lines through) plus blank lines,
    which are no records; returns (input text, the records' text)."""
    lines = [json.dumps({"id": i, "name": f"user-{i}", "pad": "x" * (i % width)}, separators=(",", ":"))
             for i in range(n)]
    text = "".join(line + ("\n\n" if i % 97 == 0 else "\n") for i, line in enumerate(lines))
    return text, "".join(line + "\n" for line in lines)


STDIN_TO_STDOUT = """\
pipelines:
  pass:
    source: { stdio: {} }
    sink:   { stdio: {} }
"""


# ---- stdout carries data only -------------------------------------------------------------

@pytest.mark.parametrize("binary", ["sluice", "sluice_asan"])
@pytest.mark.parametrize("feed", ["cat", "redirect"])
def test_stdin_to_stdout_gives_exactly_the_records(binary, feed, request, workdir):
    runner = request.getfixturevalue(binary)
    text, expected = records_text(3000)
    (workdir / "in.jsonl").write_text(text)
    (workdir / "p.yaml").write_text(STDIN_TO_STDOUT)
    command = {"cat": f"cat in.jsonl | '{runner.binary}' run p.yaml > out.jsonl",
               "redirect": f"'{runner.binary}' run p.yaml < in.jsonl > out.jsonl"}[feed]
    proc = subprocess.run(["bash", "-c", command], cwd=workdir, env=runner.env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=120)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, err
    assert proc.stdout == b"", "everything on stdout went to out.jsonl"
    out = (workdir / "out.jsonl").read_bytes()
    assert out == expected.encode(), (f"out.jsonl is not exactly the records: {len(out)} bytes, expected "
                                      f"{len(expected)}; it starts {out[:200]!r} and ends {out[-300:]!r}")
    assert not SUMMARY_HEADER.search(out.decode(errors="replace"))
    summary = parse_summary(err)
    assert summary.get("pass", {}).get("in") == 3000 and summary["pass"]["out"] == 3000, err
    assert summary["pass"]["state"] == "ok", err
    assert not sanitizer_reports(err), err


def test_the_summary_is_on_stderr_and_stdout_stays_empty(sluice, workdir):
    text, expected = records_text(500)
    (workdir / "in.jsonl").write_text(text)
    (workdir / "p.yaml").write_text(
        "pipelines:\n  copy:\n    source: { file: { path: in.jsonl } }\n"
        "    sink:   { file: { path: out.jsonl } }\n")
    result = sluice.run("run", "p.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    assert result.stdout == "", result.describe()
    assert parse_summary(result.stdout) == {}, "the summary must not be on stdout"
    row = parse_summary(result.stderr).get("copy")
    assert row is not None and (row["in"], row["out"], row["state"]) == (500, 500, "ok"), result.describe()
    assert re.search(r"^total elapsed [\d.]+s$", result.stderr, re.M), result.describe()
    assert "\x1b" not in result.stderr and "\r" not in result.stderr, "no progress line when stderr is a pipe"
    assert (workdir / "out.jsonl").read_text() == expected

    quiet = sluice.run("run", "p.yaml", "--pipeline", "copy", "--quiet", timeout=120)
    assert quiet.returncode == 0, quiet.describe()
    assert quiet.stdout == "" and not SUMMARY_HEADER.search(quiet.stderr), quiet.describe()


def test_a_dead_letter_is_reported_on_stderr_and_stdout_keeps_only_the_records(sluice, workdir):
    (workdir / "p.yaml").write_text(STDIN_TO_STDOUT)
    result = sluice.run("run", "p.yaml", input='{"a":1}\n' + "x" * 100 + "\n{\"a\":2}\n", timeout=120)
    # The line that is no JSON goes to the dead-letter topic; the records pass.
    assert result.returncode == 0, result.describe()
    assert result.stdout == '{"a":1}\n{"a":2}\n', result.describe()
    assert "1 dead letters in topic pass.dlq" in result.stderr, result.describe()
    assert parse_summary(result.stderr)["pass"]["dlq"] == 1, result.describe()


# ---- the progress line on a terminal --------------------------------------------------------

def open_terminal(columns=80, rows=24):
    """(master, slave) of a new pseudo-terminal of the given size, raw (bytes pass as written)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return master, slave


class Terminal:
    """A sluice run whose stderr (and stdout, when stdout_is_terminal) is a pseudo-terminal.
    stdout is otherwise a pipe that pump() reads only as far as `allowance` lets it."""

    def __init__(self, runner, args, cwd, stdout_is_terminal, columns=80):
        self.master, slave = open_terminal(columns)
        out_read = None
        if stdout_is_terminal:
            stdout = slave
        else:
            out_read, stdout = os.pipe()
        self.proc = subprocess.Popen([runner.binary, *args], cwd=cwd, env=runner.env, stdin=subprocess.DEVNULL,
                                     stdout=stdout, stderr=slave)
        os.close(slave)
        if not stdout_is_terminal:
            os.close(stdout)
        self.out_fd = out_read
        self.screen = b""       # what the terminal received
        self.out = b""          # what the stdout pipe gave
        self.allowance = 0      # bytes of stdout the test lets through now (None: all)

    def frames(self):
        """The texts the progress line was drawn with, in order (without the clearings)."""
        return [f for f in FRAME.findall(self.screen.decode(errors="replace")) if f]

    def pump(self, timeout):
        """Reads what is ready (stdout as far as the allowance goes); False once both are at
        their end."""
        fds = [fd for fd in (self.master, self.out_fd) if fd is not None]
        if self.out_fd is not None and self.allowance == 0:
            fds.remove(self.out_fd)
        if not fds:
            time.sleep(timeout)
            return True
        ready, _, _ = select.select(fds, [], [], timeout)
        for fd in ready:
            want = 65536 if fd == self.master or self.allowance is None else min(65536, self.allowance)
            try:
                data = os.read(fd, want)
            except OSError:      # EIO: the terminal's last writer is gone
                data = b""
            if fd == self.master:
                if not data:
                    os.close(self.master)
                    self.master = None
                self.screen += data
            else:
                if not data:
                    os.close(self.out_fd)
                    self.out_fd = None
                self.out += data
                if self.allowance is not None:
                    self.allowance -= len(data)
        return self.master is not None or self.out_fd is not None

    def wait_until(self, condition, what, timeout=120, per_frame=0):
        """Pumps until condition() holds; each new frame lets per_frame more bytes of stdout through."""
        deadline = time.monotonic() + timeout
        seen = len(self.frames())
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {timeout}s\n{self.describe()}"
            if not self.pump(0.2):
                assert condition(), f"{what}: the run ended first\n{self.describe()}"
            frames = len(self.frames())
            if per_frame and frames > seen and self.allowance is not None:
                self.allowance += per_frame * (frames - seen)
            seen = frames

    def finish(self, timeout=120):
        """Lets stdout through, reads both to their end; the exit code."""
        self.allowance = None
        deadline = time.monotonic() + timeout
        while self.pump(0.2):
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"sluice did not finish within {timeout}s\n{self.describe()}")
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self.out_fd):
            if fd is not None:
                os.close(fd)
        self.master = self.out_fd = None

    def describe(self):
        return (f"--- terminal ({len(self.screen)} bytes) ---\n{self.screen[-3000:]!r}\n"
                f"--- stdout ({len(self.out)} bytes) ---\n{self.out[-500:]!r}")


@pytest.fixture
def terminal(request):
    opened = []

    def start(runner, args, cwd, stdout_is_terminal, columns=80):
        t = Terminal(runner, args, cwd, stdout_is_terminal, columns)
        opened.append(t)
        return t

    yield start
    for t in opened:
        t.close()


def last_frame(screen):
    """The progress line's last drawing on the terminal ("" for its clearing) and what came after."""
    text = screen.decode(errors="replace")
    last = None
    for last in FRAME.finditer(text):
        pass
    return (last.group(1), text[last.end():]) if last else (None, text)


def after_last_frame(screen):
    return last_frame(screen)[1]


FILE_TO_FILE = """\
pipelines:
  copy:
    source: { file: { path: in.jsonl } }
    sink:   { file: { path: out.jsonl, fsync: false } }
"""


@pytest.mark.parametrize("columns", [80, 50])
def test_on_a_terminal_the_progress_line_shows_the_percent_fits_and_clears_itself(sluice, terminal, workdir,
                                                                                   columns):
    text, expected = records_text(20000)
    (workdir / "in.jsonl").write_text(text)
    (workdir / "p.yaml").write_text(FILE_TO_FILE)
    # stdout and stderr the same terminal: the pipeline does not write stdout, so the line is shown.
    t = terminal(sluice, ["run", "p.yaml"], workdir, stdout_is_terminal=True, columns=columns)
    assert t.finish() == 0, t.describe()
    frames = t.frames()
    assert frames, f"no progress line on the terminal\n{t.describe()}"
    assert all(re.match(r"^[\d.]+s copy ", f) for f in frames), frames
    assert any(re.search(r" \d+%", f) for f in frames), f"no percent for a file of known size: {frames}"
    assert all(len(f) <= columns - 1 for f in frames), f"wider than {columns - 1} columns: {frames}"
    # Cleared, then the summary as plain lines.
    final, rest = last_frame(t.screen)
    assert final == "", f"the progress line was not cleared: {final!r}"
    assert "\r" not in rest.replace("\r\n", "") and "\x1b" not in rest, repr(rest)
    row = parse_summary(rest).get("copy")
    assert row is not None and row["out"] == 20000, repr(rest)
    assert (workdir / "out.jsonl").read_text() == expected


def test_the_progress_line_shows_an_eta_and_stdout_stays_exact(sluice, terminal, workdir):
    text, expected = records_text(20000)
    (workdir / "in.jsonl").write_text(text)
    (workdir / "p.yaml").write_text(
        "pipelines:\n  copy:\n    source: { file: { path: in.jsonl } }\n    sink:   { stdio: {} }\n"
        "    batch_size: 50\n    max_inflight: 2\n    workers: 1\n")
    # stderr a terminal, stdout a pipe read a little per frame: the run moves on only as the
    # progress line is redrawn, so it is still under way when the ETA appears.
    t = terminal(sluice, ["run", "p.yaml"], workdir, stdout_is_terminal=False)
    t.wait_until(lambda: any(re.search(r" \d+% ETA \d", f) for f in t.frames()), "a percent with an ETA",
                 per_frame=32768)
    assert t.finish() == 0, t.describe()
    assert t.out == expected.encode(), f"stdout is not exactly the records\n{t.describe()}"
    frames = t.frames()
    eta = [f for f in frames if " ETA " in f]
    assert all(re.match(r"^[\d.]+s copy [\d.]+[kM]? in [\d.]+[kM]? out [\d.]+[kM]? rec/s \d+% ETA \S+$", f)
               for f in eta), eta
    assert parse_summary(after_last_frame(t.screen))["copy"]["out"] == 20000, t.describe()


def test_no_progress_line_when_records_go_to_the_same_terminal(sluice, terminal, workdir):
    text, expected = records_text(5000)
    (workdir / "in.jsonl").write_text(text)
    (workdir / "p.yaml").write_text(
        "pipelines:\n  copy:\n    source: { file: { path: in.jsonl } }\n    sink:   { stdio: {} }\n")
    t = terminal(sluice, ["run", "p.yaml"], workdir, stdout_is_terminal=True)
    assert t.finish() == 0, t.describe()
    screen = t.screen.decode(errors="replace")
    # The records, uncorrupted and in order, then the summary: nothing drawn in between.
    assert screen.startswith(expected), f"the records are not intact on the terminal\n{t.describe()}"
    rest = screen[len(expected):]
    assert "\x1b" not in screen and "\r" not in screen, f"a progress line ran into the records\n{t.describe()}"
    assert parse_summary(rest)["copy"]["out"] == 5000, rest


def test_the_progress_line_shows_the_lag_of_a_topic(sluice, terminal, workdir):
    (workdir / "make.yaml").write_text(
        "pipelines:\n  make:\n    source: { generator: { kind: sequence, count: 5000 } }\n"
        "    sink:   { topic: { name: events, partitions: 2 } }\n")
    made = sluice.run("run", "make.yaml", timeout=120)
    assert made.returncode == 0, made.describe()
    (workdir / "read.yaml").write_text(
        "pipelines:\n  readers:\n    source: { topic: { name: events } }\n    sink:   { stdio: {} }\n"
        "    batch_size: 50\n    max_inflight: 2\n    workers: 1\n")
    # stdout unread until the line showed a lag: the run cannot have read the topic by then.
    t = terminal(sluice, ["run", "read.yaml"], workdir, stdout_is_terminal=False)
    t.wait_until(lambda: any(re.search(r" lag [1-9][\d.]*k?$", f) for f in t.frames()), "a lag above 0")
    first = t.frames()[0]
    assert re.match(r"^[\d.]+s readers \S+ in \S+ out \S+ rec/s lag [\d.]+k?$", first), first
    assert "%" not in first, "a topic has no size: no percent"
    assert t.finish() == 0, t.describe()
    ids = sorted(json.loads(line)["id"] for line in t.out.decode().splitlines())
    assert ids == list(range(5000))
    assert parse_summary(after_last_frame(t.screen))["readers"]["in"] == 5000, t.describe()


def test_a_log_line_clears_the_progress_line_and_the_line_is_drawn_again(sluice, terminal, workdir):
    """A warning while the progress line is shown (a tailed file truncated under the run):
    the line is cleared, the warning written, and the line drawn again below it."""
    (workdir / "in.jsonl").write_text('{"a":1}\n{"a":2}\n')
    (workdir / "p.yaml").write_text(
        "pipelines:\n  tailer:\n    source: { file: { path: in.jsonl, tail: true, poll_interval: 50ms } }\n"
        "    sink:   { file: { path: out.jsonl, fsync: false } }\n")
    t = terminal(sluice, ["run", "p.yaml"], workdir, stdout_is_terminal=True)
    t.wait_until(lambda: any(" tailer 2 in " in f for f in t.frames()), "both lines read")
    (workdir / "in.jsonl").write_text('{"b":1}\n')        # shorter than what was read: truncated
    warning = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z WARN file: in\.jsonl: the file shrank[^\n\r\x1b]*\n")
    t.wait_until(lambda: warning.search(t.screen.decode(errors="replace")), "the truncation warning")
    at = warning.search(t.screen.decode(errors="replace")).end()
    t.wait_until(lambda: FRAME.search(t.screen.decode(errors="replace"), at), "the line drawn again")
    t.proc.send_signal(2)                                   # SIGINT: the normal end of a tailed file
    assert t.finish() == 0, t.describe()
    screen = t.screen.decode(errors="replace")
    line = warning.search(screen)
    before = screen[:line.start()]
    assert FRAME.search(before), "the progress line was not shown before the warning"
    assert before.endswith("\r\x1b[K"), f"not cleared first: {screen[max(0, line.start() - 100):line.end()]!r}"
    redrawn = FRAME.match(screen, line.end())
    assert redrawn and redrawn.group(1).startswith(tuple(f"{n}" for n in range(10))), \
        f"the progress line is not drawn again right after the warning: {screen[line.end():line.end() + 120]!r}"
    assert " tailer " in redrawn.group(1), redrawn.group(1)
