"""Property test of the group coordinator: random joins, rejoins, syncs, heartbeats,
leaves, commits, session timeouts and coordinator restarts (a replay of the records
written so far) driven by simulated clients.

Invariants:
- no partition is handed to two owners (a static member's instance id, otherwise
  its member id) in one generation;
- a commit is accepted only from a current member in the group's generation;
- replaying every record written so far rebuilds each Stable or Empty group exactly
  (members, generation, leader, protocol, assignments and subscriptions).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from luong.coordinator.groups import (
    Group,
    GroupCoordinator,
    GroupState,
    JoinReply,
    JoinRequest,
    Reply,
    SyncReply,
)
from luong.protocol.records import Record

GROUP = "g"
PARTITIONS = 6
CLIENTS = 5
STATIC = {3: "static-3", 4: "static-4"}  # clients with a group.instance.id
SESSION_MS = 1_000


@dataclass
class Client:
    """What a real client remembers: its member id and the last generation it joined."""

    index: int
    member_id: str = ""
    generation: int = -1
    leader_of: tuple[str, ...] = ()  # members to assign, when it leads `generation`
    owned: frozenset[int] = frozenset()
    synced: int = -1  # the generation whose assignment it holds
    waiting: bool = False  # a JoinGroup or SyncGroup of its is parked

    @property
    def owner(self) -> str:
        return STATIC.get(self.index, self.member_id)


@dataclass
class Model:
    clients: list[Client] = field(default_factory=lambda: [Client(i) for i in range(CLIENTS)])
    owners: dict[int, dict[int, str]] = field(default_factory=dict)  # generation -> owners


def encode_assignment(partitions: list[int]) -> bytes:
    return struct.pack(f">i{len(partitions)}i", len(partitions), *partitions)


def decode_assignment(data: bytes) -> list[int]:
    if not data:
        return []
    (count,) = struct.unpack_from(">i", data)
    return list(struct.unpack_from(f">{count}i", data, 4))


class CoordinatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.coordinator = GroupCoordinator(initial_delay_ms=0)
        self.model = Model()
        self.records: list[Record] = []
        self.now = 0
        self.ids = 0
        self.new_ids: dict[str, Client] = {}  # member ids offered to joining clients

    # -- client actions --------------------------------------------------------------

    @rule(index=st.integers(0, CLIENTS - 1), kip394=st.booleans())
    def join(self, index: int, kip394: bool) -> None:
        client = self.model.clients[index]
        self.ids += 1
        request = JoinRequest(
            GROUP,
            client.member_id,
            STATIC.get(index),
            f"client-{index}",
            "host",
            SESSION_MS,
            2 * SESSION_MS,
            "consumer",
            [("range", b"sub-%d" % index)],
            kip394,
            f"m{self.ids}",
        )
        self.new_ids[request.new_member_id] = client
        client.waiting = True
        self.deliver(self.coordinator.join(self.now, request))

    @rule(index=st.integers(0, CLIENTS - 1), omit=st.integers(0, 2))
    def sync(self, index: int, omit: int = 0) -> None:
        """SyncGroup; a leader assigns the partitions round-robin over the members it
        was given, leaving the last `omit` of them without any (as for members not
        subscribed to the topic)."""
        client = self.model.clients[index]
        members = list(client.leader_of)[: max(1, len(client.leader_of) - omit)]
        assignments = [
            (member, encode_assignment(list(range(i, PARTITIONS, len(members)))))
            for i, member in enumerate(members)
        ]
        client.waiting = True
        self.deliver(
            self.coordinator.sync(self.now, GROUP, client.member_id, client.generation, assignments)
        )

    @rule(index=st.integers(0, CLIENTS - 1))
    def heartbeat(self, index: int) -> None:
        client = self.model.clients[index]
        code = self.coordinator.heartbeat(self.now, GROUP, client.member_id, client.generation)
        if code == 25:  # UNKNOWN_MEMBER_ID: start over
            client.member_id, client.generation, client.synced = "", -1, -1
        elif code in (22, 27):  # ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS: rejoin
            client.synced = -2

    @rule(order=st.permutations(range(CLIENTS)), active=st.sets(st.integers(0, CLIENTS - 1)))
    def progress(self, order: list[int], active: set[int]) -> None:
        """The `active` clients each take their next step, as a running consumer would:
        join, sync the generation it joined, or heartbeat (and rejoin when told to)."""
        for index in (i for i in order if i in active):
            client = self.model.clients[index]
            if client.waiting:
                continue
            if client.generation < 0 or client.synced == -2:
                self.join(index, kip394=index % 2 == 0)
            elif client.synced != client.generation:
                self.sync(index, omit=client.generation % 2)
            else:
                self.heartbeat(index)

    @rule(index=st.integers(0, CLIENTS - 1), by_instance=st.booleans())
    def leave(self, index: int, by_instance: bool) -> None:
        client = self.model.clients[index]
        instance = STATIC.get(index) if by_instance else None
        member_id = "" if instance else client.member_id
        _, replies = self.coordinator.leave(self.now, GROUP, [(member_id, instance)])
        self.deliver(replies)
        client.member_id, client.generation, client.leader_of = "", -1, ()
        client.synced, client.waiting = -1, False

    @rule(index=st.integers(0, CLIENTS - 1))
    def commit(self, index: int) -> None:
        client = self.model.clients[index]
        code = self.coordinator.check_commit(GROUP, client.member_id, client.generation)
        if code == 0 and client.generation >= 0:
            group = self.coordinator.groups[GROUP]
            assert client.member_id in group.members
            assert client.generation == group.generation_id
            assert group.state in (GroupState.STABLE, GroupState.PREPARING_REBALANCE)

    # -- time and failures -----------------------------------------------------------

    @rule(ms=st.sampled_from([1, 100, 600, 1_100, 2_500]))
    def advance(self, ms: int) -> None:
        self.now += ms
        self.deliver(self.coordinator.tick(self.now))

    @rule()
    def restart(self) -> None:
        """The coordinator crashes and a new one replays the records written so far."""
        self.collect()
        self.coordinator = GroupCoordinator(initial_delay_ms=0)
        self.coordinator.replay(self.records, self.now)

    # -- bookkeeping -----------------------------------------------------------------

    def collect(self) -> None:
        self.records += self.coordinator.take_records()

    def deliver(self, replies: list[Reply]) -> None:
        """Hand each reply to its client, as the network would, once the records are
        written (as the GroupService does: what waited for them comes out then)."""
        taken = self.coordinator.take_records()
        self.records += taken
        if taken:
            replies = replies + self.coordinator.persisted(self.now, self.coordinator.emitted)
        for reply in replies:
            client = self.client_with(reply.member_id)
            if client is None:
                continue
            client.waiting = False
            if isinstance(reply, JoinReply):
                self.on_join(client, reply)
            elif isinstance(reply, SyncReply) and reply.error_code == 0:
                event(f"assignment delivered in generation {min(client.generation, 5)}+")
                self.on_assignment(client, decode_assignment(reply.assignment))
                client.synced = client.generation
            elif isinstance(reply, SyncReply):
                client.synced = -2 if reply.error_code in (22, 27) else client.synced
                if reply.error_code == 25:
                    client.member_id, client.generation, client.synced = "", -1, -1

    def client_with(self, member_id: str) -> Client | None:
        by_id = [c for c in self.model.clients if c.member_id == member_id]
        return by_id[0] if by_id else self.new_ids.get(member_id)

    def on_join(self, client: Client, reply: JoinReply) -> None:
        if reply.error_code == 79:  # MEMBER_ID_REQUIRED: rejoin with this id
            client.member_id = reply.member_id
        elif reply.error_code == 0:
            client.member_id, client.generation = reply.member_id, reply.generation_id
            client.leader_of = tuple(m for m, _, _ in reply.members)
            client.synced = -1
        else:
            client.member_id, client.generation, client.leader_of = "", -1, ()
            client.synced = -1

    def on_assignment(self, client: Client, partitions: list[int]) -> None:
        owners = self.model.owners.setdefault(client.generation, {})
        for partition in partitions:
            previous = owners.setdefault(partition, client.owner)
            assert previous == client.owner, (
                f"partition {partition} owned by {previous} and {client.owner} "
                f"in generation {client.generation}"
            )
        client.owned = frozenset(partitions)

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def replay_rebuilds_settled_groups(self) -> None:
        self.collect()
        rebuilt = GroupCoordinator()
        rebuilt.replay(self.records, self.now)
        live = self.coordinator.groups.get(GROUP)
        settled = live is not None and live.state in (GroupState.STABLE, GroupState.EMPTY)
        if live is None or (settled and live.generation_id == 0):
            assert GROUP not in rebuilt.groups
        elif settled:
            event(f"replay compared: {live.state.value} with {len(live.members)} members")
            assert durable_view(rebuilt.groups[GROUP]) == durable_view(live)


def durable_view(group: Group) -> tuple[object, ...]:
    protocol = group.protocol_name or ""
    members = {
        m.member_id: (
            m.group_instance_id,
            m.client_id,
            m.client_host,
            m.session_timeout_ms,
            m.rebalance_timeout_ms,
            m.assignment,
            dict(m.protocols).get(protocol),
        )
        for m in group.members.values()
    }
    return (
        group.state,
        group.generation_id,
        group.protocol_type,
        group.protocol_name,
        group.leader_id,
        members,
    )


CoordinatorMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCoordinator = CoordinatorMachine.TestCase
