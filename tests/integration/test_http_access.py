"""Bearer tokens of the HTTP gateway: who may read, who may write, which topics,
and that the tokens never leak through DescribeConfigs (the loopback rule without
tokens is in test_serve_command.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from luong.testing.http import BINARY, V2, http_call
from luong.testing.node import LuongProcess

TOKENS = "all-powerful:rw,just-looking:ro,orders-team:rw:orders."


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuongProcess]:
    data = tmp_path_factory.mktemp("guarded") / "data"
    with LuongProcess(data, settings={"luong.http.tokens": TOKENS}) as node:
        for name in ("orders.eu", "payments"):
            body = {"name": name, "partitions": 1}
            answer = call(node, "POST", "/admin/topics", "all-powerful", body)
            assert answer[0] == 201, answer
        yield node


def call(
    node: LuongProcess,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    content_type: str = V2,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{node.http_url}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


RECORDS = {"records": [{"value": "aGk="}]}


def test_no_token_or_a_wrong_one_is_refused(guarded: LuongProcess) -> None:
    for token in (None, "guess", ""):
        status, body = call(guarded, "GET", "/topics", token)
        assert (status, body["error_code"]) == (401, 40101)
    assert http_call(guarded.http_url, "GET", "/openapi.json")[0] == 200  # the document is public


def test_read_only_reads_and_cannot_write(guarded: LuongProcess) -> None:
    assert call(guarded, "GET", "/topics", "just-looking")[0] == 200
    assert call(guarded, "GET", "/admin/groups", "just-looking")[0] == 200
    status, body = call(guarded, "POST", "/topics/payments", "just-looking", RECORDS, BINARY)
    assert (status, body["error_code"]) == (403, 40301)
    status, body = call(guarded, "DELETE", "/admin/topics/payments", "just-looking")
    assert (status, body["error_code"]) == (403, 40301)
    status, body = call(guarded, "POST", "/consumers/readers", "just-looking", {"name": "r1"})
    assert status == 200  # consumer instances are reading

    async def produce_frame() -> dict[str, Any]:
        headers = {"Authorization": "Bearer just-looking"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.ws_connect(f"{guarded.http_url}/topics/payments/ws?subscribe=false") as ws,
        ):
            await ws.send_json({"type": "produce", "ref": 1, "records": [{"value": 1}]})
            return json.loads((await ws.receive()).data)  # type: ignore[no-any-return]

    frame = asyncio.run(produce_frame())
    assert (frame["type"], frame["error_code"]) == ("error", 40301)


def test_a_prefix_token_reaches_only_its_topics(guarded: LuongProcess) -> None:
    status, names = call(guarded, "GET", "/topics", "orders-team")
    assert status == 200 and names == ["orders.eu"]
    assert call(guarded, "POST", "/topics/orders.eu", "orders-team", RECORDS, BINARY)[0] == 200
    for method, path, body in [
        ("POST", "/topics/payments", RECORDS),
        ("GET", "/topics/payments/partitions/0/offsets", None),
        ("POST", "/admin/topics", {"name": "payments.copy"}),
    ]:
        content = BINARY if path.startswith("/topics/") else V2
        status, answer = call(guarded, method, path, "orders-team", body, content)
        assert (status, answer["error_code"]) == (403, 40301), path
    assert call(guarded, "POST", "/admin/topics", "orders-team", {"name": "orders.us"})[0] == 201
    assert call(guarded, "POST", "/topics/payments", "all-powerful", RECORDS, BINARY)[0] == 200


def test_tokens_never_leave_through_describe_configs(guarded: LuongProcess) -> None:
    admin = AdminClient({"bootstrap.servers": guarded.bootstrap})
    resource = ConfigResource(ResourceType.BROKER, "0")
    entries = admin.describe_configs([resource])[resource].result(10)
    entry = entries["luong.http.tokens"]
    assert entry.is_sensitive and entry.value is None
    assert "all-powerful" not in str({k: v.value for k, v in entries.items()})


def test_webhooks_never_show_secrets_and_stay_within_a_tokens_scope(
    guarded: LuongProcess,
) -> None:
    hook = {"topic": "payments", "url": "http://127.0.0.1:9/hook", "secret": "hmac-key"}
    status, created = call(guarded, "POST", "/webhooks", "all-powerful", hook)
    assert status == 201, created
    unsigned = {"topic": "orders.eu", "url": "http://127.0.0.1:9/hook"}
    status, orders_hook = call(guarded, "POST", "/webhooks", "orders-team", unsigned)
    assert status == 201, orders_hook
    assert (created["secret_set"], orders_hook["secret_set"]) == (True, False)
    path = f"/webhooks/{created['id']}"
    everything = [
        created,
        call(guarded, "GET", path, "all-powerful")[1],
        call(guarded, "GET", "/webhooks", "all-powerful")[1],
        call(guarded, "POST", f"{path}/pause", "all-powerful")[1],
    ]
    assert "hmac-key" not in json.dumps(everything)
    assert all("secret" not in answer for answer in [created, everything[1], everything[3]])
    # a token scoped to orders. neither sees nor touches the payments subscription
    assert [h["id"] for h in call(guarded, "GET", "/webhooks", "orders-team")[1]] == [
        orders_hook["id"]
    ]
    for method, suffix in [("GET", ""), ("POST", "/resume"), ("DELETE", "")]:
        assert call(guarded, method, path + suffix, "orders-team")[0] == 404, (method, suffix)
    # a read-only token may look (without secrets) but not manage
    looked = call(guarded, "GET", path, "just-looking")
    assert looked[0] == 200 and "secret" not in looked[1]
    assert call(guarded, "DELETE", path, "just-looking")[0] == 403
    assert call(guarded, "POST", "/webhooks", "just-looking", hook)[0] == 403
    assert call(guarded, "GET", path, "all-powerful")[1]["state"] == "paused"
    assert call(guarded, "DELETE", path, "all-powerful")[0] == 204
