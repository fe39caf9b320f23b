"""Group metadata as records: Kafka's byte layout, emitted at Stable and Empty, and a
coordinator rebuilt from them answers members as the old one did."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from group_steps import sync

from luong.broker.groups import GroupService
from luong.clock import ManualClock
from luong.coordinator.group_records import (
    GroupSnapshot,
    MemberSnapshot,
    decode_group_key,
    decode_group_value,
    encode_group_key,
    encode_group_value,
)
from luong.coordinator.groups import (
    GroupCoordinator,
    GroupState,
    JoinReply,
    JoinRequest,
    SyncReply,
)
from luong.coordinator.offset_records import encode_key
from luong.errors import CorruptRecordError
from luong.protocol.records import Record


def join_request(new_id: str, instance_id: str | None = None) -> JoinRequest:
    """A new member's JoinGroup, v3 style (no MEMBER_ID_REQUIRED round trip)."""
    protocols = [("range", b"meta")]
    return JoinRequest(
        "g", "", instance_id, "client", "host", 10_000, 20_000, "consumer", protocols, False, new_id
    )


def joined(coordinator: GroupCoordinator, now: int, member: str) -> None:
    coordinator.join(now, join_request(member))


def stable_pair(coordinator: GroupCoordinator) -> None:
    """Members a (leader) and b in generation 2, each with an assignment."""
    coordinator.join(0, join_request("a"))  # generation 1: a alone
    coordinator.join(0, join_request("b"))
    coordinator.join(0, replace(join_request(""), member_id="a"))  # generation 2
    sync(coordinator, 1, "g", "b", 2, [])
    sync(coordinator, 1, "g", "a", 2, [("a", b"p0"), ("b", b"p1")])


def test_key_and_value_use_kafkas_layout() -> None:
    assert encode_group_key("g") == b"\x00\x02\x00\x01g"
    member = MemberSnapshot("m", None, "c", "/h", 300, 10, b"S", b"A")
    value = encode_group_value(GroupSnapshot("consumer", 7, "range", "m", 5, (member,)))
    assert value == (
        b"\x00\x03"  # version 3
        + b"\x00\x08consumer"
        + b"\x00\x00\x00\x07"  # generation
        + b"\x00\x05range"
        + b"\x00\x01m"  # leader
        + b"\x00\x00\x00\x00\x00\x00\x00\x05"  # state timestamp
        + b"\x00\x00\x00\x01"  # one member
        + b"\x00\x01m\xff\xff\x00\x01c\x00\x02/h"  # id, null instance id, client, host
        + b"\x00\x00\x01\x2c\x00\x00\x00\x0a"  # rebalance 300, session 10
        + b"\x00\x00\x00\x01S\x00\x00\x00\x01A"
    )
    assert decode_group_value(value).members == (member,)


def test_offset_keys_are_not_group_keys_and_garbage_is_refused() -> None:
    assert decode_group_key(encode_key("g", "t", 0)) is None
    with pytest.raises(CorruptRecordError):
        decode_group_value(b"\x00\x03\x00\x08cons")
    with pytest.raises(CorruptRecordError):
        decode_group_value(b"\x00\x09")


def test_a_stable_group_is_rebuilt_from_its_record() -> None:
    live = GroupCoordinator(initial_delay_ms=0)
    stable_pair(live)
    records = live.take_records()
    assert len(records) == 1 and live.take_records() == []
    rebuilt = GroupCoordinator()
    rebuilt.replay(records, 50_000)
    group = rebuilt.groups["g"]
    assert (group.state, group.generation_id, group.leader_id) == (GroupState.STABLE, 2, "a")
    assert {m: x.assignment for m, x in group.members.items()} == {"a": b"p0", "b": b"p1"}
    assert rebuilt.heartbeat(55_000, "g", "b", 2) == 0  # sessions restart at the replay
    assert rebuilt.check_commit("g", "a", 2) == 0
    [synced] = sync(rebuilt, 56_000, "g", "b", 2, [])
    assert synced == SyncReply("g", "b", 0, b"p1", "consumer", "range")
    rebuilt.tick(60_001)  # a was silent for its whole 10 s session after the replay
    assert set(rebuilt.groups["g"].members) == {"b"}


def test_an_emptied_group_keeps_its_generation_and_a_deleted_one_is_gone() -> None:
    live = GroupCoordinator(initial_delay_ms=0)
    stable_pair(live)
    live.leave(2, "g", [("a", None), ("b", None)])
    assert live.remove_empty(3, "other") == 0  # unknown: nothing to delete
    records = live.take_records()
    rebuilt = GroupCoordinator()
    rebuilt.replay(records, 10)
    group = rebuilt.groups["g"]
    assert (group.state, group.generation_id, group.members) == (GroupState.EMPTY, 3, {})
    assert live.remove_empty(4, "g") == 0
    rebuilt.replay(live.take_records(), 20)
    assert "g" not in rebuilt.groups


def test_a_static_member_taking_its_place_back_is_persisted() -> None:
    live = GroupCoordinator(initial_delay_ms=0)
    live.join(0, join_request("old", "i-1"))
    sync(live, 0, "g", "old", 1, [("old", b"mine")])
    [reply] = live.join(5, join_request("new", "i-1"))
    assert isinstance(reply, JoinReply) and reply.member_id == "new"
    rebuilt = GroupCoordinator()
    rebuilt.replay(live.take_records(), 10)
    assert list(rebuilt.groups["g"].members) == ["new"]
    assert rebuilt.groups["g"].members["new"].assignment == b"mine"


def test_leaving_by_instance_id_and_fencing() -> None:
    live = GroupCoordinator(initial_delay_ms=0)
    live.join(0, join_request("m1", "i-1"))
    codes, _ = live.leave(1, "g", [("other-id", "i-1"), ("", "i-9")])
    assert codes == [82, 25]  # FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID
    codes, _ = live.leave(2, "g", [("", "i-1")])
    assert codes == [0] and live.groups["g"].members == {}


def test_a_failed_write_withdraws_the_assignments_and_rebalances() -> None:
    async def failing(records: list[Record]) -> None:
        raise OSError(28, "No space left on device")

    async def scenario() -> tuple[SyncReply, GroupState]:
        coordinator = GroupCoordinator(initial_delay_ms=0)
        service = GroupService(coordinator, ManualClock(0), failing)
        joined(coordinator, 0, "a")
        reply = await service.sync("g", "a", 1, [("a", b"p0")])
        return reply, coordinator.groups["g"].state

    reply, state = asyncio.run(scenario())
    assert reply.error_code == 15 and reply.assignment == b""  # COORDINATOR_NOT_AVAILABLE
    assert state is GroupState.PREPARING_REBALANCE


def test_records_are_written_before_the_replies_are_sent() -> None:
    written: list[list[Record]] = []

    async def persist(records: list[Record]) -> None:
        written.append(records)

    async def scenario() -> SyncReply:
        coordinator = GroupCoordinator(initial_delay_ms=0)
        service = GroupService(coordinator, ManualClock(0), persist)
        joined(coordinator, 0, "a")
        return await service.sync("g", "a", 1, [("a", b"p0")])

    reply = asyncio.run(scenario())
    assert reply.error_code == 0 and len(written) == 1
    rebuilt = GroupCoordinator()
    rebuilt.replay(written[0], 0)
    assert rebuilt.groups["g"].members["a"].assignment == b"p0"


def test_a_repeated_join_answers_the_earlier_one_instead_of_leaving_it_hanging() -> None:
    async def persist(records: list[Record]) -> None:
        pass

    async def scenario() -> tuple[JoinReply, bool]:
        service = GroupService(GroupCoordinator(initial_delay_ms=3_000), ManualClock(0), persist)
        known = await service.join(replace(join_request(""), require_known_member_id=True))
        assert known.error_code == 79  # MEMBER_ID_REQUIRED: the id to join with
        again = replace(join_request(""), member_id=known.member_id)
        first = asyncio.ensure_future(service.join(again))
        await asyncio.sleep(0)  # the join waits for the initial delay
        second = asyncio.ensure_future(service.join(again))
        await asyncio.sleep(0)
        answered = await asyncio.wait_for(first, 1)
        waiting = not second.done()
        second.cancel()
        return answered, waiting

    answered, waiting = asyncio.run(scenario())
    assert answered.error_code == 27  # REBALANCE_IN_PROGRESS: the client joins again
    assert waiting


def test_members_get_their_assignments_together_once_the_leaders_is_durable() -> None:
    """A follower whose SyncGroup arrives while the leader's assignment is being written
    waits for the write, then gets its own, at the same time as the leader."""
    release = asyncio.Event()

    async def slow_persist(records: list[Record]) -> None:
        await release.wait()

    async def scenario() -> tuple[SyncReply, SyncReply, bool, GroupState]:
        coordinator = GroupCoordinator(initial_delay_ms=0)
        service = GroupService(coordinator, ManualClock(0), slow_persist)
        coordinator.join(0, join_request("a"))  # generation 1: a alone
        coordinator.join(0, join_request("b"))
        coordinator.join(0, replace(join_request(""), member_id="a"))  # generation 2
        leader = asyncio.ensure_future(service.sync("g", "a", 2, [("a", b"p0"), ("b", b"p1")]))
        await asyncio.sleep(0)  # the leader's assignment is being written
        follower = asyncio.ensure_future(service.sync("g", "b", 2, []))
        await asyncio.sleep(0.01)
        answered_early = leader.done() or follower.done()
        state_meanwhile = coordinator.groups["g"].state
        release.set()
        return await leader, await follower, answered_early, state_meanwhile

    leader, follower, answered_early, state_meanwhile = asyncio.run(scenario())
    assert not answered_early
    assert state_meanwhile is GroupState.COMPLETING_REBALANCE
    assert (leader.error_code, leader.assignment) == (0, b"p0")
    assert (follower.error_code, follower.assignment) == (0, b"p1")


def test_a_failed_write_fails_every_waiting_member() -> None:
    async def failing(records: list[Record]) -> None:
        await asyncio.sleep(0.01)
        raise OSError(5, "Input/output error")

    async def scenario() -> list[SyncReply]:
        coordinator = GroupCoordinator(initial_delay_ms=0)
        service = GroupService(coordinator, ManualClock(0), failing)
        coordinator.join(0, join_request("a"))
        coordinator.join(0, join_request("b"))
        coordinator.join(0, replace(join_request(""), member_id="a"))
        leader = asyncio.ensure_future(service.sync("g", "a", 2, [("a", b"p0"), ("b", b"p1")]))
        await asyncio.sleep(0)
        follower = asyncio.ensure_future(service.sync("g", "b", 2, []))
        return [await leader, await follower]

    replies = asyncio.run(scenario())
    assert [(r.error_code, r.assignment) for r in replies] == [(15, b""), (15, b"")]


def test_a_member_joining_during_the_leaders_write_does_not_leave_the_leader_hanging() -> None:
    """The leader's SyncGroup is answered REBALANCE_IN_PROGRESS by the join that
    restarts the rebalance while its assignment is being written; it must get that
    answer, not wait forever."""
    release = asyncio.Event()

    async def slow_persist(records: list[Record]) -> None:
        await release.wait()

    async def scenario() -> tuple[SyncReply, JoinReply]:
        coordinator = GroupCoordinator(initial_delay_ms=0)
        service = GroupService(coordinator, ManualClock(0), slow_persist)
        coordinator.join(0, join_request("a"))
        leader = asyncio.ensure_future(service.sync("g", "a", 1, [("a", b"p0")]))
        await asyncio.sleep(0)  # the leader's assignment is being written
        newcomer = asyncio.ensure_future(service.join(join_request("b")))
        await asyncio.sleep(0)
        release.set()
        synced = await asyncio.wait_for(leader, 2)
        rejoined = await service.join(replace(join_request(""), member_id="a"))
        return synced, rejoined if rejoined.error_code else await asyncio.wait_for(newcomer, 2)

    synced, joined = asyncio.run(scenario())
    assert synced.error_code == 27  # REBALANCE_IN_PROGRESS: rejoin
    assert joined.error_code == 0 and joined.generation_id == 2
