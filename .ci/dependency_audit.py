"""The dependencies pinned in constraints.txt checked against the known vulnerabilities, by pip-audit.

Exit 1 when a pinned version has a known vulnerability. pip-audit asks PyPI's JSON API about each pinned
version; where that API does not answer for a version (a registry mirror without it, no network), pip-audit
skips the package and would still exit 0: this script counts those and says so in one line. When no package
at all could be audited the check did not happen: exit 0 with a warning, or 2 when FEEDBACK_AUDIT_STRICT=1
(set it where PyPI's JSON API or OSV is reachable, so that an unaudited run cannot pass unnoticed).
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = ROOT / ".venv" / "bin" / "pip-audit"


def main() -> int:
    command = [
        str(PIP_AUDIT),
        "--requirement",
        str(ROOT / "constraints.txt"),
        "--no-deps",  # every dependency is pinned there
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    # A fixed command: the project's own pip-audit on the project's own constraints.
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # nosec B603
    try:
        report = json.loads(finished.stdout)
    except json.JSONDecodeError:
        print(finished.stderr.strip(), file=sys.stderr)
        print("pip-audit: no report (see above)", file=sys.stderr)
        return 2
    lines, code = verdict(report, strict=os.environ.get("FEEDBACK_AUDIT_STRICT") == "1")
    print("\n".join(lines))
    return code


def verdict(report: dict, *, strict: bool = False) -> tuple[list[str], int]:
    """What to print about pip-audit's JSON report, and the exit code: 1 if a version is vulnerable, 2 if none
    could be audited and `strict`, else 0."""
    dependencies = report["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "aucune version corrigée"
            lines.append(f"VULNÉRABLE {dependency['name']} {dependency['version']} : {vuln['id']} (corrigée : {fixed})")
    audited = len(dependencies) - len(skipped)
    lines.append(f"pip-audit : {audited} paquets vérifiés, {len(vulnerable)} vulnérables, {len(skipped)} non vérifiés")
    if vulnerable:
        return lines, 1
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:10]) + (" …" if len(skipped) > 10 else "")
        lines.append(f"pip-audit : non vérifiés, faute de réponse du service des vulnérabilités : {names}")
    if audited == 0 and dependencies:
        lines.append("pip-audit : AUCUN paquet n'a pu être vérifié (API JSON de PyPI injoignable pour ces versions).")
        return lines, 2 if strict else 0
    return lines, 0


if __name__ == "__main__":
    sys.exit(main())
