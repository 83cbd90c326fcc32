"""test_connectors.py — `sluice connectors`: the list of sources and sinks,
every setting of one (type, default, allowed values, help) in 80 columns,
an unknown name suggesting the nearest, and docs/connectors.md being
exactly what the binary generates from the tables the parser uses.
"""
import re

import pytest

from e2e_util import REPO

DOCS = REPO / "docs" / "connectors.md"
SOURCES = ["generator", "topic", "file", "stdio", "kafka"]
SINKS = ["topic", "sqlite", "file", "stdio", "kafka", "cassandra"]
BLOCKS = ["top", "pipeline", "transform", "transform.watermark", "transform.state", "transform.tables.NAME", "log", "http", "http.tls", "auth", "auth.token", "topics", "topics.kafka",
          "dag", "dag.every", "task", "task.sql", "task.sensor", "task.control",
          "alerts", "webhook", "alerts.rule", "alerts.lag"]


def listing(sluice):
    result = sluice.run("connectors", timeout=30)
    assert result.returncode == 0, result.describe()
    return result.stdout


def section(text, title):
    """The indented entries under a 'Title:' line of the listing, as {name: description}."""
    lines = text.split(f"{title}:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    entries, name = {}, None
    for line in lines:
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if m and not line.startswith("   "):
            name = m.group(1)
            entries[name] = m.group(2)
        else:
            entries[name] += " " + line.strip()
    return entries


def test_connectors_lists_every_source_and_sink_with_a_description(sluice):
    text = listing(sluice)
    sources, sinks = section(text, "Sources"), section(text, "Sinks")
    assert list(sources) == SOURCES, text
    assert list(sinks) == SINKS, text
    assert list(section(text, "Blocks of the config file")) == BLOCKS, text
    for name, description in {**sources, **sinks}.items():
        assert len(description) > 20, f"{name}: {description!r}"
    assert "JSON lines read from a file" in sources["file"]
    assert "SQLite" in sinks["sqlite"]
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_connectors_file_prints_every_setting_with_type_default_choices_and_help(sluice):
    result = sluice.run("connectors", "file", timeout=30)
    assert result.returncode == 0, result.describe()
    text = result.stdout
    source, sink = text.split("\nfile sink\n")
    assert source.startswith("file source\n"), text
    assert "source: { file: { ... } }" in source and "sink: { file: { ... } }" in sink
    for line in ("  path (string, required)",
                 "  start (string, default: resume; one of: resume, beginning)",
                 "  format (string, default: jsonl; one of: jsonl)",
                 "  tail (boolean, default: false)",
                 "  poll_interval (duration, default: 200ms; at least 1ms)",
                 "  max_record_bytes (size, default: 1MiB; at least 1)"):
        assert line + "\n" in source, f"{line!r} not in\n{source}"
    assert "      at the end of the file, wait for appended lines instead of ending\n" in source
    assert "  fsync (boolean, default: true)\n      fsync after each batch" in sink, sink
    assert all(len(line) <= 80 for line in text.splitlines()), text


@pytest.mark.parametrize("name", sorted(set(SOURCES + SINKS + BLOCKS)))
def test_every_connector_and_block_fits_80_columns_and_has_help_for_each_setting(name, sluice):
    result = sluice.run("connectors", name, timeout=30)
    assert result.returncode == 0, result.describe()
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    for i, line in enumerate(lines):
        if re.match(r"^  \w+ \(", line):
            following = [x for x in lines[i + 1:] if not x.startswith("    ") or x.startswith("      ")][:1]
            assert following and following[0].startswith("      "), f"{name}: no help under {line!r}"


def test_settings_listed_are_exactly_those_the_parser_accepts(sluice, workdir):
    """The 'known:' list of an unknown-setting error names the same settings as the docs."""
    for side, names in (("source", SOURCES), ("sink", SINKS)):
        for name in names:
            other = "sink: { stdio: {} }" if side == "source" else "source: { stdio: {} }"
            (workdir / "c.yaml").write_text(f"pipelines:\n  p:\n    {side}: {{ {name}: {{ zzz: 1 }} }}\n    {other}\n")
            result = sluice.run("validate", "c.yaml", timeout=30)
            assert result.returncode == 2, result.describe()
            m = re.search(r"unknown setting 'zzz' in pipelines\.p\.\w+\.\w+ \((?:known: ([^)]*)|it takes no settings)\)",
                          result.stderr)
            assert m, result.describe()
            known = m.group(1).split(", ") if m.group(1) else []
            doc = sluice.run("connectors", name, "--format", "markdown", timeout=30).stdout
            part = doc.split(f"### {name} {side}\n", 1)[1].split("\n### ", 1)[0]
            documented = re.findall(r"^\| `(\w+)` \|", part, re.M)
            assert documented == known, f"{name} {side}: documented {documented}, parser knows {known}"


def test_unknown_connector_exits_2_suggesting_the_nearest(sluice):
    for wrong, nearest in (("fiel", "file"), ("cassandr", "cassandra"), ("sqlit3", "sqlite"), ("pipline", "pipeline")):
        result = sluice.run("connectors", wrong, timeout=30)
        assert result.returncode == 2, result.describe()
        assert result.stdout == "", result.describe()
        assert f"unknown connector '{wrong}'; did you mean '{nearest}'?" in result.stderr, result.describe()
    result = sluice.run("connectors", "file", "--format", "html", timeout=30)
    assert result.returncode == 2 and "--format" in result.stderr, result.describe()


def test_docs_connectors_md_is_what_the_binary_generates(sluice):
    result = sluice.run("connectors", "--format", "markdown", timeout=30)
    assert result.returncode == 0, result.describe()
    committed = DOCS.read_text() if DOCS.exists() else ""
    assert result.stdout == committed, (
        "docs/connectors.md is stale (the settings tables changed): regenerate it with `make docs` "
        "(build/sluice connectors --format markdown > docs/connectors.md) and commit it")
    for name in SOURCES + SINKS:
        assert f"\n## {name}\n" in committed, name
    assert "| `retry_limit` | duration | `5m` |" in committed


def test_help_lists_the_connectors_command(sluice):
    result = sluice.run("--help", timeout=30)
    assert re.search(r"^  connectors\s+\S", result.stdout, re.M), result.stdout
    result = sluice.run("connectors", "--help", timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("usage: sluice connectors"), result.describe()
