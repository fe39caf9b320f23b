"""The operator graph's base: a node, and how a task's processors are built from nodes.

`Stream` methods (in `stream.py`) add nodes; at run time the worker builds, for each
task, one processor function per node with `build_task`. Nodes are definitions only
(shared by all tasks); whatever a processor keeps lives in the closure `build`
returns or in the task's stores. A node's children receive what it emits, in order.
A node with several parents (a merge, the two sides of a join) is built once per
task.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from luong.pipelines.task import Emit, TaskContext, fanout

if TYPE_CHECKING:
    from luong.pipelines.topology import SourceNode

__all__ = ["Node", "build_task", "walk"]


class Node:
    """One operator of the graph."""

    kind = "node"

    def __init__(self, label: str) -> None:
        self.label = label
        self.children: list[Node] = []

    def add(self, child: Node) -> Node:
        self.children.append(child)
        return child

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        """This node's processor for `task`, emitting to its children's `emits`."""
        return fanout(emits)

    def stores(self) -> list[str]:
        """Names of the state stores this node keeps."""
        return []

    def key_of(self, store_key: bytes) -> bytes:
        """The key bytes a store key of this node belongs to."""
        return store_key

    def rows(self, store_key: bytes, value: Any) -> list[dict[str, Any]]:
        """A store entry as interactive-query rows."""
        return [{"key": orjson.loads(self.key_of(store_key)), "value": value}]


def walk(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from `roots`, each once, parents before children where
    the graph allows (depth first)."""
    seen: dict[int, Node] = {}
    stack = list(roots)[::-1]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(reversed(node.children))
    return list(seen.values())


def build_task(sources: list[SourceNode], task: TaskContext) -> dict[str, Emit]:
    """The processors of one task: the entry function for each source topic."""
    built: dict[int, Emit] = {}

    def make(node: Node) -> Emit:
        if id(node) not in built:
            built[id(node)] = node.build(task, [make(child) for child in node.children])
        return built[id(node)]

    return {source.topic: make(source) for source in sources}
