"""The README works top to bottom on a fresh broker: every shell and Python block, in
order, against a real `luong serve`.

The blocks are run as written, with the addresses and paths of this test's broker
put in for the README's (127.0.0.1:9092, localhost:8080, luong-data, .venv/bin/luong)
and the client commands given `--bootstrap`. Shell blocks run under `set -euo
pipefail` with curl failing on any HTTP error (`--fail-with-body`), so an example
that answers 4xx or 5xx fails the test. A block preceded by
`<!-- readme-test: skip (why) -->` is not run (it starts a server, say).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from luong.testing.node import LuongProcess

README = Path(__file__).parents[2] / "README.md"
BLOCK = re.compile(r"(<!-- readme-test: skip[^>]*-->\n)?```(sh|python)\n(.*?)```", re.S)
CLIENT_COMMANDS = "topic group produce consume transaction bench pipeline"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # where it starts in README.md


def readme_blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(m[2], m[3], text.count("\n", 0, m.start()) + 1)
        for m in BLOCK.finditer(text)
        if not m[1]
    ]


def localised(code: str, node: LuongProcess, scratch: Path) -> str:
    """The block with this test's broker and directories in place of the README's."""
    code = code.replace("127.0.0.1:9092", node.bootstrap)
    for address in ("localhost:8080", "127.0.0.1:8080"):
        code = code.replace(address, f"127.0.0.1:{node.http_port}")
    code = code.replace("/tmp/luong-data", str(scratch / "storage-example"))
    code = code.replace("luong-data/", f"{node.data_dir}/")
    return code.replace(".venv/bin/luong", "luong")


def shell_preamble(node: LuongProcess) -> str:
    luong = Path(sys.executable).with_name("luong")
    return f"""set -euo pipefail
curl() {{ command curl --fail-with-body --max-time 30 "$@"; }}
luong() {{
    case " {CLIENT_COMMANDS} " in
        *" $1 "*) "{luong}" "$@" --bootstrap {node.bootstrap} ;;
        *) "{luong}" "$@" ;;
    esac
}}
"""


def test_the_readme_runs_top_to_bottom(tmp_path: Path) -> None:
    if shutil.which("kcat") is None or shutil.which("curl") is None:
        pytest.fail("the README test needs kcat and curl (apt-get install kcat curl)")
    blocks = readme_blocks()
    assert len(blocks) >= 10  # the README lost its examples, or the pattern its way
    with LuongProcess(tmp_path / "luong-data") as node:
        for block in blocks:
            code = localised(block.code, node, tmp_path)
            if block.language == "sh":
                command = ["bash", "-c", shell_preamble(node) + code]
            else:
                command = [sys.executable, "-c", code]
            done = subprocess.run(
                command,
                check=False,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                cwd=tmp_path,
            )
            assert done.returncode == 0, (
                f"README.md line {block.line} ({block.language}) failed:\n{code}\n"
                f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
            )
