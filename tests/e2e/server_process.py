"""server_process.py — one `sluice server` process for the end-to-end
suites: started on a config written into the test's working directory,
with its output in files (so a long log never blocks it), found through
the data dir's server.json, and stopped with a signal, checking that it
exits in time with no sanitizer report. The suites' own classes
(test_server.Server, api_server.Server, auth_util.AuthServer) add how they
ask it: urllib or requests, JSON, tokens.
"""
import json
import signal
import subprocess
import time

from e2e_util import sanitizer_reports


class ServerProcess:
    def __init__(self, sluice, workdir, config, *args, env=None):
        self.workdir = workdir
        self.config = workdir / "server.yaml"
        self.config.write_text(config)
        self.out = open(workdir / "server.out", "w")
        self.err_path = workdir / "server.err"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([sluice.binary, "server", str(self.config), *args], cwd=workdir,
                                     env=env or sluice.env, stdout=self.out, stderr=self.err)
        self.url = None

    def wait_started(self, timeout=60):
        """Waits for data/server.json, which names the URL; returns self."""
        info = self.workdir / "data" / "server.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited {self.proc.returncode}:\n{self.stderr()}"
            if info.exists():
                try:
                    self.url = json.loads(info.read_text())["url"]
                    return self
                except (ValueError, KeyError):
                    pass
            time.sleep(0.05)
        raise AssertionError(f"no data/server.json within {timeout}s:\n{self.stderr()}")

    def wait_for(self, what, probe, timeout=90):
        """Polls probe() until it returns something true; returns that."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"{what} not within {timeout}s (last: {last!r})\n{self.stderr()[-4000:]}")

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        return self.err_path.read_text()

    def stop(self, signal_number=signal.SIGTERM, timeout=90):
        """Signals the server, waits for it, checks for sanitizer reports; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal_number)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the server did not stop within {timeout}s:\n{self.stderr()}") from None
        self.out.close()
        self.err.close()
        reports = sanitizer_reports(self.err_path.read_text())
        assert not reports, reports
        return code
