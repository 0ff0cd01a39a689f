"""The dependencies: pyproject.toml is the human-edited list, requirements.lock what gets installed
(scripts/bootstrap.sh). The lock must agree with the list, pin everything with hashes and name no
index; and every third-party module the code or the tests import must be declared, not arrive by
chance with another package."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
OURS = {"compliance_hub", "consent", "ingestion", "archive", "policies", "alerts", "tests", "bench"}
SOURCES = [
    "compliance_hub",
    "consent",
    "ingestion",
    "archive",
    "policies",
    "tests",
    "bench",
    "manage.py",
]
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(\[[^\]]*\])?==(?P<version>[^\s;]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in project["dependencies"] + project["optional-dependencies"]["dev"]:
        match = REQUIREMENT.match(line)
        assert match, f"pyproject.toml: {line!r} is not pinned with =="
        pins[_normal(match["name"])] = match["version"]
    return pins


def _locked() -> dict[str, str]:
    return {
        _normal(match["name"]): match["version"]
        for line in LOCK.read_text().splitlines()
        if (match := REQUIREMENT.match(line))
    }


def test_the_lock_pins_every_declared_dependency_at_its_declared_version():
    locked = _locked()
    stale = {
        name: (version, locked.get(name))
        for name, version in _declared().items()
        if locked.get(name) != version
    }
    assert not stale, f"run make lock: pyproject.toml and requirements.lock disagree on {stale}"


def test_every_locked_package_has_a_hash_and_no_line_names_an_index():
    entries = re.split(r"\n(?=[A-Za-z])", LOCK.read_text().split("\n#\n", 1)[-1])
    packages = [entry for entry in entries if REQUIREMENT.match(entry)]
    assert len(packages) == len(_locked()) > 50
    assert all("--hash=sha256:" in entry for entry in packages)
    options = [line for line in LOCK.read_text().splitlines() if line.startswith("-")]
    assert options == [], "the lock names versions and hashes only, no index or find-links"
    assert "://" not in LOCK.read_text()


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the files that import it, for every module outside the stdlib."""
    found: dict[str, set[str]] = {}
    files = [
        p
        for s in SOURCES
        for p in ((ROOT / s).rglob("*.py") if (ROOT / s).is_dir() else [ROOT / s])
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OURS:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_third_party_module_is_declared():
    declared = set(_declared())
    providers = packages_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in _third_party_imports().items()
        if not {_normal(dist) for dist in providers.get(module, [])} & declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


PRODUCTION_LOCK = ROOT / "requirements-production.lock"


def _pinned_entries(path: Path) -> dict[str, str]:
    """Package name -> its whole entry (the pin and every hash line), comments and blank lines
    dropped (the last entry before pip-compile's "unsafe packages" note ends in a blank line)."""
    entries = re.split(r"\n(?=[A-Za-z])", path.read_text().split("\n#\n", 1)[-1])
    return {
        _normal(match["name"]): "\n".join(
            line for line in entry.splitlines() if line.strip() and not line.strip().startswith("#")
        )
        for entry in entries
        if (match := REQUIREMENT.match(entry))
    }


def test_the_image_installs_the_runtime_lock_at_the_versions_and_hashes_ci_tested():
    production, full = _pinned_entries(PRODUCTION_LOCK), _pinned_entries(LOCK)
    runtime = {
        _normal(REQUIREMENT.match(line)["name"])
        for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    assert runtime <= production.keys(), f"run make lock: {runtime - production.keys()} missing"
    differ = sorted(name for name, entry in production.items() if full.get(name) != entry)
    assert not differ, f"run make lock: the production lock disagrees with the full one on {differ}"
    dev_only = {"pytest", "playwright", "schemathesis", "mypy", "ruff"}
    assert not dev_only & production.keys(), "test tools do not belong in the image"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements-production.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile


def test_every_data_file_of_the_packages_travels_with_an_installed_copy():
    """A lexicon or link list added beside the code but not to package-data would be missing from
    a wheel: the detectors would then scan with less than the source tree does."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    missing = []
    for package in OURS - {"tests", "bench"}:
        folder = ROOT / package
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"}:
                continue
            relative = path.relative_to(folder)
            if "__pycache__" in relative.parts or relative.parts[0] in {"static", "templates"}:
                continue
            if not any(relative.match(pattern) for pattern in globs.get(package, [])):
                missing.append(f"{package}/{relative}")
    assert missing == [], f"add to [tool.setuptools.package-data]: {missing}"
