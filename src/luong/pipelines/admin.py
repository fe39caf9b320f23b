"""Topics a worker needs: sources checked, internal and output topics made.

Sources and tables must exist (their partition counts decide the tasks). The
worker makes what is missing of: repartition topics (as many partitions as their
upstream's widest source), changelogs (compacted, one partition per task of their
sub-topology), the dead-letter topic and output topics (the cluster's default
partitions), and the status topic `_luong_pipelines` (compacted, one partition).
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from luong.pipelines.engine import internal_partitions
from luong.pipelines.pipeline import Pipeline
from luong.pipelines.restore import changelog_topic
from luong.pipelines.status import STATUS_TOPIC

__all__ = ["PipelineSetupError", "prepare_topics", "topic_partitions"]


class PipelineSetupError(Exception):
    """The cluster lacks what the pipeline needs; the message says what to do."""


def topic_partitions(admin: AdminClient, timeout_s: float) -> dict[str, int]:
    metadata = admin.list_topics(timeout=timeout_s)
    return {name: len(t.partitions) for name, t in metadata.topics.items() if t.error is None}


def prepare_topics(admin: AdminClient, pipeline: Pipeline, timeout_s: float) -> dict[str, int]:
    """Every topic the pipeline reads or writes, with its partition count."""
    existing = topic_partitions(admin, timeout_s)
    subs = pipeline.subtopologies()
    external = [s.topic for sub in subs for s in sub.sources if not s.internal]
    tables = [t.topic for t in pipeline.tables.values()]
    missing = [t for t in [*external, *tables] if t not in existing]
    if missing:
        names = ", ".join(sorted(set(missing)))
        raise PipelineSetupError(
            f"source topic(s) {names} do not exist: create them (luong topic create NAME)"
        )
    _check_copartitioned(subs, existing)
    counts = internal_partitions(subs, {t: existing[t] for t in external})
    wanted: dict[str, tuple[int, dict[str, str]]] = {}
    compact = {"cleanup.policy": "compact"}
    for sub in subs:
        width = max(counts[t] for t in sub.topics)
        for node in sub.repartitions:
            wanted[node.topic] = (counts[node.topic], {})
        for store in sub.stores:
            wanted[changelog_topic(pipeline.name, store)] = (width, compact)
    wanted[STATUS_TOPIC] = (1, compact)
    for topic in [pipeline.dead_letter_topic, *sorted(pipeline.sinks)]:
        wanted.setdefault(topic, (-1, {}))
    _create(admin, {t: spec for t, spec in wanted.items() if t not in existing}, timeout_s)
    return {**topic_partitions(admin, timeout_s), **counts}


def _check_copartitioned(subs: list[Any], existing: dict[str, int]) -> None:
    for sub in subs:
        widths = {t: existing[t] for t in sub.topics if t in existing}
        if len(set(widths.values())) > 1:
            shown = ", ".join(f"{t} ({n})" for t, n in sorted(widths.items()))
            raise PipelineSetupError(
                f"topics joined or merged by key must have as many partitions: {shown}"
            )


def _create(
    admin: AdminClient, wanted: dict[str, tuple[int, dict[str, str]]], timeout_s: float
) -> None:
    if not wanted:
        return
    topics = [NewTopic(t, num_partitions=n, config=c) for t, (n, c) in sorted(wanted.items())]
    for topic, future in admin.create_topics(topics, request_timeout=timeout_s).items():
        try:
            future.result(timeout_s)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                reason = error.args[0].str()
                raise PipelineSetupError(f"cannot create topic {topic}: {reason}") from None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(t in topic_partitions(admin, timeout_s) for t in wanted):
            return
        time.sleep(0.1)
