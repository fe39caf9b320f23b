"""Steps of the group protocol as the broker's GroupService takes them, for the
coordinator's tests (imported by name: pytest puts this directory on the path)."""

from __future__ import annotations

from luong.coordinator.groups import GroupCoordinator, Reply


def sync(
    coordinator: GroupCoordinator,
    now: int,
    group: str,
    member: str,
    generation: int,
    assignments: list[tuple[str, bytes]],
) -> list[Reply]:
    """SyncGroup as the GroupService runs it: the call, then its records made durable."""
    replies = coordinator.sync(now, group, member, generation, assignments)
    return replies + coordinator.persisted(now, coordinator.emitted)
