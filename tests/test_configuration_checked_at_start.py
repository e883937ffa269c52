"""Configuration mistakes fail the run in its first step, not minutes in (issue #15).

A model path that does not exist, a file that is not a GGUF, or an LLM mode that is neither on
nor off used to surface only at the insights step, after the scrape, staging and every metric
table had run in their own processes. The raw step now asks for the model resource, which
checks its configuration as the step starts (without loading the model), so the run stops at
`raw_jira_scrape` and nothing is fetched. Real `dagster asset materialize` processes, run by the
multiprocess executor as `make demo` runs them (in one process every resource is set up before
the first step anyway).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jira_insights_pipeline.sample.generator import EXPORTED_AT

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STEP_FAILED = 'Execution of step "raw_jira_scrape" failed'
SAMPLE_DAY = EXPORTED_AT.date().isoformat()


def _materialize_everything(tmp_path: Path, **env: str) -> str:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    completed = subprocess.run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "jira_insights_pipeline.definitions",
            "--select",
            "*",
            # The daily history's day, as `make demo` gives it: the sample's.
            "--partition",
            SAMPLE_DAY,
        ],
        cwd=ROOT,
        env={
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "DAGSTER_HOME": str(home),
            "JIRA_INSIGHTS_DATA_DIR": str(tmp_path / "data"),
            "JIRA_SOURCE": "sample",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode != 0
    return completed.stdout + completed.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JIRA_INSIGHTS_LLM": "banana"}, "LLM mode 'banana'"),
        (
            {"JIRA_INSIGHTS_LLM": "on", "JIRA_INSIGHTS_MODEL_PATH": "/nonexistent/model.gguf"},
            "Model file /nonexistent/model.gguf does not exist",
        ),
        (
            {"JIRA_INSIGHTS_LLM": "on", "JIRA_INSIGHTS_MODEL_PATH": "{not_a_model}"},
            "is not a GGUF file",
        ),
    ],
    ids=["mode", "missing", "not-gguf"],
)
def test_a_model_mistake_stops_the_run_at_its_first_step(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    not_a_model = tmp_path / "model.gguf"
    not_a_model.write_text("<html>a download page, not a model</html>")
    env = {name: value.format(not_a_model=not_a_model) for name, value in env.items()}
    output = _materialize_everything(tmp_path, **env)
    assert STEP_FAILED in output
    assert expected in output
    assert "STEP_SUCCESS" not in output, "no step ran before the mistake was found"
    raw = tmp_path / "data" / "raw"
    assert not raw.exists() or not [p for p in raw.iterdir() if p.is_dir()], "nothing fetched"
