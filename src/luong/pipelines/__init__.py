"""Stream processing on the client side: pipelines of operators over Kafka topics.

    from luong.pipelines import Pipeline, Count, tumbling

    p = Pipeline("page-counts")
    (p.source("clicks")
      .key_by(lambda click: click["page"])
      .window(tumbling(60_000), grace_ms=5_000)
      .aggregate(Count())
      .to("page-counts"))

Run it with `luong pipeline run app.py` (live) or `--from/--until` (a bounded slice of
history, same output); test it with `PipelineTestDriver`. The guide is
docs/pipelines.md.
"""

from luong.pipelines.aggregations import (
    Aggregator,
    ApproxDistinctCount,
    Collect,
    Count,
    DistinctCount,
    Max,
    Mean,
    Min,
    Reduce,
    Sum,
    TopK,
)
from luong.pipelines.codecs import Codec, CodecError
from luong.pipelines.driver import PipelineTestDriver
from luong.pipelines.joins import Table
from luong.pipelines.keyed import KeyState
from luong.pipelines.pipeline import Pipeline
from luong.pipelines.record import Record
from luong.pipelines.stream import Stream, WindowedAggregation, WindowedStream
from luong.pipelines.windows import Window, hopping, session, sliding, tumbling

__all__ = [
    "Aggregator",
    "ApproxDistinctCount",
    "Codec",
    "CodecError",
    "Collect",
    "Count",
    "DistinctCount",
    "KeyState",
    "Max",
    "Mean",
    "Min",
    "Pipeline",
    "PipelineTestDriver",
    "Record",
    "Reduce",
    "Stream",
    "Sum",
    "Table",
    "TopK",
    "Window",
    "WindowedAggregation",
    "WindowedStream",
    "hopping",
    "session",
    "sliding",
    "tumbling",
]
