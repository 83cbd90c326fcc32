"""test_make.py — the build's own interface: `make help` lists every target,
a build prints one short line per step (V=1: the full commands), compilers
run in parallel without -j, `make demo` in a fresh copy of the tree ends with
the run's summary and the README's commands (which work), and
scripts/deps.sh prints one line per step, showing apt-get's output only when
a step fails.

The build tests run make in a copy of the tree (its own build/ and data/);
the deps tests put fake dpkg-query, apt-get and sudo first on PATH, so
nothing is installed and no network is needed.
"""
import os
import re
import shutil
import subprocess
import textwrap

import pytest

from e2e_util import REPO, parse_summary

SHORT_LINE = re.compile(r"^  (DEPS|APT|CC|CC-ASAN|AR|LD|CCLD|GEN|RUN) +\S")


def make_env(**extra):
    """The environment of a make started by hand: no make of ours around it."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "V")}
    env.update(extra)
    return env


def run(args, cwd, timeout, env=None):
    proc = subprocess.run(args, cwd=cwd, env=env or make_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


@pytest.fixture
def tree(tmp_path):
    """A copy of what make builds from, with no build/ of its own yet."""
    copy = tmp_path / "tree"
    copy.mkdir()
    for part in ("src", "scripts", "examples", "ui"):
        shutil.copytree(REPO / part, copy / part)
    shutil.copy(REPO / "Makefile", copy / "Makefile")
    return copy


def write_tool(directory, name, body):
    path = directory / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_apt(tmp_path):
    """A bin dir whose dpkg-query reports every package installed but those in
    $FAKE_MISSING, and whose apt-get prints noise (and fails install with
    apt's own words when $FAKE_APT_FAIL is set)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_tool(bin_dir, "dpkg-query", """\
        for package; do :; done
        case " $FAKE_MISSING " in *" $package "*) printf 'unknown ok not-installed' ;;
                                                *) printf 'install ok installed' ;; esac
        """)
    write_tool(bin_dir, "apt-get", """\
        i=0
        while [ $i -lt 40 ]; do echo "Get:$i http://deb.example/debian noise line $i"; i=$((i + 1)); done
        echo "debconf: delaying package configuration, since apt-utils is not installed" >&2
        if [ "$1" = install ] && [ -n "$FAKE_APT_FAIL" ]; then
            echo "E: Unable to locate package $FAKE_MISSING" >&2
            exit 100
        fi
        """)
    write_tool(bin_dir, "sudo", 'exec "$@"\n')
    return bin_dir


def deps(fake_apt, **extra):
    env = make_env(PATH=f"{fake_apt}:{os.environ['PATH']}", **extra)
    proc = subprocess.run(["bash", "scripts/deps.sh", "build"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    return proc


# ---- make help, make with no target ----------------------------------------------

def test_make_help_lists_every_phony_target():
    rc, out = run(["make", "--no-print-directory", "help"], REPO, timeout=60)
    assert rc == 0, out
    makefile = (REPO / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    assert "demo" in phony and "help" in phony
    for target in phony:
        if target == "all":
            continue
        assert re.search(rf"\bmake {re.escape(target)}\b", out), f"`make help` does not list {target}:\n{out}"
    assert "V=1" in out and "-jN" in out, out


# ---- build output -------------------------------------------------------------------

def test_a_build_prints_one_short_line_per_step_and_v1_the_commands(tree):
    rc, out = run(["make", "build/obj/src/core/json.o", "build/obj/src/core/value.o"], tree, timeout=600)
    assert rc == 0, out
    assert sorted(out.splitlines()) == ["  CC       src/core/json.c", "  CC       src/core/value.c"], out

    rc, out = run(["make", "V=1", "build/obj/src/core/arena.o"], tree, timeout=600)
    assert rc == 0, out
    assert "  CC " not in out, out
    assert re.search(r"^cc .*-Werror.* -c src/core/arena\.c -o build/obj/src/core/arena\.o$", out, re.M), out

    rc, out = run(["make", "-s", "build/obj/src/core/arena.o", "build/obj/src/core/error.o"], tree, timeout=600)
    assert (rc, out) == (0, ""), out


def test_a_compile_error_is_shown_whole(tree):
    (tree / "src" / "core" / "broken.c").write_text("/* broken.c */\nint broken(void) { return nope; }\n")
    rc, out = run(["make", "build/obj/src/core/broken.o"], tree, timeout=600)
    assert rc != 0, out
    assert "  CC       src/core/broken.c" in out
    assert re.search(r"src/core/broken\.c:2:\d+: error: .nope. undeclared", out), out


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: one job per core is one job")
def test_compilers_run_in_parallel_without_dash_j(tree, tmp_path):
    """Each fake compiler waits (up to a deadline) until another one runs at
    the same time; with one job at a time none ever sees another."""
    marks = tmp_path / "marks"
    marks.mkdir()
    fake_cc = write_tool(tmp_path, "fake-cc", f"""\
        marks={marks}
        touch "$marks/running.$$"
        waited=0
        while [ ! -e "$marks/overlapped" ] && [ "$waited" -lt 600 ]; do
            [ "$(ls "$marks" | grep -c '^running\\.')" -ge 2 ] && touch "$marks/overlapped"
            sleep 0.1; waited=$((waited + 1))
        done
        cc "$@"; rc=$?
        rm -f "$marks/running.$$"
        exit $rc
        """)
    rc, out = run(["make", f"CC={fake_cc}", "build/obj/src/core/json.o", "build/obj/src/core/value.o"], tree,
                  timeout=600)
    assert rc == 0, out
    assert (marks / "overlapped").exists(), f"the two compilers never ran at once: make ran them one by one\n{out}"


# ---- make demo ---------------------------------------------------------------------

def readme_demo_commands():
    """The commands of the README's block right after its `make demo` paragraph."""
    readme = (REPO / "README.md").read_text()
    after = readme[readme.index("`make demo` installs"):]
    block = re.search(r"```sh\n(.*?)```", after, re.S).group(1)
    return block.strip().splitlines()


def test_make_demo_in_a_fresh_tree_ends_with_the_summary_and_the_readme_commands(tree, fake_apt):
    env = make_env(PATH=f"{fake_apt}:{os.environ['PATH']}")
    rc, out = run(["make", "demo"], tree, timeout=1500, env=env)
    assert rc == 0, out
    lines = out.splitlines()
    run_at = next(i for i, line in enumerate(lines) if line.startswith("  RUN "))
    build_lines = lines[:run_at + 1]
    bad = [line for line in build_lines if not SHORT_LINE.match(line)]
    assert not bad, f"lines before the run that are not one short step line: {bad[:5]}\n{out[-3000:]}"
    assert build_lines[0] == "  DEPS     the build packages are installed"
    n_sources = len(list((tree / "src").rglob("*.c"))) + 1   # and the web UI's table, generated from ui/
    assert sum(line.startswith("  CC ") for line in build_lines) == n_sources, out[-3000:]
    assert "  GEN      build/gen/ui_assets.c" in build_lines, out[-3000:]
    assert build_lines[-3:] == ["  AR       build/libsluice.a", "  LD       build/sluice",
                                "  RUN      build/sluice run examples/users.yaml"], build_lines[-3:]

    summary = parse_summary(out)
    for name in ("ingest_users", "store_users"):
        assert (summary[name]["out"], summary[name]["state"]) == (100000, "ok"), out[-3000:]

    commands = readme_demo_commands()
    assert len(commands) == 2, commands
    assert lines[-3:] == ["Look at the result:"] + [f"  {c}" for c in commands], out[-3000:]

    # The commands it suggests work, from the tree's root, as printed.
    proc = subprocess.run(commands[0], shell=True, cwd=tree, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    assert len(rows) == 5 and all(row.count("|") == 2 for row in rows), proc.stdout
    proc = subprocess.run(commands[1], shell=True, cwd=tree, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "topic user_data: 4 partitions" in proc.stdout, proc.stdout
    assert re.search(r"^store_users +\d+ +\d+ +0$", proc.stdout, re.M), proc.stdout


# ---- scripts/deps.sh ------------------------------------------------------------------

def test_deps_prints_one_line_per_step_and_none_of_apts_output(fake_apt):
    proc = deps(fake_apt, FAKE_MISSING="sqlite3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["  APT      update", "  APT      install sqlite3"], proc.stdout
    assert proc.stderr == ""


def test_deps_shows_apts_whole_output_when_a_step_fails(fake_apt):
    proc = deps(fake_apt, FAKE_MISSING="sqlite3", FAKE_APT_FAIL="1")
    assert proc.returncode == 100, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["  APT      update", "  APT      install sqlite3"], proc.stdout
    for i in range(40):
        assert f"noise line {i}\n" in proc.stderr, proc.stderr
    assert "E: Unable to locate package sqlite3" in proc.stderr
    assert "deps: 'apt-get install -y --no-install-recommends sqlite3' failed with exit code 100" in proc.stderr


def test_deps_with_v1_lets_apts_output_through(fake_apt):
    proc = deps(fake_apt, FAKE_MISSING="sqlite3", V="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("noise line 39") == 2, proc.stdout


def test_deps_refuses_an_unknown_set():
    proc = subprocess.run(["bash", "scripts/deps.sh", "everything"], cwd=REPO, env=make_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "usage: scripts/deps.sh [build|test]\n"
