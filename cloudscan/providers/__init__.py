"""Provider adapters: enumerate and normalise resources. They read, never write, never judge."""

from __future__ import annotations

from cloudscan.providers.permissions import Table


class ReadsFields:
    """What a live scope shares: `fields` maps a kind to the blocks its enabled policies read
    (None: everything); a kind absent is not read at all."""

    fields: dict[str, frozenset[str]] | None

    def wants(self, kind: str) -> bool:
        return self.fields is None or kind in self.fields

    def fields_of(self, kind: str, every: tuple[str, ...]) -> frozenset[str]:
        return frozenset(every) if self.fields is None else self.fields.get(kind, frozenset())

    def makes(self, table: Table, call: str) -> bool:
        """Whether the cloud's permission table says the enabled policies need `call`."""
        return call in table.calls_for(self.fields)
