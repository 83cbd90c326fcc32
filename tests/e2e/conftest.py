"""conftest.py — fixtures of the end-to-end suites.

The binary under test is $SLUICE_BIN (default build/sluice under the repo
root) and its ASan+UBSan build $SLUICE_ASAN_BIN (default build/sluice-asan).
Each test gets a fresh working directory; sluice runs with that as its cwd,
so the configs' relative data_dir (default ./data) and paths land there.
"""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_util import REPO, Sluice, dump_users_config, expected_rows_by_id, load_jsonl  # noqa: E402


def _binary(env_name, default):
    path = Path(os.environ.get(env_name) or REPO / default)
    if not path.is_absolute():
        path = REPO / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"sluice binary {path} not found or not executable (build it, or set {env_name})",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def sluice_bin():
    return _binary("SLUICE_BIN", "build/sluice")


@pytest.fixture(scope="session")
def sluice_asan_bin():
    return _binary("SLUICE_ASAN_BIN", "build/sluice-asan")


@pytest.fixture
def workdir(tmp_path):
    """A fresh directory used as sluice's cwd."""
    return tmp_path


@pytest.fixture
def sluice(sluice_bin, workdir):
    """Runs build/sluice in workdir: sluice.run(*args, timeout=..., input=..., env=...)."""
    return Sluice(sluice_bin, workdir)


@pytest.fixture
def sluice_asan(sluice_asan_bin, workdir):
    """Runs build/sluice-asan in workdir, with leak detection and UBSan halting on error."""
    return Sluice(sluice_asan_bin, workdir, env={
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    })


@pytest.fixture(scope="session")
def expected_users(sluice_bin, tmp_path_factory):
    """{id: expected created_users row} for users.yaml's generator (seed 42, 100,000 users),
    derived in Python from the generator's JSON written by a plain file sink."""
    work = tmp_path_factory.mktemp("expected_users")
    (work / "dump.yaml").write_text(dump_users_config("users.jsonl"))
    result = Sluice(sluice_bin, work).run("run", "dump.yaml", "--quiet", timeout=120)
    assert result.returncode == 0, result.describe()
    users = load_jsonl(work / "users.jsonl")
    assert len(users) == 100000, f"generator -> file wrote {len(users)} users, expected 100000"
    return {"users": users, "rows": expected_rows_by_id(users)}
