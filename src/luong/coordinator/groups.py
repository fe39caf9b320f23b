"""GroupCoordinator: Kafka's classic group protocol as a pure state machine.

    Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
      ▲                    ▲                                          │ leader's SyncGroup
      └── last member gone ┴──── join, leave, session expiry ◀── Stable ◀┘

Every call takes `now_ms` and returns Replies: the answer to the caller when it is
ready, and answers to members whose JoinGroup or SyncGroup was waiting. Time moves
only through the calls and `tick(now_ms)`. A JoinGroup completes when every known
member has rejoined, or at the rebalance deadline (members that did not rejoin are
removed); a group's first rebalance also waits `initial_delay_ms` for more members.
Owned by the broker's event loop; no I/O, no clock of its own.

Durability, as Kafka does it: whenever a group reaches Stable (the leader's
assignment is in, or a static member took its place back) or Empty, the
coordinator emits a group metadata record with the group's snapshot, and a
tombstone when the group is deleted; `take_records` hands them to the caller,
which appends them to `__consumer_offsets` before sending the replies they
complete. The leader's assignment is handed out only once its record is durable:
the group stays in CompletingRebalance while it is written, members' SyncGroup
requests (the leader's too) wait, and `persisted` (the record is written) answers
them all together and makes the group Stable, while `persist_failed` answers
them COORDINATOR_NOT_AVAILABLE and rebalances. `replay` rebuilds the groups from
those records on start-up: each in
its last persisted state, members' session timers starting at the replay. The
transient states (PreparingRebalance, CompletingRebalance) are never persisted;
after a restart their members find the last Stable generation and rejoin.
"""

from __future__ import annotations

import struct
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from luong.coordinator.group_records import (
    GroupSnapshot,
    MemberSnapshot,
    decode_group_key,
    decode_group_value,
    encode_group_key,
    encode_group_value,
)
from luong.errors import ErrorCode
from luong.protocol.records import Record

__all__ = [
    "Group",
    "GroupCoordinator",
    "GroupState",
    "JoinReply",
    "JoinRequest",
    "Member",
    "Reply",
    "SyncReply",
]


class GroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclass(slots=True)
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocols: list[tuple[str, bytes]]
    last_heartbeat_ms: int
    assignment: bytes = b""
    awaiting_join: bool = False
    awaiting_sync: bool = False


@dataclass(slots=True)
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending_member_ids: set[str] = field(default_factory=set)  # MEMBER_ID_REQUIRED given
    join_deadline_ms: int = 0  # when PreparingRebalance completes at the latest
    initial_until_ms: int = 0  # a new group's first rebalance waits until then
    # the leader's assignment stands once records up to this number are durable (0: none)
    assignment_pending: int = 0


@dataclass(frozen=True, slots=True)
class JoinReply:
    group_id: str
    member_id: str
    error_code: ErrorCode
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str = ""
    members: tuple[tuple[str, str | None, bytes], ...] = ()  # for the leader only


@dataclass(frozen=True, slots=True)
class SyncReply:
    group_id: str
    member_id: str
    error_code: ErrorCode
    assignment: bytes = b""
    protocol_type: str | None = None
    protocol_name: str | None = None


Reply = JoinReply | SyncReply


@dataclass(frozen=True, slots=True)
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: Sequence[tuple[str, bytes]]
    require_known_member_id: bool
    new_member_id: str = ""  # the id a member joining with none gets (chosen by the caller)


class GroupCoordinator:
    """Every classic group of this node."""

    def __init__(
        self,
        initial_delay_ms: int = 3000,
        max_size: int = 2**31 - 1,
        session_timeout_range_ms: tuple[int, int] = (6000, 1_800_000),
    ) -> None:
        self.initial_delay_ms = initial_delay_ms
        self.max_size = max_size
        self.min_session_ms, self.max_session_ms = session_timeout_range_ms
        self.groups: dict[str, Group] = {}
        self._records: list[Record] = []  # emitted, not yet taken
        self.emitted = 0  # records emitted so far: the numbers `persisted` counts in

    # -- durability ------------------------------------------------------------------

    def take_records(self) -> list[Record]:
        """The group metadata records emitted since the last call, in order."""
        records, self._records = self._records, []
        return [Record(i, r.timestamp, r.key, r.value) for i, r in enumerate(records)]

    def _persist(self, now_ms: int, group: Group) -> None:
        value = encode_group_value(_snapshot(group, now_ms))
        self._emit(Record(0, now_ms, encode_group_key(group.group_id), value))

    def _emit(self, record: Record) -> None:
        self._records.append(record)
        self.emitted += 1

    def replay(self, records: Iterable[Record], now_ms: int) -> None:
        """Rebuild groups from their metadata records (other records are skipped)."""
        for record in records:
            group_id = decode_group_key(record.key) if record.key is not None else None
            if group_id is None:
                continue
            if record.value is None:
                self.groups.pop(group_id, None)
                continue
            self.groups[group_id] = _restore(group_id, decode_group_value(record.value), now_ms)

    def persisted(self, now_ms: int, durable: int) -> list[Reply]:
        """The first `durable` records emitted (see `emitted`) are written: a leader's
        assignment that waited for them now stands, and every member waiting in
        SyncGroup gets its own. (Writes complete in the order they were emitted.)"""
        replies: list[Reply] = []
        for group in self.groups.values():
            if not 0 < group.assignment_pending <= durable:
                continue
            group.assignment_pending = 0
            if group.state is GroupState.COMPLETING_REBALANCE:
                group.state = GroupState.STABLE
                replies += [self._assignment_reply(group, m) for m in self._stop_waiting(group)]
        return replies

    def persist_failed(
        self, now_ms: int, failed: Iterable[tuple[str, int | None]], upto: int
    ) -> list[Reply]:
        """Records up to number `upto` could not be written, those of these (group,
        generation) pairs (generation None: a tombstone): an assignment waiting for them
        does not stand (its members are told COORDINATOR_NOT_AVAILABLE) and the group
        rebalances again, as Kafka does; a group that has moved on to another
        generation since is left alone (Kafka ignores such a store callback)."""
        replies: list[Reply] = []
        for group_id, generation in failed:
            group = self.groups.get(group_id)
            if group is None or not group.members:
                continue
            if generation is not None and generation != group.generation_id:
                continue
            if 0 < group.assignment_pending <= upto:
                group.assignment_pending = 0
                replies += [
                    SyncReply(group_id, m.member_id, ErrorCode.COORDINATOR_NOT_AVAILABLE)
                    for m in self._stop_waiting(group)
                ]
            replies += self._prepare_rebalance(now_ms, group)
        return replies

    @staticmethod
    def _stop_waiting(group: Group) -> list[Member]:
        """The members waiting in SyncGroup, no longer waiting."""
        waiting = [m for m in group.members.values() if m.awaiting_sync]
        for member in waiting:
            member.awaiting_sync = False
        return waiting

    # -- JoinGroup -------------------------------------------------------------------

    def join(self, now_ms: int, request: JoinRequest) -> list[Reply]:
        if not self.min_session_ms <= request.session_timeout_ms <= self.max_session_ms:
            return [self._join_error(request, ErrorCode.INVALID_SESSION_TIMEOUT)]
        group = self.groups.get(request.group_id)
        if group is None:
            if request.member_id:
                return [self._join_error(request, ErrorCode.UNKNOWN_MEMBER_ID)]
            group = self.groups[request.group_id] = Group(request.group_id)
        if not self._compatible(group, request):
            return [self._join_error(request, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)]
        if not request.member_id:
            return self._join_new(now_ms, group, request)
        if request.member_id in group.pending_member_ids:
            group.pending_member_ids.discard(request.member_id)
            return self._add_member(now_ms, group, request, request.member_id)
        code = _membership(group, request.member_id, request.group_instance_id)
        if code:
            return [self._join_error(request, code)]
        member = group.members[request.member_id]
        member.protocols = list(request.protocols)
        return self._rejoin(now_ms, group, member)

    @staticmethod
    def _compatible(group: Group, request: JoinRequest) -> bool:
        if not request.protocol_type or not request.protocols:
            return False
        if not group.members:
            return True
        common = _common_protocols(group.members.values())
        return request.protocol_type == group.protocol_type and bool(
            common & {name for name, _ in request.protocols}
        )

    def _join_new(self, now_ms: int, group: Group, request: JoinRequest) -> list[Reply]:
        known = _static_member(group, request.group_instance_id)
        if known is not None:
            return self._static_rejoin(now_ms, group, known, request)
        if len(group.members) + len(group.pending_member_ids) >= self.max_size:
            return [self._join_error(request, ErrorCode.GROUP_MAX_SIZE_REACHED)]
        member_id = request.new_member_id or f"{request.client_id or 'member'}-{uuid.uuid4()}"
        if request.require_known_member_id and request.group_instance_id is None:
            group.pending_member_ids.add(member_id)  # KIP-394: the client rejoins with it
            return [JoinReply(group.group_id, member_id, ErrorCode.MEMBER_ID_REQUIRED)]
        return self._add_member(now_ms, group, request, member_id)

    def _static_rejoin(
        self, now_ms: int, group: Group, old: Member, request: JoinRequest
    ) -> list[Reply]:
        """A restarted static member (same group.instance.id) takes its old place under a
        new member id: the old id is fenced, and in a stable group whose protocols did
        not change it gets the current generation back without a rebalance."""
        new_id = request.new_member_id or f"{request.client_id or 'member'}-{uuid.uuid4()}"
        unchanged = old.protocols == list(request.protocols)
        fenced = _dismiss(group, old, ErrorCode.FENCED_INSTANCE_ID)  # the old id's requests
        del group.members[old.member_id]
        old.member_id, old.protocols = new_id, list(request.protocols)
        old.session_timeout_ms = request.session_timeout_ms
        old.last_heartbeat_ms = now_ms
        group.members[new_id] = old
        if group.leader_id == request.member_id or group.leader_id not in group.members:
            group.leader_id = new_id if group.leader_id not in group.members else group.leader_id
        if group.state is GroupState.STABLE and unchanged:
            self._persist(now_ms, group)
            back = JoinReply(
                group.group_id,
                new_id,
                ErrorCode.NONE,
                group.generation_id,
                group.protocol_type,
                group.protocol_name,
                group.leader_id or "",
            )
            return [*fenced, back]
        return fenced + self._rejoin(now_ms, group, old)

    def _add_member(
        self, now_ms: int, group: Group, request: JoinRequest, member_id: str
    ) -> list[Reply]:
        group.members[member_id] = Member(
            member_id,
            request.group_instance_id,
            request.client_id,
            request.client_host,
            request.session_timeout_ms,
            request.rebalance_timeout_ms,
            list(request.protocols),
            now_ms,
        )
        group.protocol_type = request.protocol_type
        if group.state is GroupState.EMPTY:
            group.initial_until_ms = now_ms + self.initial_delay_ms
        return self._rejoin(now_ms, group, group.members[member_id])

    def _rejoin(self, now_ms: int, group: Group, member: Member) -> list[Reply]:
        member.awaiting_join = True
        member.last_heartbeat_ms = now_ms
        replies = self._prepare_rebalance(now_ms, group)
        return replies + self._maybe_complete_join(now_ms, group)

    def _prepare_rebalance(self, now_ms: int, group: Group) -> list[Reply]:
        """Move to PreparingRebalance; members waiting in SyncGroup learn of it."""
        if group.state is GroupState.PREPARING_REBALANCE:
            return []
        replies: list[Reply] = [
            SyncReply(group.group_id, m.member_id, ErrorCode.REBALANCE_IN_PROGRESS)
            for m in self._stop_waiting(group)
        ]
        group.assignment_pending = 0
        group.state = GroupState.PREPARING_REBALANCE
        timeout = max((m.rebalance_timeout_ms for m in group.members.values()), default=0)
        group.join_deadline_ms = now_ms + timeout
        return replies

    def _maybe_complete_join(self, now_ms: int, group: Group) -> list[Reply]:
        if group.state is not GroupState.PREPARING_REBALANCE:
            return []
        everyone = all(m.awaiting_join for m in group.members.values())
        delayed = now_ms < group.initial_until_ms and now_ms < group.join_deadline_ms
        if (everyone and not delayed) or now_ms >= group.join_deadline_ms:
            return self._complete_join(now_ms, group)
        return []

    def _complete_join(self, now_ms: int, group: Group) -> list[Reply]:
        for member_id in [m for m, member in group.members.items() if not member.awaiting_join]:
            del group.members[member_id]  # did not rejoin in time
        group.generation_id += 1
        if not group.members:
            group.state, group.leader_id, group.protocol_name = GroupState.EMPTY, None, None
            self._persist(now_ms, group)
            return []
        group.protocol_name = _select_protocol(group.members.values())
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.state = GroupState.COMPLETING_REBALANCE
        everyone = tuple(
            (m.member_id, m.group_instance_id, dict(m.protocols)[group.protocol_name])
            for m in group.members.values()
        )
        replies: list[Reply] = []
        for member in group.members.values():
            member.awaiting_join = False
            replies.append(
                JoinReply(
                    group.group_id,
                    member.member_id,
                    ErrorCode.NONE,
                    group.generation_id,
                    group.protocol_type,
                    group.protocol_name,
                    group.leader_id,
                    everyone if member.member_id == group.leader_id else (),
                )
            )
        return replies

    @staticmethod
    def _join_error(request: JoinRequest, code: ErrorCode) -> JoinReply:
        """A refusal, addressed to the member id the caller waits under (a new member's
        chosen id when it has none yet); the handler echoes the request's own."""
        return JoinReply(request.group_id, request.member_id or request.new_member_id, code)

    # -- SyncGroup, Heartbeat, LeaveGroup ---------------------------------------------

    def sync(
        self,
        now_ms: int,
        group_id: str,
        member_id: str,
        generation_id: int,
        assignments: Sequence[tuple[str, bytes]],
        instance_id: str | None = None,
    ) -> list[Reply]:
        """SyncGroup: the leader's assignment is written first (see `persisted`); until
        then every member's request waits, the leader's included."""
        group = self.groups.get(group_id)
        code = _membership(group, member_id, instance_id)
        if group is None or code:
            return [SyncReply(group_id, member_id, code or ErrorCode.UNKNOWN_MEMBER_ID)]
        member = group.members[member_id]
        if generation_id != group.generation_id:
            return [SyncReply(group_id, member_id, ErrorCode.ILLEGAL_GENERATION)]
        member.last_heartbeat_ms = now_ms
        if group.state is GroupState.PREPARING_REBALANCE:
            return [SyncReply(group_id, member_id, ErrorCode.REBALANCE_IN_PROGRESS)]
        if group.state is GroupState.STABLE:
            return [self._assignment_reply(group, member)]
        member.awaiting_sync = True
        if member_id != group.leader_id or group.assignment_pending:
            return []
        given = dict(assignments)
        for target, m in group.members.items():
            m.assignment = given.get(target, b"")  # none from the leader: none at all
        self._persist(now_ms, group)
        group.assignment_pending = self.emitted
        return []

    @staticmethod
    def _assignment_reply(group: Group, member: Member) -> SyncReply:
        return SyncReply(
            group.group_id,
            member.member_id,
            ErrorCode.NONE,
            member.assignment,
            group.protocol_type,
            group.protocol_name,
        )

    def heartbeat(
        self,
        now_ms: int,
        group_id: str,
        member_id: str,
        generation_id: int,
        instance_id: str | None = None,
    ) -> ErrorCode:
        group = self.groups.get(group_id)
        code = _membership(group, member_id, instance_id)
        if group is None or code:
            return code or ErrorCode.UNKNOWN_MEMBER_ID
        if generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        group.members[member_id].last_heartbeat_ms = now_ms
        if group.state is GroupState.PREPARING_REBALANCE:
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    def leave(
        self, now_ms: int, group_id: str, leaving: Sequence[tuple[str, str | None]]
    ) -> tuple[list[ErrorCode], list[Reply]]:
        """An error code per leaving (member id, group instance id), and the replies the
        departures complete. A static member may leave by its instance id alone (member
        id ""); with both, they must match (FENCED_INSTANCE_ID otherwise)."""
        group = self.groups.get(group_id)
        codes, replies = [], []
        for member_id, instance_id in leaving:
            code, member = ErrorCode.UNKNOWN_MEMBER_ID, None
            if group is not None:
                code, member = _leaving_member(group, member_id, instance_id)
            if member is not None and group is not None:
                replies += _dismiss(group, member, ErrorCode.UNKNOWN_MEMBER_ID)
                del group.members[member.member_id]
            codes.append(code)
        if group and ErrorCode.NONE in codes:
            replies += self._after_departure(now_ms, group)
        return codes, replies

    def _after_departure(self, now_ms: int, group: Group) -> list[Reply]:
        if not group.members:
            replies = self._prepare_rebalance(now_ms, group)
            group.state, group.leader_id, group.protocol_name = GroupState.EMPTY, None, None
            group.generation_id += 1
            self._persist(now_ms, group)
            return replies
        return self._prepare_rebalance(now_ms, group) + self._maybe_complete_join(now_ms, group)

    # -- time ------------------------------------------------------------------------

    def tick(self, now_ms: int) -> list[Reply]:
        """Expire silent members and complete rebalances whose time has come."""
        replies: list[Reply] = []
        for group in list(self.groups.values()):
            expired = [
                m
                for m in group.members.values()
                if not m.awaiting_join and now_ms - m.last_heartbeat_ms > m.session_timeout_ms
            ]
            for member in expired:
                replies += _dismiss(group, member, ErrorCode.UNKNOWN_MEMBER_ID)
                del group.members[member.member_id]
            if expired:
                replies += self._after_departure(now_ms, group)
            replies += self._maybe_complete_join(now_ms, group)
        return replies

    # -- tooling ---------------------------------------------------------------------

    def describe(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def subscribed_topics(self, group_id: str) -> set[str]:
        """Topics the members of a consumer group subscribe to (from their consumer-protocol
        metadata: version int16, topics [int16-length strings]); unreadable metadata
        counts as subscribed to everything ("*")."""
        group = self.groups.get(group_id)
        if group is None or group.protocol_type != "consumer":
            return set()
        topics: set[str] = set()
        for member in group.members.values():
            topics |= _subscription(dict(member.protocols).get(group.protocol_name or "", b""))
        return topics

    def remove_empty(self, now_ms: int, group_id: str) -> ErrorCode:
        """Forget a group without members (DeleteGroups, expiry); NON_EMPTY_GROUP otherwise."""
        group = self.groups.get(group_id)
        if group is not None and group.members:
            return ErrorCode.NON_EMPTY_GROUP
        if self.groups.pop(group_id, None) is not None:
            self._emit(Record(0, now_ms, encode_group_key(group_id), None))
        return ErrorCode.NONE

    def check_commit(
        self, group_id: str, member_id: str, generation_id: int, instance_id: str | None = None
    ) -> ErrorCode:
        """Whether an OffsetCommit with this generation may be applied (0) or its error.

        A commit from outside the group (no member id, generation -1, as admin clients
        and consumers that assign partitions themselves send) is refused with
        UNKNOWN_MEMBER_ID while the group has members: Kafka checks membership first."""
        group = self.groups.get(group_id)
        if generation_id < 0 and not member_id:
            empty = group is None or not group.members
            return ErrorCode.NONE if empty else ErrorCode.UNKNOWN_MEMBER_ID
        if group is None:
            return ErrorCode.ILLEGAL_GENERATION  # a generation of a group this node does not know
        code = _membership(group, member_id, instance_id)
        if code:
            return code
        if generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        if group.state is GroupState.COMPLETING_REBALANCE:
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE


def _snapshot(group: Group, now_ms: int) -> GroupSnapshot:
    protocol = group.protocol_name or ""
    members = tuple(
        MemberSnapshot(
            m.member_id,
            m.group_instance_id,
            m.client_id,
            m.client_host,
            m.rebalance_timeout_ms,
            m.session_timeout_ms,
            dict(m.protocols).get(protocol, b""),
            m.assignment,
        )
        for m in group.members.values()
    )
    return GroupSnapshot(
        group.protocol_type or "",
        group.generation_id,
        group.protocol_name,
        group.leader_id,
        now_ms,
        members,
    )


def _restore(group_id: str, snapshot: GroupSnapshot, now_ms: int) -> Group:
    """The group a snapshot describes: Stable with its members, or Empty; every
    member's session starts now."""
    members = {
        m.member_id: Member(
            m.member_id,
            m.group_instance_id,
            m.client_id,
            m.client_host,
            m.session_timeout_ms,
            m.rebalance_timeout_ms,
            [(snapshot.protocol_name or "", m.subscription)],
            now_ms,
            m.assignment,
        )
        for m in snapshot.members
    }
    return Group(
        group_id,
        GroupState.STABLE if members else GroupState.EMPTY,
        snapshot.generation_id,
        snapshot.protocol_type or None,
        snapshot.protocol_name if members else None,
        snapshot.leader_id if members else None,
        members,
    )


def _subscription(metadata: bytes) -> set[str]:
    try:
        (count,) = struct.unpack_from(">i", metadata, 2)
        position, topics = 6, set()
        for _ in range(count):
            (length,) = struct.unpack_from(">h", metadata, position)
            topics.add(metadata[position + 2 : position + 2 + length].decode())
            position += 2 + length
        return topics
    except (struct.error, UnicodeDecodeError):
        return {"*"}


def _leaving_member(
    group: Group, member_id: str, instance_id: str | None
) -> tuple[ErrorCode, Member | None]:
    static = _static_member(group, instance_id)
    if static is not None:
        fenced = bool(member_id) and member_id != static.member_id
        return (ErrorCode.FENCED_INSTANCE_ID, None) if fenced else (ErrorCode.NONE, static)
    member = group.members.get(member_id)
    return (ErrorCode.NONE, member) if member is not None else (ErrorCode.UNKNOWN_MEMBER_ID, None)


def _dismiss(group: Group, member: Member, code: ErrorCode) -> list[Reply]:
    """Answer `code` to the JoinGroup or SyncGroup the member is waiting in (it is being
    replaced or removed: nothing else would answer it)."""
    replies: list[Reply] = []
    if member.awaiting_join:
        replies.append(JoinReply(group.group_id, member.member_id, code))
    if member.awaiting_sync:
        replies.append(SyncReply(group.group_id, member.member_id, code))
    member.awaiting_join = member.awaiting_sync = False
    return replies


def _membership(group: Group | None, member_id: str, instance_id: str | None) -> ErrorCode:
    """Kafka's member check: FENCED_INSTANCE_ID when the instance id now belongs to
    another member id (a newer instance took its place), UNKNOWN_MEMBER_ID when the
    member id is not in the group, else NONE."""
    if group is None:
        return ErrorCode.UNKNOWN_MEMBER_ID
    static = _static_member(group, instance_id)
    if static is not None and static.member_id != member_id:
        return ErrorCode.FENCED_INSTANCE_ID
    return ErrorCode.NONE if member_id in group.members else ErrorCode.UNKNOWN_MEMBER_ID


def _static_member(group: Group, instance_id: str | None) -> Member | None:
    if instance_id is None:
        return None
    return next((m for m in group.members.values() if m.group_instance_id == instance_id), None)


def _common_protocols(members: Iterable[Member]) -> set[str]:
    sets = [{name for name, _ in m.protocols} for m in members]
    return set.intersection(*sets) if sets else set()


def _select_protocol(members: Iterable[Member]) -> str:
    """Kafka's vote: each member votes for its first protocol that every member supports."""
    voters = list(members)
    common = _common_protocols(voters)
    votes = Counter(next(name for name, _ in m.protocols if name in common) for m in voters)
    winner: str = votes.most_common(1)[0][0]
    return winner
