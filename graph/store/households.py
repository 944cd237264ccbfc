"""Households: which profiles (and shared devices) share a home, with lineage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graph.store.records import Identifier
from graph.store.runner import StoreRunner, chunks

__all__ = ["HouseholdRepository"]


class HouseholdRepository(StoreRunner):
    """Households (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "clear_profile_households",
        "current_households",
        "household",
        "identifier_household",
        "retire_households",
        "save_households",
        "set_device_households",
        "set_profile_households",
    )

    def current_households(self) -> dict[str, str]:
        """Active profile -> its household ID."""
        return {str(pid): str(hid) for pid, hid in self._read("current_households")}

    def write_households(
        self,
        households: Mapping[str, Sequence[str]],
        devices: Mapping[str, Sequence[Identifier]],
        homes: Mapping[str, Sequence[str]],
        *,
        retired: Mapping[str, str | None],
        split_from: Mapping[str, str],
        now: int,
    ) -> None:
        """Replace every household assignment with this plan (profiles, shared
        devices, household nodes; retired households point to their successor)."""
        self._write("clear_profile_households")
        rows = [{"profile_id": pid, "household_id": hid, "size": len(pids)}
                for hid, pids in households.items() for pid in pids]  # fmt: skip
        for chunk in chunks(rows, 5000):
            self._write("set_profile_households", {"rows": chunk})
        device_rows = [{"type": d.type, "value": d.value, "household_id": hid}
                       for hid, ds in devices.items() for d in ds]  # fmt: skip
        for chunk in chunks(device_rows, 5000):
            self._write("set_device_households", {"rows": chunk})
        nodes = [
            {"household_id": hid, "size": len(pids), "homes": len(homes.get(hid, ())),
             "split_from": split_from.get(hid)}
            for hid, pids in households.items()
        ]  # fmt: skip
        for chunk in chunks(nodes, 5000):
            self._write("save_households", {"rows": chunk, "now": now})
        gone = [{"household_id": hid, "merged_into": into} for hid, into in retired.items()]
        for chunk in chunks(gone, 5000):
            self._write("retire_households", {"rows": chunk, "now": now})

    def household(self, household_id: str) -> dict[str, Any] | None:
        rows = self._read("household", {"household_id": household_id})
        if not rows:
            return None
        props, profiles, devices = rows[0]
        return {
            **dict(props),
            "profiles": sorted(
                ({"profile_id": p, "size": int(n)} for p, n in profiles if p is not None),
                key=lambda p: (-p["size"], p["profile_id"]),
            ),
            "devices": sorted(Identifier(t, v) for t, v in devices if t is not None),
        }

    def identifier_household(self, identifier: Identifier) -> str | None:
        rows = self._read("identifier_household",
                          {"type": identifier.type, "value": identifier.value})  # fmt: skip
        return str(rows[0][0]) if rows and rows[0][0] is not None else None
