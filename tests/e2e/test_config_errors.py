"""test_config_errors.py — config mistakes exit 2 with "FILE:LINE:COLUMN:"
pointing at the mistake, for `sluice validate` and `sluice run`;
${VAR} / ${VAR:-default} interpolation works.
"""
import re
import sqlite3

import pytest

from e2e_util import USERS_YAML, parse_summary, position_of

GOOD_SOURCE = "    source: { generator: { kind: sequence, count: 10 } }\n"
GOOD_SINK = "    sink: { file: { path: out.jsonl } }\n"

# name -> (config text, the text the error must point at (its first character), words the message must contain)
CASES = {
    "yaml_syntax_error": (
        "pipelines:\n"
        "  p:\n"
        "    source: { generator: { kind: sequence, count: 10 }\n"
        "    sink: [unclosed\n",
        None, []),
    "unknown_top_level_key": (
        "pipelines:\n"
        "  p:\n" + GOOD_SOURCE + GOOD_SINK +
        "pipelinez: {}\n",
        "pipelinez", ["pipelinez"]),
    "unknown_connector_setting": (
        "pipelines:\n"
        "  p:\n"
        "    source:\n"
        "      generator:\n"
        "        kind: sequence\n"
        "        count: 10\n"
        "        colour: blue\n" + GOOD_SINK,
        "colour", ["colour", "unknown"]),
    "unknown_connector": (
        "pipelines:\n"
        "  p:\n"
        "    source:\n"
        "      carrier_pigeon: { coop: 1 }\n" + GOOD_SINK,
        "carrier_pigeon", ["carrier_pigeon"]),
    "sql_syntax_error": (
        "pipelines:\n"
        "  p:\n" + GOOD_SOURCE +
        "    transform:\n"
        "      sql: \"SELECT value AS v, FROM input\"\n" + GOOD_SINK,
        "\"SELECT", ["line 1 column 20", "FROM"]),
    "unset_variable_without_default": (
        "pipelines:\n"
        "  p:\n"
        "    source:\n"
        "      generator:\n"
        "        kind: sequence\n"
        "        count: ${SLUICE_TEST_SURELY_UNSET_VAR}\n" + GOOD_SINK,
        "${SLUICE_TEST_SURELY_UNSET_VAR}", ["SLUICE_TEST_SURELY_UNSET_VAR", "not set"]),
    "missing_required_setting": (
        "pipelines:\n"
        "  p:\n"
        "    source:\n"
        "      topic:\n"
        "        group: g\n" + GOOD_SINK,
        "group", ["name", "required"]),
}


def error_position(stderr, file_name):
    m = re.search(re.escape(file_name) + r":(\d+):(\d+): ", stderr)
    assert m, f"no '{file_name}:LINE:COLUMN: ' in stderr: {stderr!r}"
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_exits_2_and_points_at_the_mistake(case, command, sluice, workdir):
    text, needle, words = CASES[case]
    (workdir / "bad.yaml").write_text(text)
    result = sluice.run(command, "bad.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert result.stderr.startswith("sluice: bad.yaml:"), result.describe()
    line, column = error_position(result.stderr, "bad.yaml")
    if needle is not None:
        assert (line, column) == position_of(text, needle), \
            f"error at {line}:{column}, the mistake is at {position_of(text, needle)}\n{result.stderr}"
    else:
        # YAML syntax: the unclosed flow mapping of line 3 runs into line 4 (libyaml reports
        # where it noticed); it must point inside the file at one of those lines.
        assert line in (3, 4, 5), result.stderr
    for word in words:
        assert word in result.stderr, f"{word!r} not in {result.stderr!r}"
    assert not (workdir / "out.jsonl").exists(), "a config error must not run anything"


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
    assert parse_summary(result.stdout)["numbers"]["out"] == 37, result.describe()
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
