"""Clickstream: the ten most visited pages of every minute.

Input `clicks`: {"user": "u1", "page": "/pricing"}. Output `top-pages`: per minute
{"minute": start, "top": [[page, clicks], ...]} (most clicks first, ties by name).

    luong topic create clicks --partitions 3
    luong pipeline run examples/clickstream.py
"""

from luong.pipelines import Pipeline, TopK, tumbling

pipeline = Pipeline("clickstream")
(
    pipeline.source("clicks")
    .filter(lambda click: not click["page"].startswith("/static/"))
    .key_by(lambda click: "all")  # one ranking across every page
    .window(tumbling(60_000), grace_ms=5_000, name="pages-per-minute")
    .aggregate(TopK(10, "page"))
    .map(lambda w: {"minute": w["start"], "top": w["value"]})
    .to("top-pages")
)
