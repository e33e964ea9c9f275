"""``docs/security.md`` is rendered from the catalogue: CI fails when the two drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.catalogue import REGENERATE, render_markdown

pytestmark = pytest.mark.security

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_docs_security_md_is_the_rendered_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), f"regenerate: {REGENERATE}"


def test_the_doc_says_how_to_regenerate_it() -> None:
    assert REGENERATE in render_markdown().split("| id |")[0]
