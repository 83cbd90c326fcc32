"""test_config_errors.py — config mistakes are reported with FILE:LINE:COLUMN.

Every case of tests/config (see its README: each file's first line holds the
expected report) through `sluice validate`, and for errors `sluice run` too;
one pass reports every mistake of a file, in file order; ${VAR} and
${VAR:-default} interpolation works.
"""
import re
import shutil
import sqlite3

import pytest

from e2e_util import REPO, USERS_YAML, parse_summary, sanitizer_reports

CASES_DIR = REPO / "tests" / "config"
CASES = sorted(path.name for path in CASES_DIR.glob("*.yaml"))
EXPECTED = re.compile(rb"^# (\d+):(\d+): (.+)$")


def expected_report(name):
    """(line, column, message prefix, is_warning) from the case file's first line."""
    first = (CASES_DIR / name).read_bytes().split(b"\n", 1)[0]
    m = EXPECTED.match(first)
    assert m, f"{name}: the first line must be '# LINE:COLUMN: message', not {first!r}"
    message = m.group(3).decode()
    return int(m.group(1)), int(m.group(2)), message, message.startswith("warning: ")


def test_there_are_cases():
    assert len(CASES) >= 30, CASES


@pytest.mark.parametrize("name", CASES)
def test_config_case_is_reported_at_its_position(name, sluice_asan, workdir):
    line, column, message, is_warning = expected_report(name)
    shutil.copy(CASES_DIR / name, workdir / name)
    want = f"sluice: {name}:{line}:{column}: {message}"

    result = sluice_asan.run("validate", name, timeout=60)
    assert not sanitizer_reports(result.stderr), result.describe()
    assert result.returncode == (0 if is_warning else 2), result.describe()
    assert any(text.startswith(want) for text in result.stderr.splitlines()), \
        f"expected a line starting with {want!r}\n{result.describe()}"
    if is_warning:
        assert f"{name}: valid" in result.stdout, result.describe()
        return

    result = sluice_asan.run("run", name, timeout=60)
    assert not sanitizer_reports(result.stderr), result.describe()
    assert result.returncode == 2, result.describe()
    assert any(text.startswith(want) for text in result.stderr.splitlines()), result.describe()
    assert sorted(p.name for p in workdir.iterdir()) == [name], "a config error must not run anything"


# Mistakes in every part of a file, written so that the order they are
# found in (top-level keys, then pipelines, then DAGs) is not the file's.
MANY_MISTAKES = """\
dags:
  d:
    schedule: "@daily"
    tasks:
      t: { pipeline: nope }
pipelines:
  first:
    source: { generator: { kind: sequence, count: -5 } }
    sink: { stdio: {} }
    workers: lots
  second:
    source: { file: { path: absent.jsonl } }
    transform: { sql: "SELECT FROM input" }
    sink: { sqlite: { path: out.db, table: t, colour: red } }
http: { port: 8080 }
"""


def test_validate_reports_every_mistake_in_one_pass_sorted_by_position(sluice, workdir):
    (workdir / "many.yaml").write_text(MANY_MISTAKES)
    result = sluice.run("validate", "many.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert result.stdout == "", result.describe()
    reports = result.stderr.splitlines()
    positions = []
    for text in reports:
        m = re.match(r"^sluice: many\.yaml:(\d+):(\d+): ", text)
        assert m, f"a report without file:line:column: {text!r}"
        positions.append((int(m.group(1)), int(m.group(2))))
    assert positions == sorted(positions), reports
    expected = [
        (5, 22, "dags.d.tasks.t: no pipeline named 'nope'"),
        (8, 51, "pipelines.first.source.generator.count: must be at least 0"),
        (10, 14, "pipelines.first.workers: expected an integer"),
        (12, 29, "warning: pipelines.second.source.file.path: 'absent.jsonl' does not exist yet"),
        (13, 31, "pipelines.second.transform.sql: expected expression, found 'FROM'"),
        (14, 47, "unknown setting 'colour' in pipelines.second.sink.sqlite"),
        (15, 9, "unknown setting 'port' in http (known: listen, tls)"),
    ]
    assert len(reports) == len(expected), result.describe()
    for text, (line, column, message) in zip(reports, expected):
        assert text.startswith(f"sluice: many.yaml:{line}:{column}: {message}"), f"{text!r} is not at {line}:{column}"


def test_missing_file_is_a_usage_error(sluice):
    result = sluice.run("validate", "does-not-exist.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert "does-not-exist.yaml" in result.stderr


INTERPOLATED = """\
data_dir: ${SLUICE_TEST_DATA:-state}
pipelines:
  numbers:
    source: { generator: { kind: sequence, count: ${SLUICE_TEST_COUNT}, rate: 0 } }
    sink:   { sqlite: { path: ${SLUICE_TEST_DB:-state/numbers.db}, table: numbers } }
"""


def test_variables_are_expanded_from_the_environment_with_defaults(sluice, workdir):
    (workdir / "env.yaml").write_text(INTERPOLATED)
    result = sluice.run("run", "env.yaml", timeout=60, env={"SLUICE_TEST_COUNT": "37"})
    assert result.returncode == 0, result.describe()
    assert parse_summary(result.stderr)["numbers"]["out"] == 37, result.describe()
    # The defaults: data_dir 'state' and the db under it.
    assert (workdir / "state").is_dir(), list(workdir.iterdir())
    con = sqlite3.connect(workdir / "state" / "numbers.db")
    assert con.execute("SELECT count(*) FROM numbers").fetchone() == (37,)
    con.close()
    # Set variables win over defaults.
    result = sluice.run("run", "env.yaml", timeout=60, env={"SLUICE_TEST_COUNT": "5", "SLUICE_TEST_DATA": "other",
                                                             "SLUICE_TEST_DB": "other/n.db"})
    assert result.returncode == 0, result.describe()
    con = sqlite3.connect(workdir / "other" / "n.db")
    assert con.execute("SELECT count(*) FROM numbers").fetchone() == (5,)
    con.close()


def test_validate_accepts_the_flagship_example(sluice):
    result = sluice.run("validate", str(USERS_YAML), timeout=30)
    assert result.returncode == 0, result.describe()
    assert "valid" in result.stdout
    assert result.stderr == "", result.stderr
