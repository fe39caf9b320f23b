"""`luong serve`: run a node until SIGINT or SIGTERM.

    luong serve [--data-dir DIR] [--listen HOST:PORT] [--advertised HOST:PORT]
                [--http-listen HOST:PORT | --no-http]
                [--config FILE] [--set NAME=VALUE ...] [--log-level LEVEL]

Broker settings use Kafka's names; `--set` overrides the file, which holds
`name=value` lines (Java properties style: `#` comments, blank lines). An unknown
setting or a bad value stops the start with a message naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import logging
import signal
import sys
from typing import TYPE_CHECKING

from luong.config import BrokerConfig
from luong.errors import LuongError

if TYPE_CHECKING:  # the server (kio, uvloop) loads only when `serve` runs
    from luong.gateway import Gateway
    from luong.server import NodeConfig

__all__ = ["node_config", "parse_properties", "run"]

log = logging.getLogger("luong")


def parse_properties(text: str, source: str) -> dict[str, str]:
    """`name=value` lines; `#` and `!` start comments."""
    settings = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise LuongError(f"{source}:{number}: expected name=value, got {line!r}")
        settings[name.strip()] = value.strip()
    return settings


def _address(text: str, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise LuongError(f"{option} wants HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def node_config(args: argparse.Namespace) -> NodeConfig:
    from luong.server import NodeConfig

    settings: dict[str, str] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as file:
            settings.update(parse_properties(file.read(), args.config))
    settings.update(parse_properties("\n".join(args.set), "--set"))
    host, port = _address(args.listen, "--listen")
    advertised = _address(args.advertised, "--advertised") if args.advertised else (None, None)
    return NodeConfig(
        storage_url=args.storage or f"log://{args.data_dir}",
        listen_host=host,
        listen_port=port,
        advertised_host=advertised[0],
        advertised_port=advertised[1],
        broker=BrokerConfig.from_settings(settings),
    )


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# the gateway's own Kafka clients (consumer instances, group streams) speak at INFO
# of every join and subscription: their lines are for --log-level debug only
CLIENT_LOGGERS = ("aiokafka",)


def run(args: argparse.Namespace) -> int:
    level = args.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    config = node_config(args)
    http = None if args.no_http else _address(args.http_listen, "--http-listen")
    if http is not None and not config.broker["luong.http.tokens"] and not _loopback(http[0]):
        raise LuongError(
            f"--http-listen {args.http_listen}: without luong.http.tokens the HTTP gateway"
            " listens on loopback only (set tokens, or listen on 127.0.0.1)"
        )
    import uvloop

    return int(uvloop.run(_serve(config, http)))


async def _serve(config: NodeConfig, http: tuple[str, int] | None) -> int:
    from luong.server import Node

    node = Node(config)
    gateway: Gateway | None = None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before listening: a signal then is ours
        loop.add_signal_handler(sig, stopping.set)
    try:
        await node.start()
    except OSError as error:
        print(
            f"luong: cannot listen on {config.listen_host}:{config.listen_port}: {error}",
            file=sys.stderr,
        )
        return 1
    if http is not None:
        from luong.gateway import Gateway  # aiohttp and aiokafka load only with the gateway
        from luong.gateway.local import LocalCluster

        assert node.broker is not None
        tokens = config.broker["luong.http.tokens"]
        gateway = Gateway(LocalCluster(node.broker), *http, tokens=tokens)
        try:
            await gateway.start()
        except OSError as error:
            print(f"luong: cannot listen on {http[0]}:{http[1]} (HTTP): {error}", file=sys.stderr)
            await node.stop()
            return 1
    # Everything loaded so far (the logs' state, the modules) lives as long as the
    # process: keep it out of the garbage collector's full passes, which otherwise
    # stall the event loop for tens of milliseconds walking it (63 ms on the first one).
    # The protocol table is built next, in the background, and frozen the same way.
    gc.collect()
    gc.freeze()
    node.warm_up()
    await stopping.wait()
    log.info("stopping")
    if gateway is not None:
        await gateway.stop()
    await node.stop()
    return 0
