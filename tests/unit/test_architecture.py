"""The structure the README promises, checked on the code itself (ast, nothing imported):

- the import graph of the product (layers/shared/sgd) and the local runtime (sgd_local) has no cycles, counting
  imports inside functions too (a deferred import still ties two modules together);
- no module outside sgd/adapters imports boto3 or botocore: storage details stay behind the adapters;
- sort-key prefixes and table expressions live in the repositories only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = {"sgd": ROOT / "layers" / "shared" / "sgd", "sgd_local": ROOT / "sgd_local"}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts[:-1])) if parts[-1] == "__init__" else ".".join((package, *parts))
            found[name] = path
    return found


def imported(module: str, path: Path, known: set[str]) -> Iterator[str]:
    """The known modules `module` imports, anywhere in its body (a package import counts as its __init__)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_module_graph_has_no_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_package_layers_only_point_down() -> None:
    """Within sgd: adapters and repositories never reach up into services, routes or the composition root."""
    lower = ("sgd.adapters", "sgd.repositories")
    upper = ("sgd.http", "sgd.composition", "sgd.render", "sgd.critique", "sgd.canon", "sgd.ingest",
             "sgd.model_gateway")
    for module, targets in import_graph().items():
        if module.startswith(lower):
            assert not [target for target in targets if target.startswith(upper)], module


def test_only_adapters_use_boto3() -> None:
    offenders = []
    for module, path in modules().items():
        if not module.startswith("sgd.") or module.startswith("sgd.adapters"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{module}: {name}" for name in names if name.split(".")[0] in ("boto3", "botocore")]
    assert offenders == []


def test_storage_schema_stays_in_the_repositories() -> None:
    """Sort-key prefixes and DynamoDB expression syntax appear only where the schema is owned."""
    schema_words = ("asset#", "evidence#", "upload#", "font#", "job#", "version#", "budget#", "usage#", "rate#",
                    "attribute_not_exists", "ConditionExpression", "UpdateExpression")
    owners = ("sgd.repositories", "sgd.adapters.tables", "sgd.adapters.idempotency")
    offenders = []
    for module, path in modules().items():
        if not module.startswith("sgd.") or module.startswith(owners):
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{module}: {word}" for word in schema_words if word in text]
    assert offenders == []
