"""docs/architecture.md's package picture is the code's import graph, and every module
the document names exists."""

from __future__ import annotations

import importlib
import re

from tests.architecture_picture import DOC, PACKAGES, with_picture

PACKAGE_NAMES = "|".join(PACKAGES)


def test_the_package_picture_is_current() -> None:
    text = DOC.read_text()
    assert with_picture(text) == text, "run: python -m tests.architecture_picture"


def test_the_modules_the_document_names_exist() -> None:
    named = set(re.findall(rf"`((?:{PACKAGE_NAMES})(?:\.[a-z_]+)+)", DOC.read_text()))
    assert len(named) > 15
    for dotted in sorted(named):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # a module, then attributes down from it
            try:
                module = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            target: object = module
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
            break
        else:
            raise AssertionError(f"{dotted} does not exist")


ROOT = DOC.parents[1]
PATH = re.compile(
    rf"`((?:{PACKAGE_NAMES}|tests|bench|deploy)"
    r"/[\w/.-]+\.(?:py|md|toml|conf|sh|html|js|css))(?:::\w+)?`"
)


def test_every_file_the_documents_name_exists() -> None:
    """A renovation moves files: the documents must move with them."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = [
        f"{doc.name}: {path}"
        for doc in documents
        for path in PATH.findall(doc.read_text())
        if not (ROOT / path).exists()
    ]
    assert not missing, missing
