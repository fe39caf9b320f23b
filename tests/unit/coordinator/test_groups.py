"""The classic group protocol as a state machine, driven by a manual clock."""

from __future__ import annotations

from group_steps import sync

from luong.coordinator.groups import (
    GroupCoordinator,
    GroupState,
    JoinReply,
    JoinRequest,
    SyncReply,
)

RANGE = [("range", b"meta")]


def join_request(
    member_id: str = "",
    new_id: str = "",
    *,
    session_ms: int = 10_000,
    protocols: list[tuple[str, bytes]] | None = None,
    v4: bool = True,
) -> JoinRequest:
    return JoinRequest(
        "g",
        member_id,
        None,
        "client",
        "host",
        session_ms,
        20_000,
        "consumer",
        protocols or RANGE,
        v4,
        new_id,
    )


def joined(coordinator: GroupCoordinator, now: int, member: str) -> list[object]:
    """A member joins the KIP-394 way: MEMBER_ID_REQUIRED, then again with its id."""
    [first] = coordinator.join(now, join_request(new_id=member))
    assert isinstance(first, JoinReply) and first.error_code == 79 and first.member_id == member
    return list(coordinator.join(now, join_request(member)))


def test_one_member_becomes_leader_of_generation_1() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    [reply] = joined(coordinator, 0, "a")
    assert isinstance(reply, JoinReply)
    assert (reply.error_code, reply.generation_id, reply.leader_id) == (0, 1, "a")
    assert reply.protocol_name == "range" and [m[0] for m in reply.members] == ["a"]
    [synced] = sync(coordinator, 1, "g", "a", 1, [("a", b"assignment-a")])
    assert synced == SyncReply("g", "a", 0, b"assignment-a", "consumer", "range")
    assert coordinator.groups["g"].state is GroupState.STABLE


def test_a_second_member_makes_everyone_rejoin_and_sync() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    joined(coordinator, 0, "a")
    sync(coordinator, 0, "g", "a", 1, [("a", b"all")])
    assert joined(coordinator, 10, "b") == []  # waits for "a" to rejoin
    assert coordinator.heartbeat(20, "g", "a", 1) == 27  # REBALANCE_IN_PROGRESS
    replies = coordinator.join(30, join_request("a"))
    by_member = {r.member_id: r for r in replies if isinstance(r, JoinReply)}
    assert set(by_member) == {"a", "b"}
    assert all(r.generation_id == 2 for r in by_member.values())
    assert len(by_member["a"].members) == 2 and by_member["b"].members == ()  # a leads
    assert sync(coordinator, 40, "g", "b", 2, []) == []  # waits for the leader
    synced = sync(coordinator, 41, "g", "a", 2, [("a", b"p0"), ("b", b"p1")])
    assert {(r.member_id, r.assignment) for r in synced} == {("a", b"p0"), ("b", b"p1")}


def test_a_silent_member_is_removed_after_its_session_timeout() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    joined(coordinator, 0, "a")
    sync(coordinator, 0, "g", "a", 1, [])
    assert coordinator.tick(9_000) == []
    coordinator.tick(10_001)
    group = coordinator.groups["g"]
    assert group.members == {} and group.state is GroupState.EMPTY
    assert coordinator.heartbeat(10_002, "g", "a", 1) == 25  # UNKNOWN_MEMBER_ID


def test_members_that_do_not_rejoin_are_dropped_at_the_rebalance_deadline() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    joined(coordinator, 0, "a")
    sync(coordinator, 0, "g", "a", 1, [])
    joined(coordinator, 100, "b")  # "a" never rejoins
    coordinator.heartbeat(5_000, "g", "a", 1)  # still alive, but not rejoining
    replies = coordinator.tick(20_100)  # the rebalance timeout (20 s) has passed
    [reply] = [r for r in replies if isinstance(r, JoinReply)]
    assert (reply.member_id, reply.generation_id, reply.leader_id) == ("b", 2, "b")
    assert list(coordinator.groups["g"].members) == ["b"]


def test_the_initial_delay_gathers_members_into_one_rebalance() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=3_000)
    assert joined(coordinator, 0, "a") == []
    assert joined(coordinator, 1_000, "b") == []
    replies = coordinator.tick(3_001)
    assert {r.member_id for r in replies} == {"a", "b"}
    assert {r.generation_id for r in replies if isinstance(r, JoinReply)} == {1}


def test_fencing_and_errors() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    [unknown] = coordinator.join(0, join_request("ghost"))
    assert isinstance(unknown, JoinReply) and unknown.error_code == 25
    joined(coordinator, 0, "a")
    [stale] = sync(coordinator, 1, "g", "a", 7, [])
    assert isinstance(stale, SyncReply) and stale.error_code == 22  # ILLEGAL_GENERATION
    [other] = coordinator.join(2, join_request(new_id="x", protocols=[("roundrobin", b"")]))
    assert isinstance(other, JoinReply) and other.error_code == 23  # INCONSISTENT
    assert coordinator.check_commit("g", "a", 1) == 27  # syncing: REBALANCE_IN_PROGRESS
    sync(coordinator, 3, "g", "a", 1, [])
    assert coordinator.check_commit("g", "a", 1) == 0
    assert coordinator.check_commit("g", "a", 0) == 22
    assert coordinator.check_commit("g", "", -1) == 25  # from outside, but members exist
    assert coordinator.check_commit("empty-group", "", -1) == 0


def test_leaving_rebalances_the_rest() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    joined(coordinator, 0, "a")
    sync(coordinator, 0, "g", "a", 1, [])
    joined(coordinator, 1, "b")
    coordinator.join(2, join_request("a"))
    sync(coordinator, 3, "g", "a", 2, [])
    codes, replies = coordinator.leave(4, "g", [("b", None), ("nobody", None)])
    assert codes == [0, 25]
    assert coordinator.groups["g"].state is GroupState.PREPARING_REBALANCE
    replies = coordinator.join(5, join_request("a"))
    assert [(r.member_id, r.generation_id) for r in replies] == [("a", 3)]


def test_a_full_group_refuses_new_members() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0, max_size=1)
    joined(coordinator, 0, "a")
    [refused] = coordinator.join(1, join_request(new_id="b"))
    assert isinstance(refused, JoinReply) and refused.error_code == 81  # GROUP_MAX_SIZE_REACHED


def static_request(instance: str, new_id: str, member_id: str = "") -> JoinRequest:
    return JoinRequest(
        "g", member_id, instance, "client", "host", 10_000, 20_000, "consumer", RANGE, True, new_id
    )


def test_a_restarted_static_member_gets_its_place_back_without_a_rebalance() -> None:
    coordinator = GroupCoordinator(initial_delay_ms=0)
    coordinator.join(0, static_request("i-a", "a1"))
    coordinator.join(0, static_request("i-b", "b1"))
    replies = coordinator.join(1, static_request("i-a", "", "a1"))  # a rejoins: both in
    generation = max(r.generation_id for r in replies if isinstance(r, JoinReply))
    sync(coordinator, 2, "g", "b1", generation, [])
    leader = coordinator.groups["g"].leader_id
    sync(coordinator, 2, "g", leader or "", generation, [("a1", b"A"), ("b1", b"B")])
    assert coordinator.groups["g"].state is GroupState.STABLE
    [back] = coordinator.join(5, static_request("i-a", "a2"))  # a restarted, new process
    assert isinstance(back, JoinReply)
    assert (back.error_code, back.member_id, back.generation_id) == (0, "a2", generation)
    assert coordinator.groups["g"].state is GroupState.STABLE  # no rebalance
    [synced] = sync(coordinator, 6, "g", "a2", generation, [])
    assert isinstance(synced, SyncReply) and synced.assignment == b"A"
    assert coordinator.heartbeat(7, "g", "a1", generation) == 25  # the old id is fenced
    assert coordinator.heartbeat(7, "g", "b1", generation) == 0


def test_requests_of_a_replaced_or_departed_member_are_answered() -> None:
    """Nothing else would answer them: a replaced static member's SyncGroup gets
    FENCED_INSTANCE_ID, a leaving member's JoinGroup UNKNOWN_MEMBER_ID."""
    coordinator = GroupCoordinator(initial_delay_ms=0)
    coordinator.join(0, static_request("i-a", "a1"))
    coordinator.join(0, static_request("i-b", "b1"))
    replies = coordinator.join(1, static_request("i-a", "", "a1"))
    generation = max(r.generation_id for r in replies if isinstance(r, JoinReply))
    follower = "b1" if coordinator.groups["g"].leader_id == "a1" else "a1"
    instance = "i-b" if follower == "b1" else "i-a"
    assert coordinator.sync(2, "g", follower, generation, []) == []  # waits for the leader
    replies = coordinator.join(3, static_request(instance, "new"))
    assert SyncReply("g", follower, 82) in replies  # FENCED_INSTANCE_ID
    waiting = coordinator.join(4, static_request(instance, "", "new"))  # waits for the other
    assert waiting == []
    _, left = coordinator.leave(5, "g", [("new", instance)])
    assert JoinReply("g", "new", 25) in left  # UNKNOWN_MEMBER_ID
