"""The `luong` command: the composition root."""

__all__: list[str] = []
