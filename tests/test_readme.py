"""The README runs as written: its Python blocks are executed (on weights the tests build, in
place of the released files), its command lines parse, the files it points to exist."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import torch

from vidcolor.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def command_lines() -> list[list[str]]:
    """Every `vidcolor ...` command in the README's shell blocks (after `&&` too), as arguments."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part)
                if words and words[0] == "vidcolor":
                    found.append(words[1:])
    return found


@pytest.fixture(scope="module")
def release_named_weights(tmp_path_factory, tiny_state_dict):
    """The tests' weights under the paper-tiny release's name: they are its architecture, exactly."""
    folder = tmp_path_factory.mktemp("release")
    torch.save({"params": tiny_state_dict}, folder / "ddcolor_paper_tiny.pth")
    return folder


def run_python(code: str, cwd: Path, weights: Path) -> subprocess.CompletedProcess:
    (cwd / "script.py").write_text(code)
    # -W error: no library warning (torch.jit's deprecation, say) may reach an API user.
    return subprocess.run([sys.executable, "-W", "error::FutureWarning", "script.py"], cwd=cwd, text=True,
                          capture_output=True, env={"VIDCOLOR_WEIGHTS_DIR": str(weights), "PATH": "/usr/bin:/bin",
                                                    "HOME": str(cwd)}, timeout=600)


@pytest.fixture
def repo_like(tmp_path):
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    return tmp_path


def test_the_python_api_block_runs_as_written(repo_like, release_named_weights):
    api = blocks("python")[0]
    done = run_python(api, repo_like, release_named_weights)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    m = re.fullmatch(r"(\d+) ([\d.]+) (\[.*\]) (\S+) (\S+)", lines[0])
    assert m and int(m[1]) == 15 and m[3] == "['#0 audio (aac)']" and m.group(4, 5) == ("paper-tiny", "cpu"), lines[0]
    assert float(lines[-1]) > 0  # E_warp of the part, scored with its --start and --duration
    assert (repo_like / "output" / "camera_color.png").is_file()
    assert "Warning" not in done.stderr


def test_the_batch_block_runs_as_written_and_without_its_guard_says_what_to_add(repo_like, release_named_weights):
    batch = blocks("python")[1]
    done = run_python(batch, repo_like, release_named_weights)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[0] == "0 [('" + str(ROOT / "samples" / "camera.png") + "', 'done', None)]"
    unguarded = batch.replace('if __name__ == "__main__":\n', "").replace("\n    ", "\n")
    done = run_python(unguarded, repo_like, release_named_weights)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.endswith('put the code that starts it under `if __name__ == "__main__":`'), done.stderr
    assert "script.py, line 3" in last
    assert "multiprocessing" not in done.stderr and "worker process died" not in done.stderr


@pytest.mark.parametrize("args", command_lines(), ids=" ".join)
def test_every_command_line_parses(args):
    """Options, choices and types as the README writes them are those the CLI takes."""
    ctx = main.make_context("vidcolor", list(args))
    name, command, rest = main.resolve_command(ctx, unparsed(ctx))
    while isinstance(command, click.Group):
        sub = command.make_context(name, rest, parent=ctx)
        name, command, rest = command.resolve_command(sub, unparsed(sub))
    command.make_context(name, rest, parent=ctx)


def unparsed(ctx: click.Context) -> list[str]:
    """A group's subcommand and its arguments (click 8.2 renamed where it keeps the first)."""
    return [*vars(ctx).get("_protected_args", vars(ctx).get("protected_args", [])), *ctx.args]


def test_the_readme_names_files_that_exist():
    assert len(command_lines()) >= 15
    for script in set(re.findall(r"python (benchmarks/[\w/]+\.py)", README)):
        assert (ROOT / script).is_file(), script
    for image in set(re.findall(r"\((docs/[\w.-]+\.png)\)", README)):
        assert (ROOT / image).is_file(), image
    for sample in set(re.findall(r"samples/[\w.]+\.\w+", README)):
        assert (ROOT / sample).is_file(), sample
