"""The lower bounds of the requirements files sit above every advisory on the JOSE stack that
touches a library they install (the rule closing the advisories table the catalogue's
``cve-regression`` cases come from).

The catalogue shows that the API refuses each advisory's attack with the versions installed
here; the bounds keep a resolver (tox's ``lowest`` env, a user's ``pip install``) from choosing
an affected release.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[2]
#: Runtime, and what the tests install beside it (PyJWT, whose client a test compares with ours).
REQUIREMENTS = ("requirements.txt", "requirements-test.txt")

#: (advisory, library, affected versions) as published; an affected range ends with ``<X`` or
#: ``<=X``. The Authlib 2026-10 advisories name no version: their cases are in the catalogue.
ADVISORIES = (
    ("CVE-2022-39174", "authlib", "<1.1.0"),
    ("CVE-2022-39175", "authlib", "<1.1.0"),
    ("CVE-2024-37568", "authlib", "<1.3.1"),
    ("CVE-2024-37568", "joserfc", "<0.11.0"),
    ("CVE-2025-59420", "authlib", "<1.6.4"),
    ("CVE-2025-61920", "authlib", "<1.6.5"),
    ("CVE-2025-62706", "authlib", "<1.6.5"),
    ("CVE-2026-28802", "authlib", ">=1.6.5,<=1.6.6"),
    ("CVE-2026-27962", "authlib", "<1.6.9"),
    ("CVE-2026-28490", "authlib", "<1.6.9"),
    ("CVE-2026-96760", "authlib", "<=1.7.2"),
    ("CVE-2025-65015", "joserfc", ">=1.3.3,<=1.4.1"),
    ("GHSA-wphv-vfrh-23q5", "joserfc", "<1.6.6"),
    ("CVE-2026-49852", "joserfc", "<1.6.8"),
    ("joserfc-general-json-empty-signatures", "joserfc", "<1.7.4"),
    ("CVE-2022-29217", "pyjwt", "<2.4.0"),
    ("CVE-2026-48524", "pyjwt", ">=2.0,<2.13"),
    ("CVE-2026-32597", "pyjwt", "<=2.11"),
    ("CVE-2026-48526", "pyjwt", "<2.13"),
    ("CVE-2024-33663", "python-jose", "<=3.3.0"),
)


def lower_bounds(*files: str) -> dict[str, Version | None]:
    """Each requirement's lowest allowed version (its ``>=``), None when it has none."""
    bounds: dict[str, Version | None] = {}
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.partition("#")[0].strip()
            if not line or line.startswith("-"):
                continue
            requirement = Requirement(line)
            lows = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
            bounds[canonicalize_name(requirement.name)] = max(lows, default=None)
    return bounds


def above(bound: Version, affected: str) -> bool:
    """Whether every version from ``bound`` up lies above the ``affected`` range."""
    last = affected.split(",")[-1]
    if last.startswith("<="):
        return bound > Version(last[2:])
    assert last.startswith("<"), f"an affected range ends with <X or <=X: {affected}"
    return bound >= Version(last[1:])


def test_the_jose_libraries_the_api_uses_are_bounded_below() -> None:
    bounds = lower_bounds("requirements.txt")
    assert bounds.get("authlib") is not None
    assert bounds.get("joserfc") is not None


@pytest.mark.parametrize(("advisory", "library", "affected"), ADVISORIES)
def test_each_advisory_is_below_the_lowest_version_allowed(
    advisory: str, library: str, affected: str
) -> None:
    bounds = lower_bounds(*REQUIREMENTS)
    if library not in bounds:
        return  # not installed: python-jose, say
    bound = bounds[library]
    assert bound is not None, f"{library} has no lower bound, so {advisory} ({affected}) is allowed"
    assert above(bound, affected), f"{library}>={bound} allows {advisory} ({affected})"


@pytest.mark.parametrize(
    ("bound", "affected", "expected"),
    [
        ("1.8.0", "<=1.7.2", True),
        ("1.7.2", "<=1.7.2", False),
        ("1.7.4", "<1.7.4", True),
        ("1.7.3", "<1.7.4", False),
        ("1.4.2", ">=1.3.3,<=1.4.1", True),
    ],
)
def test_above_reads_the_end_of_a_range(bound: str, affected: str, expected: bool) -> None:
    assert above(Version(bound), affected) is expected
