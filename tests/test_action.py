"""action.yml: its shell steps run with bash in a simulated GitHub environment; hostile input stays data."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

from .conftest import ROOT, make_notebook  # noqa: E402

ACTION = ROOT / "action.yml"
CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_accuracy')"
CLEAN = "import numpy as np\nx = np.zeros(3)"
HOSTILE = ["$(touch pwned)", "; touch pwned", "`touch pwned`", "x\"; touch pwned; echo \"", "' ; touch pwned ; '"]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None or sys.platform == "win32", reason="needs bash")


def load_action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def test_structure_and_no_expressions_in_shell():
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert {"paths", "lang", "fail-on", "select", "ignore", "sarif-file", "comment"} <= set(action["inputs"])
    assert {"findings", "report"} <= set(action["outputs"])
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step.get("shell") == "bash"
    install = next(s for s in action["runs"]["steps"] if s.get("id") == "install")
    assert 'pip install --disable-pip-version-check --quiet "${GITHUB_ACTION_PATH}"' in install["run"]


class Runner:
    """Runs the composite action's `run:` steps in order, like the runner would, with stub tools."""

    def __init__(self, tmp: Path, workspace: Path, inputs: dict[str, str], event: dict | None = None) -> None:
        self.tmp, self.workspace, self.event = tmp, workspace, event or {}
        self.action = load_action()
        self.inputs = {k: str(v.get("default", "")) for k, v in self.action["inputs"].items()}
        self.inputs.update(inputs)
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = tmp / "step_summary.md"
        self.summary.write_text("")
        self.runner_temp = tmp / "runner temp $(touch pwned)"
        self.runner_temp.mkdir()
        self.log = tmp / "calls.log"
        self.bin = tmp / "stub-bin"
        self.bin.mkdir()
        self.action_path = tmp / "action dir; $(touch pwned)"
        self.action_path.mkdir()
        self._stubs()
        self.results: list[tuple[str, subprocess.CompletedProcess]] = []

    def _stubs(self) -> None:
        real_py = Path(sys.executable)
        real_nbreview = real_py.parent / "nbreview"
        log = self.log
        # python3 -m venv DIR creates a venv whose pip only records its arguments, and whose
        # nbreview/python are the ones under test
        venv_py = (
            "#!/bin/bash\n"
            'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then printf "%s\\n" "$@" >> ' + _q(log) + "; exit 0; fi\n"
            "exec " + _q(real_py) + ' "$@"\n'
        )
        py3 = (
            "#!/bin/bash\n"
            'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
            '  mkdir -p "$3/bin"\n'
            '  cat > "$3/bin/python" <<\'EOF\'\n' + venv_py + "EOF\n"
            '  chmod +x "$3/bin/python"\n'
            '  ln -sf ' + _q(real_nbreview) + ' "$3/bin/nbreview"\n'
            "  exit 0\n"
            "fi\n"
            "exec " + _q(real_py) + ' "$@"\n'
        )
        gh = (
            "#!/bin/bash\n"
            'printf "gh" >> ' + _q(log) + '; printf " [%s]" "$@" >> ' + _q(log) + '; echo >> ' + _q(log) + "\n"
            'for ((i=1; i<=$#; i++)); do if [ "${!i}" = "--input" ]; then j=$((i+1)); '
            'cp "${!j}" ' + _q(self.tmp / "comment.json") + "; fi; done\n"
            'if [ "$2" != "--method" ]; then echo 4242; fi\n'  # the listing finds an earlier comment
        )
        for name, text in (("python3", py3), ("gh", gh)):
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)

    def context(self, ref: str) -> str:
        if ref.startswith("inputs."):
            return self.inputs.get(ref[7:], "")
        if ref.startswith("steps."):
            _, sid, _, name = ref.split(".", 3)
            return self.outputs.get(sid, {}).get(name, "")
        return {
            "github.token": "fake-token",
            "github.repository": "course/submissions",
            "github.event.pull_request.number": str(self.event.get("number", "")),
            "github.event.pull_request.base.sha": self.event.get("base_sha", ""),
        }[ref]

    def expand(self, text: str) -> str:
        return EXPR.sub(lambda m: self.context(m.group(1)), text)

    def condition(self, expr: str) -> bool:
        py = re.sub(r"(inputs|steps|github)\.[\w.-]+", lambda m: repr(self.context(m.group(0))), expr)
        py = py.replace("&&", " and ").replace("||", " or ")
        return bool(eval(py, {"__builtins__": {}}, {}))  # only our own, simple expressions

    def run(self) -> int:
        final = 0
        for step in self.action["runs"]["steps"]:
            if "run" not in step:
                continue  # `uses:` steps (setup-python, upload-artifact) are GitHub's
            if "if" in step and not self.condition(step["if"]):
                continue
            out = self.tmp / f"output-{len(self.results)}"
            out.write_text("")
            env = {
                "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                "HOME": str(self.tmp),
                "GITHUB_OUTPUT": str(out),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "GITHUB_ACTION_PATH": str(self.action_path),
                "GITHUB_WORKSPACE": str(self.workspace),
                "RUNNER_TEMP": str(self.runner_temp),
                "GITHUB_EVENT_NAME": "pull_request" if self.event else "push",
            }
            env.update({k: self.expand(str(v)) for k, v in step.get("env", {}).items()})
            proc = subprocess.run([BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
                                  cwd=self.workspace, env=env, capture_output=True, text=True, timeout=120,
                                  check=False)
            self.results.append((step["name"], proc))
            if step.get("id"):
                self.outputs[step["id"]] = parse_output(out.read_text())
            if proc.returncode != 0:
                final = proc.returncode
                break
        return final

    def stdout(self, name: str) -> str:
        return next(p.stdout for n, p in self.results if n == name)


def _q(path: Path | str) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def parse_output(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def no_pwned(*roots: Path) -> None:
    for root in roots:
        hits = [p for p in root.rglob("pwned")] + [p for p in root.rglob("x")]
        assert not hits, hits


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def test_explicit_paths_with_hostile_names(tmp_path, workspace):
    bad = make_notebook([CKPT], workspace / "a;b$(x).ipynb")
    make_notebook([CLEAN], workspace / "`touch pwned` dir" / "ok.ipynb")
    sarif = "out dir/$(touch pwned).sarif"
    runner = Runner(tmp_path, workspace, {
        "paths": f"{bad.name}\n  `touch pwned` dir  \n",
        "lang": "en", "sarif-file": sarif,
    })
    rc = runner.run()
    assert rc == 1, [(n, p.stdout, p.stderr) for n, p in runner.results]
    no_pwned(tmp_path)
    pip_args = runner.log.read_text().splitlines()
    assert pip_args[-1] == str(runner.action_path)  # installed from the action's own checkout, one argument
    review = runner.stdout("Review the notebooks")
    assert review.startswith("::error file=a;b$(x).ipynb,line=")
    assert runner.outputs["review"]["findings"] == "1"
    assert runner.outputs["review"]["exit-code"] == "1"
    report = Path(runner.outputs["review"]["report"])
    assert report.read_text() in runner.summary.read_text()
    assert "a;b$(x).ipynb" in runner.summary.read_text()
    doc = json.loads((workspace / sarif).read_text())
    assert doc["runs"][0]["results"][0]["ruleId"] == "checkpoint-save-best-only"
    # not a pull request: no comment
    assert "gh" not in runner.log.read_text()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_inputs_are_data(tmp_path, workspace, value):
    make_notebook([CKPT], workspace / "a.ipynb")
    runner = Runner(tmp_path, workspace, {"lang": value, "select": value, "ignore": value, "fail-on": value,
                                          "paths": value, "baseline": value})
    rc = runner.run()
    no_pwned(tmp_path)
    assert rc == 2  # nbreview refuses the values (bad usage): the step fails, nothing runs
    assert "unknown" in "".join(p.stderr for _, p in runner.results)


def test_pull_request_changed_notebooks_and_comment(tmp_path, workspace):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    make_notebook([CKPT], workspace / "old.ipynb")  # committed before the PR: not reviewed
    subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=workspace, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True,
                          check=True).stdout.strip()
    make_notebook([CKPT], workspace / "subs" / "a;b$(touch pwned).ipynb")
    make_notebook([CLEAN], workspace / "subs" / "clean.ipynb")
    (workspace / "notes.txt").write_text("not a notebook")
    subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "pr"], cwd=workspace, check=True)

    runner = Runner(tmp_path, workspace, {"comment": "true", "lang": "en"}, event={"number": 7, "base_sha": base})
    rc = runner.run()
    assert rc == 1, [(n, p.stdout, p.stderr) for n, p in runner.results]
    no_pwned(tmp_path)
    review = runner.stdout("Review the notebooks")
    assert "subs/a;b$(touch pwned).ipynb" in review and "old.ipynb" not in review
    assert runner.outputs["review"]["findings"] == "1"
    calls = [ln for ln in runner.log.read_text().splitlines() if ln.startswith("gh")]
    assert calls[0].startswith("gh [api] [user]")  # whose comments are ours
    assert calls[1].startswith("gh [api] [--paginate] [repos/course/submissions/issues/7/comments]")
    assert "select(.user.login == env.NBREVIEW_AUTHOR and" in calls[1]  # the marker alone is not enough
    assert calls[2].startswith("gh [api] [--method] [PATCH] [repos/course/submissions/issues/comments/4242]")
    body = json.loads((tmp_path / "comment.json").read_text())["body"]
    assert body.startswith("<!-- nbreview-review -->\n")
    assert "a;b$(touch pwned).ipynb" in body


def test_pull_request_without_notebooks(tmp_path, workspace):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    (workspace / "README.md").write_text("x")
    subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=workspace, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True,
                          check=True).stdout.strip()
    runner = Runner(tmp_path, workspace, {}, event={"number": 8, "base_sha": base})
    assert runner.run() == 0
    assert runner.outputs["review"]["findings"] == "0"
    assert "No notebook changed" in runner.summary.read_text()


def test_whole_repository_outside_a_pull_request(tmp_path, workspace):
    make_notebook([CLEAN], workspace / "a.ipynb")
    make_notebook([CKPT], workspace / "deep" / "er" / "b.ipynb")
    runner = Runner(tmp_path, workspace, {"fail-on": "never", "html-artifact": "reviews"})
    assert runner.run() == 0, [(n, p.stdout, p.stderr) for n, p in runner.results]
    assert runner.outputs["review"]["findings"] == "1"
    assert runner.outputs["review"]["exit-code"] == "0"
    from nbreview.render import FORMATS

    if "html" in FORMATS:
        html_dir = Path(runner.outputs["review"]["html-dir"])
        assert len(list(html_dir.rglob("*.html"))) >= 2  # a report per notebook (+ an index)
        assert runner.condition(next(s["if"] for s in runner.action["runs"]["steps"]
                                     if s.get("uses", "").startswith("actions/upload-artifact")))


def test_course_config_cannot_be_overridden_by_the_submission(tmp_path, workspace):
    from nbreview import catalog as cat

    make_notebook([CKPT + "  # nbreview: ignore[checkpoint-save-best-only]"], workspace / "a.ipynb")
    every = ", ".join(f'"{slug}"' for slug in sorted(cat.catalog()))
    (workspace / "nbreview.toml").write_text(f'ignore = [{every}]\nfail-on = "never"\n')
    (workspace / "pyproject.toml").write_text(f'[tool.nbreview]\nignore = [{every}]\n')
    # the student's own files silence everything...
    (tmp_path / "own").mkdir()
    assert Runner(tmp_path / "own", workspace, {}).run() == 0
    # ...the course's configuration (inline, or a file outside the submission) does not let them
    course = tmp_path / "course.toml"
    course.write_text('fail-on = "warning"\n')
    for inputs in ({"config-toml": 'fail-on = "warning"', "suppressions": "false"},
                   {"config": str(course), "suppressions": "false"}):
        where = tmp_path / ("file" if "config" in inputs else "inline")
        where.mkdir()
        runner = Runner(where, workspace, inputs)
        assert runner.run() == 1, [(n, p.stdout, p.stderr) for n, p in runner.results]
        assert runner.outputs["review"]["findings"] == "1"


def test_a_crash_is_reported_as_a_crash_not_as_no_findings(tmp_path, workspace):
    make_notebook([CLEAN], workspace / "a.ipynb")
    runner = Runner(tmp_path, workspace, {"fail-on": "never"})
    crash = runner.bin / "crashing-nbreview"
    crash.write_text("#!/bin/bash\necho 'Traceback (most recent call last):' >&2\nexit 1\n")
    crash.chmod(0o755)
    py3 = (runner.bin / "python3").read_text()
    (runner.bin / "python3").write_text(py3.replace(str(Path(sys.executable).parent / "nbreview"), str(crash)))
    rc = runner.run()
    assert rc == 2, [(n, p.stdout, p.stderr) for n, p in runner.results]
    assert runner.outputs["review"]["findings"] == ""
    assert runner.outputs["review"]["exit-code"] == "2"
    final = runner.results[-1][1].stdout
    assert "crashed" in final and "findings at or above" not in final
    assert "crashed or could not run" in runner.summary.read_text()
