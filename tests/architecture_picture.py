"""The package picture of docs/architecture.md, made from the code: which of gasguard's
packages imports which (grimp, the import graph import-linter checks). ``python -m
tests.architecture_picture`` rewrites the picture between its markers in the document;
tests/test_architecture.py fails when the document is behind the code. (A development
tool, next to the tests: grimp comes with the test extras.)"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

PACKAGES = (
    "gasguard",
    "api",
    "ingest",
    "simulators",
    "notifier",
    "meters",
    "transport",
    "telemetry",
    "safety",
    "connections",
    "devices",
    "notify",
    "contract",
)
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
BEGIN, END = (
    "<!-- packages: begin (python -m tests.architecture_picture) -->",
    "<!-- packages: end -->",
)


def arrows() -> list[tuple[str, str]]:
    """(importer, imported) for every pair of packages with a direct import between them."""
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    return [
        (a, b)
        for a in PACKAGES
        for b in PACKAGES
        if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True)
    ]


def picture() -> str:
    """A Mermaid diagram: an arrow from a package to each package it imports."""
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {a} --> {b}" for a, b in arrows()]
    lines.append("```")
    return "\n".join(lines)


def with_picture(document: str) -> str:
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{picture()}\n{END}{tail}"


if __name__ == "__main__":
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC} has no {BEGIN} ... {END} markers")
    DOC.write_text(with_picture(text))
    print(f"updated the package picture in {DOC}")
