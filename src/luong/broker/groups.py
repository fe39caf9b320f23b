"""GroupService: the group coordinator on the event loop.

JoinGroup and SyncGroup answers may wait for other members: the caller's
request waits on a future keyed by (kind, group, member) until a reply for it
comes out of the state machine, from another member's request or from the
ticker that drives session timeouts and rebalance deadlines every 100 ms.

The group metadata records the state machine emits are appended to
`__consumer_offsets` (through `persist`) before the replies they complete are
sent: a leader's assignment is handed to the members only once it is durable
(`GroupCoordinator.persisted`); if that write fails, its members get
COORDINATOR_NOT_AVAILABLE and the group rebalances.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from luong.broker.internal import Ticker
from luong.clock import Clock
from luong.coordinator.group_records import decode_group_key, decode_group_value
from luong.coordinator.groups import (
    GroupCoordinator,
    GroupState,
    JoinReply,
    JoinRequest,
    Reply,
    SyncReply,
)
from luong.errors import ErrorCode, LuongError
from luong.protocol.records import Record

__all__ = ["GroupService"]

TICK_S = 0.1
log = logging.getLogger("luong.groups")
Persist = Callable[[list[Record]], Awaitable[None]]


class GroupService:
    """Waiting JoinGroup/SyncGroup requests and the coordinator's clock."""

    def __init__(self, coordinator: GroupCoordinator, clock: Clock, persist: Persist) -> None:
        self.coordinator = coordinator
        self._clock = clock
        self._persist = persist
        self._waiting: dict[tuple[str, str, str], asyncio.Future[Reply]] = {}
        self._ticker = Ticker(self._tick, TICK_S)

    def start(self) -> None:
        self._ticker.start()

    async def stop(self) -> None:
        await self._ticker.stop()

    async def _tick(self) -> None:
        self._dispatch(await self._settle(self.coordinator.tick(self._clock.time_ms())))

    async def join(self, request: JoinRequest) -> JoinReply:
        member_id = request.member_id or f"{request.client_id or 'member'}-{uuid.uuid4()}"
        if not request.member_id:
            request = replace(request, new_member_id=member_id)
        now = self._clock.time_ms()
        reply = await self._call(
            "join", request.group_id, member_id, lambda: self.coordinator.join(now, request)
        )
        assert isinstance(reply, JoinReply)
        return reply

    async def sync(
        self,
        group_id: str,
        member_id: str,
        generation_id: int,
        assignments: Sequence[tuple[str, bytes]],
        instance_id: str | None = None,
    ) -> SyncReply:
        now = self._clock.time_ms()
        reply = await self._call(
            "sync",
            group_id,
            member_id,
            lambda: self.coordinator.sync(
                now, group_id, member_id, generation_id, assignments, instance_id
            ),
        )
        assert isinstance(reply, SyncReply)
        return reply

    def heartbeat(
        self, group_id: str, member_id: str, generation_id: int, instance_id: str | None = None
    ) -> ErrorCode:
        now = self._clock.time_ms()
        return self.coordinator.heartbeat(now, group_id, member_id, generation_id, instance_id)

    async def leave(
        self, group_id: str, leaving: Sequence[tuple[str, str | None]]
    ) -> list[ErrorCode]:
        codes, replies = self.coordinator.leave(self._clock.time_ms(), group_id, leaving)
        self._dispatch(await self._settle(replies))
        return codes

    async def delete(self, group_id: str) -> ErrorCode:
        """Forget a group without members (its tombstone written); NON_EMPTY_GROUP otherwise."""
        code = self.coordinator.remove_empty(self._clock.time_ms(), group_id)
        await self._settle([])
        return code

    async def remove_expired(self, with_offsets: set[str]) -> None:
        """Forget Empty groups that have no committed offsets left (after offset
        expiry), as Kafka's periodic cleanup does."""
        for group_id, group in list(self.coordinator.groups.items()):
            idle = group.state is GroupState.EMPTY and not group.pending_member_ids
            if idle and group_id not in with_offsets:
                self.coordinator.remove_empty(self._clock.time_ms(), group_id)
        await self._settle([])

    async def _settle(self, replies: list[Reply]) -> list[Reply]:
        """Write the records the coordinator emitted, then return the replies to send."""
        records = self.coordinator.take_records()
        if not records:
            return replies
        upto = self.coordinator.emitted
        try:
            await self._persist(records)
        except (OSError, LuongError) as error:
            failed = _generations(records)
            names = ", ".join(sorted(g for g, _ in failed))
            log.error("group metadata of %s not written: %s", names, error)
            groups = {g for g, _ in failed}
            replies = [_withdrawn(r) if r.group_id in groups else r for r in replies]
            return replies + self.coordinator.persist_failed(self._clock.time_ms(), failed, upto)
        return replies + self.coordinator.persisted(self._clock.time_ms(), upto)

    def listing(self, known_from_offsets: set[str]) -> list[tuple[str, str, str]]:
        """(group id, protocol type, state) of every group, those that only have
        committed offsets included (as Empty, like Kafka)."""
        out = [
            (g.group_id, g.protocol_type or "", g.state.value)
            for g in self.coordinator.groups.values()
        ]
        known = {group_id for group_id, _, _ in out}
        out += [(g, "consumer", GroupState.EMPTY.value) for g in known_from_offsets - known]
        return sorted(out)

    async def _call(
        self, kind: str, group_id: str, member_id: str, step: Callable[[], list[Reply]]
    ) -> Reply:
        """Run a JoinGroup or SyncGroup `step` of the state machine and wait for the
        caller's own reply. The caller waits under (kind, group, member) from before the
        step on: its reply may come out of another request while this one's records
        are being written (a member joining during the leader's SyncGroup answers the
        leader REBALANCE_IN_PROGRESS), and must find it waiting."""
        key = (kind, group_id, member_id)
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        previous = self._waiting.pop(key, None)
        if previous is not None and not previous.done():
            # the same member asked again (a retry on a new connection): the newer request
            # waits, the older one is answered so its connection is not left hanging
            previous.set_result(_superseded(kind, group_id, member_id))
        self._waiting[key] = waiter
        try:
            self._dispatch(await self._settle(step()))
            return await waiter
        finally:
            if self._waiting.get(key) is waiter:
                del self._waiting[key]

    def _dispatch(self, replies: list[Reply]) -> None:
        for reply in replies:
            waiter = self._waiting.pop((_kind(reply), reply.group_id, reply.member_id), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reply)


def _superseded(kind: str, group_id: str, member_id: str) -> Reply:
    if kind == "join":
        return JoinReply(group_id, member_id, ErrorCode.REBALANCE_IN_PROGRESS)
    return SyncReply(group_id, member_id, ErrorCode.REBALANCE_IN_PROGRESS)


def _generations(records: list[Record]) -> set[tuple[str, int | None]]:
    """(group, generation) of each group metadata record (None for a tombstone)."""
    out: set[tuple[str, int | None]] = set()
    for record in records:
        group_id = decode_group_key(record.key) if record.key is not None else None
        if group_id is not None:
            value = record.value
            out.add((group_id, None if value is None else decode_group_value(value).generation_id))
    return out


def _withdrawn(reply: Reply) -> Reply:
    """A success the failed write was to make good (a static member's rejoin): refused."""
    if reply.error_code == ErrorCode.NONE:
        if isinstance(reply, JoinReply):
            return JoinReply(reply.group_id, reply.member_id, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        return SyncReply(reply.group_id, reply.member_id, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    return reply


def _kind(reply: Reply) -> str:
    return "join" if isinstance(reply, JoinReply) else "sync"
