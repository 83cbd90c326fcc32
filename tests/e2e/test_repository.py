"""test_repository.py — the repository stands on its own and is whole: no
tracked file refers outside it (a sibling folder, a design document that
is not published with it), and none holds a merge's conflict markers."""
import re
import subprocess

from e2e_util import REPO

# Spelled in pieces, so this file does not match itself.
OUTSIDE = re.compile(r"\.\./" + "shared" + "|" + "DESIGN" + " §|" + "DESIGN" + r"\.md")
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)


def tracked_text_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        path = REPO / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue   # binary
        yield name, data.decode("utf-8", errors="replace")


def test_no_file_refers_outside_the_repository():
    found = [f"{name}:{text[:m.start()].count(chr(10)) + 1}" for name, text in tracked_text_files()
             for m in OUTSIDE.finditer(text)]
    assert not found, found


def test_no_file_holds_conflict_markers():
    found = [f"{name}:{text[:m.start()].count(chr(10)) + 1}" for name, text in tracked_text_files()
             for m in MARKER.finditer(text)]
    assert not found, found
