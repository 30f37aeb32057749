"""The dependency audit's verdict on pip-audit's JSON report: a vulnerable pin fails, an audit that checked
nothing says so (and fails when strict), a clean audit passes. pip-audit's own call needs PyPI's JSON API, which
`make audit` runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "dependency_audit.py"
spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
assert spec and spec.loader
dependency_audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dependency_audit)


def test_a_pinned_version_with_a_known_vulnerability_fails_the_audit():
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": [], "description": ""}],
            },
        ],
        "fixes": [],
    }

    lines, code = dependency_audit.verdict(report)

    assert code == 1
    assert "VULNÉRABLE jinja2 3.1.2 : GHSA-h5c8-rqwp-cp95 (corrigée : 3.1.3)" in lines


def test_an_audit_that_checked_nothing_says_so_and_fails_when_strict():
    report = {
        "dependencies": [
            {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.9)"},
            {"name": "nh3", "skip_reason": "Dependency not found on PyPI and could not be audited: nh3 (0.3.8)"},
        ],
        "fixes": [],
    }

    lines, code = dependency_audit.verdict(report)
    _, strict_code = dependency_audit.verdict(report, strict=True)

    assert code == 0
    assert strict_code == 2
    assert "pip-audit : 0 paquets vérifiés, 0 vulnérables, 2 non vérifiés" in lines
    assert any("AUCUN paquet n'a pu être vérifié" in line for line in lines)


def test_a_clean_audit_passes_and_names_what_it_skipped():
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "feedback", "skip_reason": "Dependency not found on PyPI: feedback (0.1)"},
        ],
        "fixes": [],
    }

    lines, code = dependency_audit.verdict(report, strict=True)

    assert code == 0
    assert lines[0] == "pip-audit : 1 paquets vérifiés, 0 vulnérables, 1 non vérifiés"
    assert "feedback" in lines[1]
