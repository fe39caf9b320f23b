"""`luong …` commands.

luong serve …                      run the broker (luong.cli.serve)
luong topic create|list|describe|alter|delete …   administer topics (luong.cli.topic)
luong produce TOPIC …              send lines as messages (luong.cli.produce)
luong consume TOPIC …              print messages (luong.cli.consume)
luong group list|describe|reset-offsets|delete …   consumer groups (luong.cli.group)
luong transaction list|describe …  transactions (luong.cli.transaction)
luong bench produce|consume|e2e TOPIC …   load tests of any Kafka cluster (luong.cli.bench)
luong dump-log FILE [--records]   print the batches of a `.log` segment file
luong --version

Start-up is kept short: the parser (luong.cli.parsers) imports only argparse, and a
command's module is imported when it runs: its `ACTIONS[action]` or its `run`.
kio imports hypothesis whenever it is installed (for its own test strategies: 0.4 s
at every start); a `luong` process that has not loaded hypothesis yet marks it
absent while kio loads its check, so kio skips it, and then lets it be imported
again by whatever else the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from luong.cli.parsers import build_parser
from luong.errors import LuongError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _load_kio_without_hypothesis()
    try:
        return int(_handler(args)(args))
    except (LuongError, OSError) as error:
        print(f"luong: {error}", file=sys.stderr)
        return 1


def _load_kio_without_hypothesis() -> None:
    """kio checks once, when its `_phantom` module loads, whether hypothesis imports:
    let that check fail, then take the block away, so that anything a command imports
    later (a user's pipeline, say) can still import hypothesis."""
    if "hypothesis" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]
    try:
        import kio.static._phantom  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


def _handler(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The chosen command's function: its module's `ACTIONS[args.action]` for commands
    with actions (`luong topic create`), else its `run`."""
    module = import_module(args.module)
    actions = getattr(module, "ACTIONS", None)
    run: Callable[[argparse.Namespace], int] = actions[args.action] if actions else module.run
    return run


if __name__ == "__main__":
    sys.exit(main())
