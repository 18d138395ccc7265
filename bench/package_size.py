"""Package size: what each function deploys, unzipped (its code plus every layer it uses), after `sam build`.

    python -m bench.package_size [--no-build] [--sam PATH]

Lambda unpacks a function and its layers side by side (hard limit 250 MB unzipped); the target here is
150 MB per function, to leave room to grow. Sizes are MB of 2**20 bytes, summed over regular files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script (python bench/package_size.py): make sgd_local importable
    sys.path.insert(0, str(ROOT))

from bench.cold_start import pyenv_pythons312  # noqa: E402

BUILD_DIR = ROOT / ".aws-sam" / "build"
TARGET_MB = 150.0
MB = 1024 * 1024
LARGEST_PACKAGES = 10


class BuildFailed(RuntimeError):
    """`sam build` exited non-zero."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def find_sam(explicit: str | None = None) -> str:
    """--sam, else $SAM, else the project's tools venv (`make tools`), else `sam` on PATH."""
    candidates = [explicit, os.environ.get("SAM"), str(ROOT / ".venv-tools" / "bin" / "sam"), shutil.which("sam")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("SAM CLI not found: run `make tools`, pass --sam PATH or set SAM")


def python312_bin_dir() -> str | None:
    """A real (non-venv) python3.12 for SAM's python3.12 builder, which looks for `python3.12` on PATH."""
    found = pyenv_pythons312()
    if found:
        return str(Path(found[0]).parent)
    on_path = shutil.which("python3.12")
    return str(Path(on_path).parent) if on_path else None


def sam_build(sam: str) -> float:
    """Runs `sam build` (samconfig.toml's options) in the repository; returns its duration in seconds."""
    environment = os.environ | {"SAM_CLI_TELEMETRY": "0"}
    python_dir = python312_bin_dir()
    if python_dir:
        environment["PATH"] = f"{python_dir}{os.pathsep}{environment.get('PATH', '')}"
    log(f"sam build ({sam})...")
    started = time.perf_counter()
    completed = subprocess.run([sam, "build"], cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise BuildFailed("sam build failed:\n" + "\n".join(output[-25:]))
    return time.perf_counter() - started


def directory_bytes(path: Path) -> int:
    """Sum of file sizes under path, as Lambda counts the unzipped package (symlinks are not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(os.lstat(os.path.join(folder, name)).st_size for name in files)
    return total


def entry_bytes(path: Path) -> int:
    return directory_bytes(path) if path.is_dir() and not path.is_symlink() else os.lstat(path).st_size


def package_sizes(layer_dir: Path) -> dict[str, int]:
    """Bytes per top-level entry under python/ (where Lambda looks for a layer's packages), largest first."""
    packages_dir = layer_dir / "python" if (layer_dir / "python").is_dir() else layer_dir
    sizes = {entry.name: entry_bytes(entry) for entry in packages_dir.iterdir()}
    return dict(sorted(sizes.items(), key=lambda item: item[1], reverse=True))


def duplicated_packages(layers: dict[str, dict[str, int]]) -> dict[str, float]:
    """Packages shipped by more than one of a function's layers: MB of the copies beyond the first.

    Only the copy in the first layer on sys.path is ever imported; the others are dead weight.
    """
    copies: dict[str, list[int]] = {}
    for sizes in layers.values():
        for name, size in sizes.items():
            copies.setdefault(name, []).append(size)
    wasted = {name: (sum(sizes) - max(sizes)) / MB for name, sizes in copies.items() if len(sizes) > 1}
    return {name: round(mb, 2) for name, mb in sorted(wasted.items(), key=lambda item: -item[1]) if mb >= 0.01}


def measure(build: bool = True, sam: str | None = None, build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    from sgd_local.template import load_template

    build_seconds = None
    if build:
        build_seconds = sam_build(find_sam(sam))
    elif not (build_dir / "template.yaml").exists():
        raise BuildFailed(f"--no-build, but there is no {build_dir.relative_to(ROOT)}/template.yaml: run sam build")

    resources: dict[str, Any] = load_template(build_dir / "template.yaml")["Resources"]
    layer_packages = {
        logical_id: package_sizes(build_dir / logical_id)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    }
    layer_bytes = {logical_id: directory_bytes(build_dir / logical_id) for logical_id in layer_packages}
    layers = [
        {
            "layer": logical_id,
            "mb": round(layer_bytes[logical_id] / MB, 2),
            "largest_packages": [
                {"name": name, "mb": round(size / MB, 2)} for name, size in list(packages.items())[:LARGEST_PACKAGES]
            ],
        }
        for logical_id, packages in layer_packages.items()
    ]

    functions = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        code_bytes = directory_bytes(build_dir / properties["CodeUri"])
        used_layers, external = [], []
        for layer in properties.get("Layers") or []:
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            if layer_id in layer_bytes:
                used_layers.append(layer_id)
            else:
                external.append(str(layer))  # an ARN outside this template: its size is unknown here
        total_bytes = code_bytes + sum(layer_bytes[layer_id] for layer_id in used_layers)
        functions.append(
            {
                "function": logical_id,
                "code_mb": round(code_bytes / MB, 2),
                "layers": {layer_id: round(layer_bytes[layer_id] / MB, 2) for layer_id in used_layers},
                "external_layers": external,
                "total_mb": round(total_bytes / MB, 2),
                "duplicated_mb": duplicated_packages({layer_id: layer_packages[layer_id] for layer_id in used_layers}),
                "verdict": "PASS" if total_bytes / MB <= TARGET_MB else "FAIL",
            }
        )

    return {
        "target_mb": TARGET_MB,
        "build_dir": str(build_dir.relative_to(ROOT)),
        "built_now": build,
        "build_seconds": round(build_seconds, 1) if build_seconds is not None else None,
        "functions": functions,
        "layers": layers,
        "verdict": "PASS" if functions and all(f["verdict"] == "PASS" for f in functions) else "FAIL",
    }


def print_report(result: dict[str, Any]) -> None:
    print(f"\nUnzipped package size per function (code + layers), MB, target <= {result['target_mb']:.0f} MB")
    rows = [
        (entry, " + ".join(f"{name} {size:.1f}" for name, size in entry["layers"].items()) or "-")
        for entry in result["functions"]
    ]
    width = max(len("layers"), *(len(layers) for _, layers in rows))
    print(f"{'function':<20} {'code':>6}  {'layers':<{width}} {'total':>7}  verdict")
    for entry, layers in rows:
        print(
            f"{entry['function']:<20} {entry['code_mb']:>6.2f}  {layers:<{width}} {entry['total_mb']:>7.1f}  "
            f"{entry['verdict']}"
        )
        if entry["duplicated_mb"]:
            biggest = list(entry["duplicated_mb"].items())[:6]
            duplicates = ", ".join(f"{name} {mb:.1f}" for name, mb in biggest) + ", ..."
            print(
                f"{'':<20} in more than one of its layers ({sum(entry['duplicated_mb'].values()):.1f} MB "
                f"of extra copies): {duplicates}"
            )
        if entry["external_layers"]:
            print(f"{'':<20} not counted (outside this template): {', '.join(entry['external_layers'])}")
    for layer in result["layers"]:
        print(f"\n{layer['layer']} ({layer['mb']:.1f} MB), largest packages:")
        for package in layer["largest_packages"]:
            print(f"  {package['mb']:>8.2f}  {package['name']}")
    print(f"\nOverall: {result['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.package_size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-build", action="store_true", help="measure the existing .aws-sam/build")
    parser.add_argument("--sam", help="SAM CLI to run (default: $SAM, .venv-tools/bin/sam, sam on PATH)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    try:
        result = measure(build=not args.no_build, sam=args.sam)
    except BuildFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if args.strict and result["verdict"] != "PASS" else 0


if __name__ == "__main__":
    raise SystemExit(main())
