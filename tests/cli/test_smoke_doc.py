"""docs/smoke-test.md cannot go stale: each of its bash blocks runs, in order and exactly as
written, against the package's `vigil up` (tests/cli/conftest.py) with the doc's variables
pointing at its ports; each must exit 0 and print, for each of its `# expect:` patterns, a line
that matches. A link of the chain that takes time (an event, its clip, a face, an email) is
waited for by running its block again until it passes or its deadline ends."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import Platform

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "smoke-test.md"
BIN = Path(sys.executable).parent  # `vigil`, as the doc runs it
CHECK = re.compile(r"<!-- smoke: ([a-z]+) -->\n```bash\n(.*?)```", re.S)
EXPECT = re.compile(r"^# expect: (.+)$", re.M)
# A block's time to pass after the one before it: the desk's returning man may need a second
# loop of the footage (about five minutes each) on a busy machine.
DEADLINE = 900.0
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    script: str

    @property
    def expected(self) -> list[str]:
        return EXPECT.findall(self.script)

    def missing(self, output: str) -> list[str]:
        return [p for p in self.expected if not re.search(p, output, re.M)]


def checks() -> list[Check]:
    return [Check(name, script) for name, script in CHECK.findall(DOC.read_text())]


def test_every_bash_block_is_a_named_check_with_expectations() -> None:
    found = checks()
    assert len(found) == DOC.read_text().count("```bash\n")  # no block left unrun
    names = [c.name for c in found]
    assert names[0] == "setup" and len(set(names)) == len(names), names
    assert len(found) >= 12
    for check in found:
        assert check.expected, f"{check.name}: no '# expect:' line"
        for pattern in check.expected:
            re.compile(pattern)


def run(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def doc_environment(platform: Platform) -> dict[str, str]:
    """What an operator's shell has beside `vigil up`: the same VIGIL_* settings (which `vigil
    sql` and `vigil retention` read) and the doc's addresses set to this instance's ports."""
    env = dict(platform.env)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env | {
        "VIGIL": platform.base,
        "DASHBOARD": platform.dashboard,
        "DAGSTER": platform.dagster,
    }


# Past the suite's 600 s: the first user of the package's `vigil up` also waits for its start.
@pytest.mark.timeout(1800)
def test_the_smoke_checklist_passes_on_vigil_up(platform: Platform, tmp_path: Path) -> None:
    setup, *rest = checks()
    cwd = platform.data_dir.parent  # where `vigil up` was started
    saved = tmp_path / "setup.env"
    result = run(
        f"{setup.script}\nenv -0 > {shlex.quote(str(saved))}\n", doc_environment(platform), cwd
    )
    assert result.returncode == 0 and not setup.missing(result.stdout), (
        result.stdout + result.stderr
    )
    # What the setup block exported (the token), for the later blocks: one login, as in a shell.
    env: dict[str, str] = {}
    for entry in saved.read_text().split("\0"):
        name, equals, value = entry.partition("=")
        if equals:
            env[name] = value
    assert env["TOKEN"] and env["VIGIL"] == platform.base

    for check in rest:
        began = time.monotonic()
        deadline = began + DEADLINE
        runs = 0
        while True:
            runs += 1
            started = time.monotonic()
            result = run(check.script, env, cwd)
            missing = check.missing(result.stdout)
            if result.returncode == 0 and not missing:
                took = time.monotonic() - began
                print(f"smoke {check.name}: passed after {took:.0f} s, {runs} run(s)")
                print(result.stdout)
                break
            assert platform.proc.poll() is None, "vigil up exited"
            assert time.monotonic() < deadline, (
                f"smoke check '{check.name}' did not pass within {DEADLINE:.0f} s: exit "
                f"{result.returncode}, no line matching {missing}\n"
                f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
            )
            time.sleep(max(0.0, RETRY_SECONDS - (time.monotonic() - started)))
