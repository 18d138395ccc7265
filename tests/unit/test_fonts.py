import shutil
from pathlib import Path

import pytest
from sgd.design import fonts
from sgd.design.fonts import (
    BUILTIN_FAMILY,
    BUNDLED_FAMILIES,
    REASON_METRIC,
    REASON_NO_BUNDLE,
    covers,
    font_class,
    load_face,
    resolve_fonts,
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "layers" / "imaging" / "fonts"


def test_every_bundled_family_ships_with_its_files_and_licences() -> None:
    for files in BUNDLED_FAMILIES.values():
        for name in files.values():
            assert (BUNDLE / name).stat().st_size > 50_000, name
    for licence in ("LICENSE-Liberation.txt", "LICENSE-Liberation-GPL-2.txt", "LICENSE-DejaVu.txt", "LICENSES.md"):
        assert (BUNDLE / licence).read_text().strip(), licence


def test_the_layer_makefile_copies_the_fonts_to_opt_fonts() -> None:
    makefile = (ROOT / "layers" / "imaging" / "Makefile").read_text()
    assert '"$(ARTIFACTS_DIR)/fonts' in makefile
    assert "fonts/*.ttf" in makefile
    assert "fonts/LICENSE*" in makefile


def test_no_request_uses_the_fallback_family_without_a_substitution() -> None:
    choice = resolve_fonts([])
    assert choice.headline.family == "Liberation Sans"
    assert choice.body is choice.headline
    assert choice.substitutions == ()


def test_a_bundled_family_is_used_as_requested_whatever_its_spelling() -> None:
    choice = resolve_fonts(["liberation  SERIF", "DejaVu-Sans"])
    assert (choice.headline.family, choice.body.family) == ("Liberation Serif", "DejaVu Sans")
    assert choice.headline.source == "bundled"
    assert choice.substitutions == ()


def test_an_unavailable_family_is_substituted_by_class_and_recorded() -> None:
    choice = resolve_fonts(["Open Sans"])
    assert choice.headline.family == "Liberation Sans"
    assert choice.substitutions == (
        {"requested": "Open Sans", "used": "Liberation Sans",
         "reason": "not uploaded or bundled; closest bundled sans"},
    )


@pytest.mark.parametrize(("family", "kind"), [
    ("Noto Serif", "serif"), ("Georgia", "serif"), ("Merriweather", "serif"), ("Playfair Display", "serif"),
    ("EB Garamond", "serif"), ("Times", "serif"), ("Roboto Slab", "serif"), ("PT Serif", "serif"),
    ("Fira Code", "mono"), ("JetBrains Mono", "mono"), ("IBM Plex Mono", "mono"), ("Courier Prime", "mono"),
    ("Open Sans", "sans"), ("Inter", "sans"), ("Noto Sans", "sans"), ("PT Sans", "sans"), ("Sans Serif", "sans"),
    ("Montserrat", "sans"),
])
def test_font_class_reads_the_family_name(family: str, kind: str) -> None:
    assert font_class(family) == kind


def test_serif_and_mono_requests_get_the_matching_bundled_family() -> None:
    choice = resolve_fonts(["Playfair Display", "Source Code Pro"])
    assert (choice.headline.family, choice.body.family) == ("Liberation Serif", "Liberation Mono")
    assert [entry["used"] for entry in choice.substitutions] == ["Liberation Serif", "Liberation Mono"]


def test_metric_compatible_families_say_so() -> None:
    choice = resolve_fonts(["Arial", "Times New Roman"])
    assert choice.substitutions == (
        {"requested": "Arial", "used": "Liberation Sans", "reason": REASON_METRIC},
        {"requested": "Times New Roman", "used": "Liberation Serif", "reason": REASON_METRIC},
    )


def test_a_project_upload_wins_over_the_bundled_family_of_the_same_name() -> None:
    uploaded = (BUNDLE / "DejaVuSerif.ttf").read_bytes()
    choice = resolve_fonts(["Liberation Sans"], {"liberation sans": uploaded})
    assert choice.headline.source == "project"
    assert choice.substitutions == ()
    assert choice.headline.file("bold").data == uploaded  # one uploaded file serves both weights


def test_an_unreadable_upload_falls_back_and_is_recorded() -> None:
    choice = resolve_fonts(["Brand Serif"], {"Brand Serif": b"not a font at all"})
    assert choice.headline.family == "Liberation Serif"
    assert choice.substitutions[0]["reason"].startswith("the uploaded font file could not be read")


def test_sgd_fonts_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for files in BUNDLED_FAMILIES.values():
        for name in files.values():
            shutil.copy(BUNDLE / name, tmp_path / name)
    monkeypatch.setenv("SGD_FONTS_DIR", str(tmp_path))
    assert fonts.fonts_dir() == tmp_path
    assert resolve_fonts(["Inter"]).headline.file("regular").path == tmp_path / "LiberationSans-Regular.ttf"


def test_without_any_bundle_the_builtin_font_is_the_documented_fallback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGD_FONTS_DIR", str(tmp_path))
    monkeypatch.setattr(fonts, "LAYER_FONTS_DIR", tmp_path / "absent")
    monkeypatch.setattr(fonts, "REPO_FONTS_DIR", tmp_path / "absent")
    choice = resolve_fonts(["Inter"])
    assert choice.headline.family == BUILTIN_FAMILY
    assert choice.substitutions == ({"requested": "Inter", "used": BUILTIN_FAMILY, "reason": REASON_NO_BUNDLE},)
    assert load_face(choice.headline.file("bold"), 20).getlength("Hello") > 0


def test_faces_are_cached_per_file_and_size() -> None:
    font_file = resolve_fonts([]).headline.file("bold")
    assert load_face(font_file, 31) is load_face(font_file, 31)
    assert load_face(font_file, 31) is not load_face(font_file, 32)


def test_glyph_coverage_is_detected() -> None:
    liberation = resolve_fonts(["Liberation Sans"]).headline.file("regular")
    dejavu = resolve_fonts(["DejaVu Sans"]).headline.file("regular")
    assert covers(liberation, "Caf\u00e9 \u00fcber \u041f\u0440\u0438\u0432\u0435\u0442 \u20ac5")
    assert not covers(liberation, "\u05e9\u05dc\u05d5\u05dd")  # Hebrew
    assert covers(dejavu, "\u05e9\u05dc\u05d5\u05dd")
