"""Loading the code location imports neither Selenium nor llama.cpp.

Every `dagster dev` reload, `dagster asset materialize`, run worker and step subprocess imports
`jira_insights_pipeline.definitions`; Selenium is needed only when the `browser` source or
`jira-insights browser-login` drives Chromium, and llama.cpp only when an insight is worded by
the model. Importing them at load cost every one of those processes their import time (Selenium
about 2.5 s on a cold start). The check runs in a fresh interpreter, since this test session
may have imported either already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY_MODULES = ("selenium", "llama_cpp")


def test_loading_definitions_imports_no_browser_and_no_model_library() -> None:
    script = (
        "import json, sys, jira_insights_pipeline.definitions; "
        f"print(json.dumps({{name: name in sys.modules for name in {HEAVY_MODULES!r}}}))"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    imported = json.loads(completed.stdout.strip().splitlines()[-1])
    assert imported == dict.fromkeys(HEAVY_MODULES, False)
