"""`/topics/{t}/ws` against a real broker: produce and subscribe on one socket,
records that Kafka clients read, error frames that leave the socket open."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.http import http_call
from luong.testing.node import LuongProcess


def create(node: LuongProcess, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(10)


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)  # type: ignore[no-any-return]


def test_one_socket_produces_and_streams_back(luong: LuongProcess) -> None:
    create(luong, "ws-t", 1)

    async def scenario() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            url = f"{luong.http_url}/topics/ws-t/ws?max_events=3&filter=value.ok%3Dtrue"
            async with session.ws_connect(url) as ws:
                records = [{"value": {"ok": True, "n": n}} for n in range(3)]
                records.insert(1, {"value": {"ok": False}})  # filtered out of the stream
                await ws.send_json({"type": "produce", "ref": 7, "records": records})
                return [await receive(ws) for _ in range(5)]  # ack, 3 records, end

    frames = asyncio.run(scenario())
    by_type: dict[str, list[dict[str, Any]]] = {}
    for frame in frames:
        by_type.setdefault(frame["type"], []).append(frame)
    [ack] = by_type["ack"]
    assert ack["ref"] == 7 and [o["offset"] for o in ack["offsets"]] == [0, 1, 2, 3]
    assert [f["record"]["value"] for f in by_type["record"]] == [
        {"ok": True, "n": n} for n in range(3)
    ]
    assert [f["id"] for f in by_type["record"]] == ["0:1", "0:3", "0:4"]
    assert "max_events" in by_type["end"][0]["reason"]
    # ordinary Kafka records
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "unused"})
    consumer.assign([TopicPartition("ws-t", 0, 0)])
    got = consumer.consume(4, timeout=10)
    consumer.close()
    assert [json.loads(m.value()) for m in got][1] == {"ok": False}


def test_bad_messages_get_error_frames_and_the_socket_stays_open(luong: LuongProcess) -> None:
    create(luong, "ws-bad", 2)

    async def scenario() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            url = f"{luong.http_url}/topics/ws-bad/ws?subscribe=false"
            async with session.ws_connect(url) as ws:
                answers = []
                for bad in [
                    "not json",
                    json.dumps({"type": "consume"}),
                    json.dumps({"type": "produce", "ref": "a", "records": []}),
                    json.dumps(
                        {
                            "type": "produce",
                            "ref": "b",
                            "format": "binary",
                            "records": [{"value": "%%%"}],
                        }
                    ),
                    json.dumps(
                        {"type": "produce", "ref": "c", "records": [{"value": 1, "partition": 5}]}
                    ),
                ]:
                    await ws.send_str(bad)
                    answers.append(await receive(ws))
                await ws.send_bytes(b"\x00")
                answers.append(await receive(ws))
                value = base64.b64encode(b"fine").decode()
                await ws.send_json(
                    {
                        "type": "produce",
                        "ref": "d",
                        "format": "binary",
                        "records": [{"value": value, "partition": 1}],
                    }
                )
                answers.append(await receive(ws))
                return answers

    answers = asyncio.run(scenario())
    assert [(a["type"], a["ref"], a.get("error_code")) for a in answers] == [
        ("error", None, 400),
        ("error", None, 422),
        ("error", "a", 422),
        ("error", "b", 422),
        ("error", "c", 40402),
        ("error", None, 422),
        ("ack", "d", None),
    ]
    assert answers[-1]["offsets"][0]["partition"] == 1
    offsets = [
        http_call(luong.http_url, "GET", f"/topics/ws-bad/partitions/{p}/offsets")[1]
        for p in (0, 1)
    ]
    assert [o["end_offset"] for o in offsets] == [0, 1]  # only the good record was written


def test_a_bad_stream_query_is_refused_before_the_upgrade(luong: LuongProcess) -> None:
    create(luong, "ws-q", 1)
    status, body = http_call(luong.http_url, "GET", "/topics/ws-q/ws?filter=nope")
    assert (status, body["error_code"]) == (422, 422)
    status, body = http_call(luong.http_url, "GET", "/topics/ws-none/ws")
    assert (status, body["error_code"]) == (404, 40401)


def test_a_socket_resumes_after_the_last_event_it_saw(luong: LuongProcess) -> None:
    create(luong, "ws-resume", 1)

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with aiohttp.ClientSession() as session:
            url = f"{luong.http_url}/topics/ws-resume/ws?from=earliest"
            async with session.ws_connect(url) as ws:
                await ws.send_json({"type": "produce", "records": [{"value": n} for n in range(5)]})
                frames = [await receive(ws) for _ in range(6)]  # the ack and 5 records
            records = [f for f in frames if f["type"] == "record"]
            seen = records[:2]  # the connection drops after two
            again = f"{luong.http_url}/topics/ws-resume/ws?last_event_id={seen[-1]['id']}"
            async with session.ws_connect(again) as ws:
                rest = [await receive(ws) for _ in range(3)]
            return seen, rest

    seen, rest = asyncio.run(scenario())
    assert [f["record"]["value"] for f in seen] == [0, 1]
    assert [f["record"]["value"] for f in rest] == [2, 3, 4]
