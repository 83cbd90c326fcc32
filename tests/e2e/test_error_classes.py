"""test_error_classes.py — transient errors are retried for a bounded time,
permanent ones end the run at once with a message naming the sink and what
to change, and a record only the data can tell is wrong goes to the DLQ.

Every run here has a generous timeout: before errors had classes, each of
these (but the BUSY ones) retried for five minutes and hit it. Read-only
directories need a user the permission bits apply to: as root the binary
runs as nobody (setpriv), from a world-accessible directory of its own.
"""
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from e2e_util import Result, parse_summary, sanitizer_reports
from cassandra_server import cassandra_node  # noqa: F401  (the session fixture)
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

RETRYING = "retrying in"


def users_source(count):
    return f"{{ generator: {{ kind: users, count: {count}, seed: 7 }} }}"


# ---- sqlite: key column -----------------------------------------------------------

KEY_NOT_SELECTED = f"""\
pipelines:
  store:
    source: {users_source(1001)}
    transform:
      sql: "SELECT login.uuid AS uid, name.first AS first FROM input"
    sink: {{ sqlite: {{ path: users.db, table: t, key: [id] }} }}
"""


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_key_column_the_sql_does_not_produce_is_a_config_error_naming_it(command, sluice, workdir):
    (workdir / "p.yaml").write_text(KEY_NOT_SELECTED)
    result = sluice.run(command, "p.yaml", timeout=60)
    assert result.returncode == 2, result.describe()
    assert "p.yaml:6:" in result.stderr and "key column 'id'" in result.stderr, result.describe()
    assert "uid, first" in result.stderr, result.describe()   # what the SQL does produce
    assert RETRYING not in result.stderr, result.describe()
    assert not (workdir / "users.db").exists(), "a config error must not run anything"


def test_records_without_the_key_go_to_the_dlq_and_the_run_ends(sluice_asan, workdir):
    # Without SQL only the records can tell: each one lacking the key is a dead letter.
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  store:\n"
        f"    source: {users_source(50)}\n"
        "    sink: { sqlite: { path: users.db, table: t, key: [nope] } }\n")
    result = sluice_asan.run("run", "p.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    assert not sanitizer_reports(result.stderr), result.describe()
    row = parse_summary(result.stderr)["store"]
    assert (row["in"], row["out"], row["dlq"]) == (50, 0, 50), result.describe()
    assert RETRYING not in result.stderr, result.describe()
    dlq = sluice_asan.run("topic", "consume", "store.dlq", "--metadata", timeout=60)
    assert dlq.returncode == 0, dlq.describe()
    assert dlq.stdout.count("key column 'nope' is missing") == 50, dlq.stdout[:2000]


def test_an_existing_table_without_an_output_column_fails_at_once_naming_it(sluice, workdir):
    db = sqlite3.connect(workdir / "users.db")
    db.execute("CREATE TABLE t (uid TEXT, first TEXT)")
    db.commit()
    db.close()
    (workdir / "p.yaml").write_text(KEY_NOT_SELECTED.replace("key: [id]", "key: [uid]")
                                    .replace("name.first AS first", "name.first AS first, gender"))
    result = sluice.run("run", "p.yaml", timeout=60)
    assert result.returncode == 1, result.describe()
    assert result.elapsed < 30, result.describe()
    assert "column 'gender' is not a column of table t" in result.stderr, result.describe()
    assert RETRYING not in result.stderr, result.describe()


# ---- stdio: the reader closes the pipe --------------------------------------------

@pytest.mark.parametrize("binary", ["sluice", "sluice_asan"])
def test_stdout_closed_by_its_reader_ends_the_run_at_once_with_exit_1(binary, request, workdir):
    runner = request.getfixturevalue(binary)
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  dump:\n"
        f"    source: {users_source(200000)}\n"
        "    sink: { stdio: {} }\n")
    stderr_path = workdir / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([runner.binary, "run", "p.yaml"], cwd=workdir, env=runner.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        first = proc.stdout.readline()          # `| head -1`
        proc.stdout.close()
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("sluice kept running after its reader closed stdout:\n"
                                 + stderr_path.read_text()[-3000:]) from None
    err = stderr_path.read_text()
    assert first.startswith(b"{"), first[:200]
    assert code == 1, err
    assert "sink stdio" in err and "closed by its reader" in err, err
    assert RETRYING not in err, err
    assert not sanitizer_reports(err), err


# ---- read-only directories ----------------------------------------------------------

@pytest.fixture
def unprivileged(sluice_bin):
    """(run, dir): run(*args) runs sluice in dir as a user the permission bits bind (nobody when root)."""
    base = Path(tempfile.mkdtemp(prefix="sluice-ro-"))
    os.chmod(base, 0o777)
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: read-only directories do not bind root")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    def run(*args, timeout=60):
        start = time.monotonic()
        try:
            proc = subprocess.run([*prefix, str(sluice_bin), *args], cwd=base, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"sluice {' '.join(args)} did not finish within {timeout}s\n"
                                 f"stderr: {(e.stderr or b'').decode(errors='replace')[-3000:]}") from None
        return Result(list(args), proc.returncode, proc.stdout.decode(errors="replace"),
                      proc.stderr.decode(errors="replace"), time.monotonic() - start)

    yield run, base
    for root, dirs, _ in os.walk(base):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777)
    shutil.rmtree(base, ignore_errors=True)


def read_only_dir(base):
    ro = base / "ro"
    ro.mkdir()
    os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return ro


def test_a_sqlite_database_in_a_read_only_directory_fails_the_run_naming_the_path(unprivileged):
    run, base = unprivileged
    ro = read_only_dir(base)
    (base / "p.yaml").write_text(
        "data_dir: data\n"
        "pipelines:\n"
        "  store:\n"
        f"    source: {users_source(10)}\n"
        f"    sink: {{ sqlite: {{ path: {ro}/users.db, table: t }} }}\n")
    result = run("run", "p.yaml")
    assert result.returncode == 1, result.describe()
    assert f"{ro}/users.db" in result.stderr, result.describe()
    assert RETRYING not in result.stderr, result.describe()


def test_a_file_sink_in_a_read_only_directory_fails_the_run_naming_the_path(unprivileged):
    run, base = unprivileged
    ro = read_only_dir(base)
    (base / "p.yaml").write_text(
        "data_dir: data\n"
        "pipelines:\n"
        "  dump:\n"
        f"    source: {users_source(10)}\n"
        f"    sink: {{ file: {{ path: {ro}/out.jsonl }} }}\n")
    result = run("run", "p.yaml")
    assert result.returncode == 1, result.describe()
    assert f"{ro}/out.jsonl" in result.stderr and "ermission denied" in result.stderr, result.describe()
    assert RETRYING not in result.stderr, result.describe()


def test_a_missing_source_file_fails_the_run_naming_the_path(sluice, workdir):
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  load:\n"
        "    source: { file: { path: nowhere/events.jsonl } }\n"
        "    sink: { file: { path: out.jsonl } }\n")
    result = sluice.run("run", "p.yaml", timeout=60)
    assert result.returncode == 1, result.describe()
    assert "nowhere/events.jsonl" in result.stderr and "No such file" in result.stderr, result.describe()


# ---- sqlite: a lock held by another process is transient ------------------------------

def locked_db(path):
    """A WAL database with table t, and a connection holding its write lock."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t (uuid TEXT NOT NULL, PRIMARY KEY (uuid))")
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t VALUES ('held')")
    return db


def busy_config(extra=""):
    return ("pipelines:\n"
            "  store:\n"
            f"    source: {users_source(300)}\n"
            "    transform: { sql: \"SELECT login.uuid AS uuid FROM input\" }\n"
            "    sink: { sqlite: { path: users.db, table: t, key: [uuid], busy_timeout: 200ms } }\n"
            + extra)


def wait_for_text(path, text, proc, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def test_a_database_locked_by_another_process_is_retried_and_then_written(sluice, workdir):
    db = locked_db(workdir / "users.db")
    (workdir / "p.yaml").write_text(busy_config())
    stderr_path = workdir / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([sluice.binary, "run", "p.yaml"], cwd=workdir, env=sluice.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        try:
            assert wait_for_text(stderr_path, "transient, retrying", proc, 60), stderr_path.read_text()
            assert proc.poll() is None, stderr_path.read_text()
            db.execute("COMMIT")          # the other process lets go
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            db.close()
    err = stderr_path.read_text()
    assert proc.returncode == 0, err
    assert "locked (busy)" in err, err
    assert parse_summary(err)["store"]["out"] == 300, err
    assert out == b"", "stdout carries records only"
    check = sqlite3.connect(workdir / "users.db")
    assert check.execute("SELECT count(*) FROM t").fetchone()[0] == 301
    check.close()


def test_a_lock_held_past_retry_limit_fails_the_run_saying_what_was_tried(sluice, workdir):
    db = locked_db(workdir / "users.db")
    (workdir / "p.yaml").write_text(busy_config("    retry_limit: 2s\n"))
    try:
        result = sluice.run("run", "p.yaml", timeout=120)
    finally:
        db.close()
    assert result.returncode == 1, result.describe()
    assert "gave up after" in result.stderr and "retry_limit 2 s of pipeline store" in result.stderr, \
        result.describe()
    assert "locked (busy)" in result.stderr, result.describe()
    assert parse_summary(result.stderr)["store"]["out"] == 0, result.describe()


def test_retry_limit_is_a_checked_pipeline_setting(sluice, workdir):
    (workdir / "p.yaml").write_text(busy_config("    retry_limit: soon\n"))
    result = sluice.run("validate", "p.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert "p.yaml:6:" in result.stderr and "retry_limit" in result.stderr, result.describe()


# ---- kafka: a topic the brokers refuse ------------------------------------------------

def test_a_topic_the_kafka_brokers_refuse_ends_the_run_instead_of_dead_lettering_everything(
        sluice, workdir, kafka_broker):  # noqa: F811
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  publish:\n"
        f"    source: {users_source(20)}\n"
        f"    sink: {{ kafka: {{ brokers: '{kafka_broker.bootstrap}', topic: 'no such topic!' }} }}\n")
    result = sluice.run("run", "p.yaml", timeout=120)
    assert result.returncode == 1, result.describe()
    assert result.elapsed < 60, result.describe()
    assert "topic 'no such topic!'" in result.stderr and "create the topic" in result.stderr, result.describe()
    row = parse_summary(result.stderr)["publish"]
    assert row["out"] == 0 and row["dlq"] == 0, result.describe()


# A client that asks for SASL where the brokers offer none is refused at the
# handshake: librdkafka reports it as an authentication failure, as it does
# for a wrong password. The source used to wait 30 s and end "ok" with
# nothing read, the sink to retry until killed.
SASL_PROPERTIES = ("properties: { security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN, "
                   "sasl.username: someone, sasl.password: wrong }")


@pytest.mark.parametrize("side", ["source", "sink"])
def test_credentials_the_kafka_brokers_refuse_end_the_run_at_once(side, sluice, workdir, kafka_broker):  # noqa: F811
    kafka = f"kafka: {{ brokers: '{kafka_broker.bootstrap}', topic: refused, {SASL_PROPERTIES} }}"
    if side == "source":
        blocks = f"    source: {{ {kafka.replace('topic: refused,', 'topic: refused, group: g,')} }}\n" \
                 "    sink: { file: { path: data/out.jsonl } }\n"
    else:
        blocks = f"    source: {users_source(10)}\n    sink: {{ {kafka} }}\n"
    (workdir / "p.yaml").write_text("pipelines:\n  p:\n" + blocks)
    result = sluice.run("run", "p.yaml", timeout=240)
    assert result.returncode == 2, result.describe()  # settings, like refused Cassandra credentials
    assert result.elapsed < 120, result.describe()
    assert f"kafka brokers '{kafka_broker.bootstrap}': authentication refused" in result.stderr, result.describe()
    assert "sasl.password" in result.stderr, result.describe()
    assert parse_summary(result.stderr)["p"]["out"] == 0, result.describe()

# ---- cassandra: a keyspace or table that does not exist ---------------------------------

@pytest.mark.parametrize("missing", ["keyspace", "table"])
def test_a_missing_cassandra_keyspace_or_table_ends_the_run_at_once_naming_it(missing, sluice, workdir,
                                                                             cassandra_node):  # noqa: F811
    node = cassandra_node
    keyspace = "system_auth" if missing == "table" else f"nope_{os.getpid()}"
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  store:\n"
        f"    source: {users_source(10)}\n"
        "    transform: { sql: \"SELECT login.uuid AS id FROM input\" }\n"
        f"    sink: {{ cassandra: {{ hosts: ['{node.contact_point}'], username: {node.username}, "
        f"password: {node.password}, keyspace: {keyspace}, table: no_such_table, key: [id] }} }}\n")
    result = sluice.run("run", "p.yaml", timeout=180)
    assert result.returncode == 1, result.describe()
    assert result.elapsed < 90, result.describe()
    assert "sink cassandra" in result.stderr and keyspace in result.stderr, result.describe()
    assert "create: true" in result.stderr, result.describe()   # what to change
    assert RETRYING not in result.stderr, result.describe()
