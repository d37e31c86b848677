"""The content sample every cloud's bucket reader takes: the likeliest imaging objects of one
listing page, their first bytes, and with `deep` their DICOM header. Bytes read are bounded
per bucket; object names are redacted unless asked, and header values never leave
dicom_header.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudscan.providers.dicom_header import (
    PREAMBLE_BYTES,
    identifying_tags,
    imaging_first,
    redact_key,
    sniff,
)

LIST_LIMIT = 1000  # one listing page: enough to prefer imaging-looking names


@dataclass(frozen=True)
class Sampling:
    """How much of each bucket's content to look at: `size` objects (0: none), their first
    132 bytes, and with `deep` a header prefix of `deep_bytes` parsed for identifying tags."""

    size: int = 5
    deep: bool = False
    deep_bytes: int = 64 * 1024
    show_keys: bool = False


class ReadFailed(Exception):
    """A read of the sample failed; the caller has recorded why."""


def sample_objects(
    sizes: dict[str, int | None], read_prefix: Callable[[str, int], bytes], sampling: Sampling
) -> tuple[dict[str, Any], list[str]]:
    """The `objects` block of a bucket from its listing (`name -> size`) and a reader of an
    object's first n bytes (which raises ReadFailed), with the names of the sampled objects."""
    items, names, total = [], [], 0
    for name in imaging_first(list(sizes))[: sampling.size]:
        body = read_prefix(name, PREAMBLE_BYTES)[:PREAMBLE_BYTES]
        total += len(body)
        dicom, preamble = sniff(body)
        phi, deidentified = None, None
        if dicom and sampling.deep:
            header = read_prefix(name, sampling.deep_bytes)[: sampling.deep_bytes]
            total += len(header)
            phi, deidentified = identifying_tags(header)
        names.append(name)
        items.append(
            {
                "key": shown_name(name, sampling),
                "size": sizes[name],
                "dicom": dicom,
                "preamble": preamble if dicom else None,
                "phi_tags": phi,
                "deidentified": deidentified,
            }
        )
    return {"listed": len(sizes), "sampled": len(items), "bytes_read": total, "items": items}, names


def shown_name(name: str, sampling: Sampling) -> str:
    """An object's name as reports show it: names often hold a patient's name or id."""
    return name if sampling.show_keys else redact_key(name)
