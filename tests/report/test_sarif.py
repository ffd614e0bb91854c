"""SARIF writer: schema validity, the §12 conventions, and stable identities.

The checks here are built locally and never registered, so the global catalogue is untouched.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ringwall.model.findings import Check, Finding, Severity
from ringwall.model.location import Location
from ringwall.report.sarif import (
    FINGERPRINT_KEY,
    SARIF_SCHEMA_URI,
    artifact_uri,
    dumps_sarif,
    to_sarif,
)

Validator = jsonschema.Draft4Validator
HELP = "https://example.org/ringwall/checks"


def _check(id_: str, severity: Severity, layer: str = "netpol", **kw: Any) -> Check:
    return Check(
        id=id_,
        name=kw.pop("name", "Test" + id_.rsplit("-", 1)[-1]),
        severity=severity,
        layer=layer,
        summary=kw.pop("summary", f"Summary of {id_}"),
        remediation=kw.pop("remediation", f"Fix {id_}."),
        **kw,
    )


CRIT = _check("RW-TEST-001", Severity.CRITICAL, help_uri=f"{HELP}#001", tags=("netpol", "exposure"))
HIGH = _check("RW-TEST-002", Severity.HIGH)
MED = _check("RW-TEST-003", Severity.MEDIUM, layer="dns")
LOW = _check("RW-TEST-004", Severity.LOW)
INFO = _check("RW-TEST-005", Severity.INFO)
UNUSED = _check("RW-TEST-006", Severity.MEDIUM)
CATALOGUE = [UNUSED, INFO, LOW, MED, HIGH, CRIT]  # deliberately unsorted


def _finding(check: Check, *locs: Location, subject: str = "NetworkPolicy/shop/x", **kw: Any) -> Finding:
    return Finding(check=check, message=kw.pop("message", f"{check.name} on {subject}."),
                   locations=locs, subject=subject, **kw)


def _sample(base: Path) -> list[Finding]:
    return [
        _finding(LOW, Location("deploy/np.yaml", 3, 1, "NetworkPolicy/shop/low")),
        _finding(
            CRIT,
            Location(str(base / "deploy" / "web.yaml"), 12, 5, "Deployment/shop/web", end_line=20),
            Location(str(base / "deploy" / "np.yaml"), 4, None, "NetworkPolicy/shop/allow-all"),
            subject="Deployment/shop/web",
            detail="internet -> shop/web tcp/8080",
            properties={"flow": "internet -> shop/web tcp/8080"},
        ),
        _finding(MED, Location("-", 2, 1), subject="NetworkPolicy/default/from-stdin"),
        _finding(HIGH, Location("cluster/prod/shop/NetworkPolicy/x.yaml"), subject="NetworkPolicy/shop/x"),
        _finding(INFO, subject="Namespace/shop"),
        _finding(MED, Location("deploy/np.yaml", 9), severity=Severity.HIGH, subject="NetworkPolicy/shop/up"),
    ]


@pytest.fixture
def validator(shared_dir: Path) -> jsonschema.Draft4Validator:
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


def _errors(validator: Validator, log: dict[str, Any]) -> list[str]:
    errs = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errs]


def _log(tmp_path: Path, findings: list[Finding] | None = None) -> dict[str, Any]:
    return to_sarif(
        _sample(tmp_path) if findings is None else findings,
        checks=CATALOGUE, tool_version="0.1.0", base_dir=tmp_path,
    )


def _by_rule(log: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in log["runs"][0]["results"]:
        out.setdefault(r["ruleId"], []).append(r)
    return out


# --- schema ---------------------------------------------------------------------------------


def test_output_validates_against_sarif_schema(tmp_path: Path, validator: Validator) -> None:
    log = json.loads(dumps_sarif(_log(tmp_path)))
    assert _errors(validator, log) == []


def test_empty_run_validates(tmp_path: Path, validator: Validator) -> None:
    log = to_sarif([], checks=CATALOGUE, tool_version="0.1.0")
    assert _errors(validator, log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(CATALOGUE)


def test_result_without_message_fails_validation(tmp_path: Path, validator: Validator) -> None:
    log = copy.deepcopy(_log(tmp_path))
    del log["runs"][0]["results"][0]["message"]
    assert any("message" in e for e in _errors(validator, log))


def test_wrong_version_fails_validation(tmp_path: Path, validator: Validator) -> None:
    log = copy.deepcopy(_log(tmp_path))
    log["version"] = "2.2.0"
    assert _errors(validator, log)


# --- log, run, driver -------------------------------------------------------------------------


def test_log_and_run_header(tmp_path: Path) -> None:
    log = to_sarif(_sample(tmp_path), checks=CATALOGUE, tool_version="0.1.0", base_dir=tmp_path,
                   automation_id="ringwall/manifests/")
    assert log["$schema"] == SARIF_SCHEMA_URI
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["automationDetails"] == {"id": "ringwall/manifests/"}
    driver = run["tool"]["driver"]
    assert driver["name"] == "ringwall"
    assert driver["version"] == driver["semanticVersion"] == "0.1.0"


def test_non_semver_version_is_not_a_semantic_version() -> None:
    driver = to_sarif([], checks=[], tool_version="0.1.dev3+gabc")["runs"][0]["tool"]["driver"]
    assert driver["version"] == "0.1.dev3+gabc"
    assert "semanticVersion" not in driver


# --- rules --------------------------------------------------------------------------------------


def test_rules_are_the_whole_catalogue_sorted_and_indexed(tmp_path: Path) -> None:
    log = _log(tmp_path)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(c.id for c in CATALOGUE)
    assert "RW-TEST-006" in {r["id"] for r in rules}  # registered but silent: still described
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_check_that_fired_but_is_not_in_catalogue_is_added(tmp_path: Path) -> None:
    stray = _check("RW-TEST-000", Severity.LOW)
    log = to_sarif([_finding(stray, Location("a.yaml", 1))], checks=[HIGH], tool_version="0.1.0")
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["RW-TEST-000", "RW-TEST-002"]
    assert log["runs"][0]["results"][0]["ruleIndex"] == 0


@pytest.mark.parametrize(
    ("check", "level", "score"),
    [(CRIT, "error", "9.5"), (HIGH, "error", "8.0"), (MED, "warning", "5.5"), (LOW, "note", "2.0"),
     (INFO, "note", None)],
)
def test_rule_level_and_security_severity(
    tmp_path: Path, check: Check, level: str, score: str | None
) -> None:
    rules = {r["id"]: r for r in _log(tmp_path)["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules[check.id]
    assert rule["defaultConfiguration"] == {"level": level}
    if score is None:
        assert "security-severity" not in rule["properties"]
    else:
        assert rule["properties"]["security-severity"] == score
        assert isinstance(rule["properties"]["security-severity"], str)


def test_rule_metadata(tmp_path: Path) -> None:
    rules = {r["id"]: r for r in _log(tmp_path)["runs"][0]["tool"]["driver"]["rules"]}
    crit = rules["RW-TEST-001"]
    assert crit["name"] == "Test001"
    assert crit["shortDescription"] == {"text": "Summary of RW-TEST-001"}
    assert crit["fullDescription"]["text"]
    assert crit["helpUri"] == f"{HELP}#001"
    assert "Fix RW-TEST-001." in crit["help"]["text"]
    assert "**Remediation:** Fix RW-TEST-001." in crit["help"]["markdown"]
    assert f"({HELP}#001)" in crit["help"]["markdown"]
    assert crit["properties"]["tags"] == ["security", "netpol", "exposure"]  # deduplicated
    assert rules["RW-TEST-003"]["properties"]["tags"] == ["security", "dns"]
    assert "helpUri" not in rules["RW-TEST-002"]  # GitHub rejects empty strings


# --- results ------------------------------------------------------------------------------------


def test_result_levels_follow_effective_severity(tmp_path: Path) -> None:
    results = _by_rule(_log(tmp_path))
    assert [r["level"] for r in results["RW-TEST-001"]] == ["error"]
    assert [r["level"] for r in results["RW-TEST-002"]] == ["error"]
    assert [r["level"] for r in results["RW-TEST-004"]] == ["note"]
    assert [r["level"] for r in results["RW-TEST-005"]] == ["note"]
    # RW-TEST-003 is medium, but one finding was raised to high with evidence
    assert sorted(r["level"] for r in results["RW-TEST-003"]) == ["error", "warning"]


def test_results_sorted_most_severe_first_regardless_of_input_order(tmp_path: Path) -> None:
    forward = _log(tmp_path)
    backward = _log(tmp_path, list(reversed(_sample(tmp_path))))
    assert dumps_sarif(forward) == dumps_sarif(backward)
    ids = [r["ruleId"] for r in forward["runs"][0]["results"]]
    assert ids == ["RW-TEST-001", "RW-TEST-002", "RW-TEST-003", "RW-TEST-003", "RW-TEST-004", "RW-TEST-005"]


def test_uris_are_relative_posix_under_base_dir(tmp_path: Path) -> None:
    crit = _by_rule(_log(tmp_path))["RW-TEST-001"][0]
    phys = crit["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "deploy/web.yaml"
    assert phys["region"] == {"startLine": 12, "startColumn": 5, "endLine": 20}
    (rel,) = crit["relatedLocations"]
    assert rel["id"] == 1
    assert rel["physicalLocation"]["artifactLocation"]["uri"] == "deploy/np.yaml"
    assert rel["physicalLocation"]["region"] == {"startLine": 4}
    assert rel["logicalLocations"] == [
        {"fullyQualifiedName": "NetworkPolicy/shop/allow-all", "kind": "object"}
    ]


def test_artifact_uri_forms(tmp_path: Path) -> None:
    assert artifact_uri("-", tmp_path) == "stdin"
    assert artifact_uri("deploy/a b.yaml") == "deploy/a%20b.yaml"
    assert artifact_uri(str(tmp_path / "x" / "y.yaml"), tmp_path) == "x/y.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    assert artifact_uri(str(outside), tmp_path) == outside.as_uri()
    assert artifact_uri("cluster:prod", tmp_path) == "cluster:prod"
    assert artifact_uri("deploy\\win.yaml") == "deploy/win.yaml"


def test_relative_input_path_is_read_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "repo" / "k8s").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    assert artifact_uri("k8s/a.yaml", tmp_path) == "repo/k8s/a.yaml"
    assert artifact_uri("k8s/a.yaml", tmp_path / "repo") == "k8s/a.yaml"


def test_stdin_and_lineless_locations(tmp_path: Path) -> None:
    results = _by_rule(_log(tmp_path))
    stdin = next(r for r in results["RW-TEST-003"] if r["level"] == "warning")
    assert stdin["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stdin"
    lineless = results["RW-TEST-002"][0]["locations"][0]
    assert "region" not in lineless["physicalLocation"]
    # the object identity still says *what*, from the finding's subject
    assert lineless["logicalLocations"] == [{"fullyQualifiedName": "NetworkPolicy/shop/x", "kind": "object"}]
    nowhere = results["RW-TEST-005"][0]
    assert nowhere["locations"] == [{"logicalLocations": [{"fullyQualifiedName": "Namespace/shop",
                                                            "kind": "object"}]}]


def test_result_properties(tmp_path: Path) -> None:
    crit = _by_rule(_log(tmp_path))["RW-TEST-001"][0]
    assert crit["properties"] == {"layer": "netpol", "severity": "critical",
                                  "flow": "internet -> shop/web tcp/8080"}
    assert crit["message"]["text"] == "Test001 on Deployment/shop/web."


# --- fingerprints -----------------------------------------------------------------------------


def _key(result: dict[str, Any]) -> str:
    return result["partialFingerprints"][FINGERPRINT_KEY]


def test_fingerprint_survives_line_shifts(tmp_path: Path) -> None:
    before = _finding(MED, Location("deploy/np.yaml", 10, 3), subject="NetworkPolicy/shop/a", detail="d")
    after = _finding(MED, Location("deploy/np.yaml", 42, 7, end_line=50), subject="NetworkPolicy/shop/a",
                     detail="d", message="Reworded message.")
    (r1,) = to_sarif([before], checks=[], tool_version="0.1.0")["runs"][0]["results"]
    (r2,) = to_sarif([after], checks=[], tool_version="0.1.0")["runs"][0]["results"]
    assert _key(r1) == _key(r2) == before.fingerprint
    assert len(_key(r1)) == 64
    assert "primaryLocationLineHash" not in r1["partialFingerprints"]  # the upload action computes it


def test_fingerprint_distinguishes_detail_subject_file_and_rule() -> None:
    base = _finding(MED, Location("a.yaml", 1), subject="NetworkPolicy/shop/a", detail="flow-1")
    variants = [
        base,
        _finding(MED, Location("a.yaml", 1), subject="NetworkPolicy/shop/a", detail="flow-2"),
        _finding(MED, Location("a.yaml", 1), subject="NetworkPolicy/shop/b", detail="flow-1"),
        _finding(MED, Location("b.yaml", 1), subject="NetworkPolicy/shop/a", detail="flow-1"),
        _finding(LOW, Location("a.yaml", 1), subject="NetworkPolicy/shop/a", detail="flow-1"),
    ]
    results = to_sarif(variants, checks=[], tool_version="0.1.0")["runs"][0]["results"]
    assert len({_key(r) for r in results}) == len(variants)


def test_fingerprint_independent_of_checkout_directory(tmp_path: Path) -> None:
    """The same repository scanned from two directories yields the same keys."""
    keys = []
    for checkout in (tmp_path / "ci-run-1", tmp_path / "ci-run-2"):
        f = _finding(MED, Location(str(checkout / "np.yaml"), 3), subject="NetworkPolicy/shop/a")
        (r,) = to_sarif([f], checks=[], tool_version="0.1.0", base_dir=checkout)["runs"][0]["results"]
        keys.append(_key(r))
    relative = _finding(MED, Location("np.yaml", 3), subject="NetworkPolicy/shop/a")
    assert keys[0] == keys[1] == relative.fingerprint


# --- serialisation ------------------------------------------------------------------------------


def test_dumps_is_stable_sorted_indented(tmp_path: Path) -> None:
    text = dumps_sarif(_log(tmp_path))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == dumps_sarif(_log(tmp_path))
    assert text.splitlines()[1] == '  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",'
    reparsed = json.loads(text)
    assert json.dumps(reparsed, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_dumps_handles_odd_property_types(tmp_path: Path) -> None:
    f = _finding(LOW, Location("a.yaml", 1), properties={"ports": {443, 80}, "file": Path("x/y")})
    props = json.loads(dumps_sarif(to_sarif([f], checks=[], tool_version="0.1.0")))["runs"][0]["results"][0][
        "properties"
    ]
    assert props["ports"] == [443, 80]  # sorted by text: deterministic for mixed types
    assert props["file"] == "x/y"
