"""test_run_options.py — `sluice run`'s --for takes durations like the config
does (a bare number is seconds; 500ms, 2m, 1h30m, 1.5s; anything else is an
error naming the flag), and a file with DAGs: `run` says in one line that
the scheduler runs them and runs the pipelines, or exits 2 when there are
no pipelines; `validate` accepts both.
"""
import pytest

from e2e_util import load_jsonl, position_of

ENDLESS = """\
pipelines:
  endless:
    source: { generator: { kind: sequence, count: 0, rate: 200 } }
    sink:   { file: { path: out.jsonl } }
"""

BOUNDED = """\
pipelines:
  ten:
    source: { generator: { kind: sequence, count: 10 } }
    sink:   { file: { path: out.jsonl } }
"""

DAG = """\
dags:
  nightly:
    schedule: "@daily"
    tasks:
      copy: { pipeline: ten, retries: 2, timeout: 10m }
"""


def test_for_with_a_bare_number_means_seconds(sluice, workdir):
    (workdir / "endless.yaml").write_text(ENDLESS)
    result = sluice.run("run", "endless.yaml", "--for", "1", timeout=120)
    # A source that never ends is stopped by --for: its normal end.
    assert result.returncode == 0, result.describe()
    # A lower bound only: 1 s, not 1 ms (the old reading), however slow the machine.
    assert result.elapsed >= 0.9, f"--for 1 stopped after {result.elapsed:.3f} s\n{result.describe()}"
    assert (workdir / "out.jsonl").exists(), result.describe()


@pytest.mark.parametrize("duration", ["1h30m", "2m", "1.5s", "500ms", "1h 30m", "90"])
def test_for_takes_every_duration_form(duration, sluice, workdir):
    (workdir / "ten.yaml").write_text(BOUNDED)
    result = sluice.run("run", "ten.yaml", "--for", duration, timeout=120)
    assert result.returncode == 0, result.describe()
    assert [r["id"] for r in load_jsonl(workdir / "out.jsonl")] == list(range(10))


@pytest.mark.parametrize("duration", ["xyz", "", "0", "-1s", "1h30", "5 parsecs", "1e3"])
def test_for_refuses_what_is_not_a_duration_naming_the_flag(duration, sluice, workdir):
    (workdir / "ten.yaml").write_text(BOUNDED)
    result = sluice.run("run", "ten.yaml", "--for", duration, timeout=60)
    assert result.returncode == 2, result.describe()
    assert f"--for: '{duration}' is not a duration" in result.stderr, result.describe()
    assert not (workdir / "out.jsonl").exists(), "a usage error must not run anything"


def test_run_with_dags_says_the_scheduler_runs_them_and_runs_the_pipelines(sluice, workdir):
    (workdir / "both.yaml").write_text(BOUNDED + DAG)
    checked = sluice.run("validate", "both.yaml", timeout=60)
    assert checked.returncode == 0, checked.describe()
    assert "valid (1 pipelines, 1 dags)" in checked.stdout, checked.describe()

    result = sluice.run("run", "both.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    about_dags = [line for line in result.stderr.splitlines() if "DAG" in line]
    assert len(about_dags) == 1, result.describe()
    assert about_dags[0].startswith("sluice run: both.yaml: its 1 DAG is not run"), about_dags
    assert "`sluice server`" in about_dags[0] and "running the pipelines" in about_dags[0], about_dags
    assert [r["id"] for r in load_jsonl(workdir / "out.jsonl")] == list(range(10))


def test_run_of_a_file_of_dags_alone_exits_2_saying_there_is_nothing_to_run(sluice, workdir):
    (workdir / "dags.yaml").write_text(DAG.replace("{ pipeline: ten,", "{ command: \"echo hi\","))
    checked = sluice.run("validate", "dags.yaml", timeout=60)
    assert checked.returncode == 0, checked.describe()
    assert "valid (0 pipelines, 1 dags)" in checked.stdout, checked.describe()

    result = sluice.run("run", "dags.yaml", timeout=60)
    assert result.returncode == 2, result.describe()
    assert "dags.yaml has DAGs but no pipelines" in result.stderr, result.describe()
    assert "`sluice server`" in result.stderr, result.describe()
    assert not (workdir / "data").exists(), "nothing may run"


def test_config_durations_use_the_same_reading(sluice, workdir):
    """A bare number in the file is seconds too: linger: 901 is past linger's 15m bound, 900 is not."""
    (workdir / "c.yaml").write_text(BOUNDED.replace("  ten:\n", "  ten:\n    retry_limit: 1h30m\n"))
    result = sluice.run("validate", "c.yaml", timeout=60)
    assert result.returncode == 0, result.describe()
    text = "pipelines:\n  p:\n    source: { stdio: {} }\n    sink: { kafka: { brokers: 'k:9092', topic: t, linger: 901 } }\n"
    (workdir / "k.yaml").write_text(text)
    result = sluice.run("validate", "k.yaml", timeout=60)
    assert result.returncode == 2, result.describe()
    line, column = position_of(text, "901")
    assert f"k.yaml:{line}:{column}: pipelines.p.sink.kafka.linger: must be at most 15m, found '901'" in result.stderr, \
        result.describe()
    (workdir / "k.yaml").write_text(
        "pipelines:\n  p:\n    source: { stdio: {} }\n"
        "    sink: { kafka: { brokers: 'k:9092', topic: t, linger: 900 } }\n")
    result = sluice.run("validate", "k.yaml", timeout=60)
    assert result.returncode == 0, result.describe()
