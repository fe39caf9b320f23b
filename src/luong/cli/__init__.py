"""The `luong` command: the composition root."""
