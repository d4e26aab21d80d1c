"""The CI workflow (.github/workflows/matrix.yml) against GitHub's workflow schema, as check-jsonschema vendors it.

The workflow cannot run here (tests/test_merge.py checks its commands and options against the CLI); this checks its
shape: keys GitHub knows, required ones present, values of the right types. check-jsonschema's
``--builtin-schema vendor.github-workflows`` is a copy of SchemaStore's schema inside the package, with no ``$ref``
outside itself, so nothing is downloaded (``--no-cache`` is only about downloading remote schemas: not used). Each
check runs in a subprocess whose sockets refuse to connect, so a check that tried the network would fail here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("check_jsonschema")  # noxfile.py's tests session installs it

WORKFLOW = Path(__file__).parent.parent / ".github" / "workflows" / "matrix.yml"
SCHEMA = "vendor.github-workflows"
REFUSED = "interpmatrix tests: no network for check-jsonschema"
# check-jsonschema's `python -m check_jsonschema`, with every way out to the network refused.
OFFLINE = f"""
import runpy, socket, sys

def refuse(*args, **kwargs):
    raise OSError({REFUSED!r})

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
sys.argv[0] = "check-jsonschema"
runpy.run_module("check_jsonschema", run_name="__main__", alter_sys=True)
"""


def check_jsonschema(*args: str) -> tuple[int, dict, str]:
    """Exit status, JSON report and stderr of check-jsonschema run offline on ``args``."""
    done = subprocess.run([sys.executable, "-c", OFFLINE, "--output-format", "json", *args],
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


def test_workflow_is_valid_under_the_vendored_github_workflow_schema() -> None:
    status, report, stderr = check_jsonschema("--builtin-schema", SCHEMA, str(WORKFLOW))
    assert (status, report) == (0, {"status": "ok", "errors": []}), stderr or report


@pytest.mark.parametrize(("line", "mistake", "message"), [
    ("    runs-on: ubuntu-24.04\n", "    run-on: ubuntu-24.04\n", "'runs-on' is a required property"),
    ("    timeout-minutes: 20\n", "    timeout-minute: 20\n",
     "Additional properties are not allowed ('timeout-minute' was unexpected)"),
])
def test_a_schema_error_in_the_workflow_fails_the_check(tmp_path: Path, line: str, mistake: str,
                                                         message: str) -> None:
    # A copy of the workflow with one mistake in its merge job: the check must name it (so it does check something).
    text = WORKFLOW.read_text(encoding="utf-8")
    assert text.count(line) == 1, f"{WORKFLOW.name} no longer has exactly one {line.strip()!r}"
    broken = tmp_path / "matrix.yml"
    broken.write_text(text.replace(line, mistake), encoding="utf-8")
    status, report, stderr = check_jsonschema("--builtin-schema", SCHEMA, str(broken))
    assert status == 1 and report.get("status") == "fail", stderr or report
    assert report["parse_errors"] == []
    [error] = report["errors"]
    assert (error["filename"], error["path"]) == (str(broken), "$.jobs.merge")
    assert error["best_deep_match"] == {"path": "$.jobs.merge", "message": message}


def test_the_checks_have_no_network(tmp_path: Path) -> None:
    # The same guard around a schema that has to be downloaded: refused, so the checks above ran offline.
    remote = "https://json.schemastore.org/github-workflow.json"
    status, _, stderr = check_jsonschema("--no-cache", "--schemafile", remote, str(WORKFLOW))
    assert status == 1 and REFUSED in stderr, stderr
