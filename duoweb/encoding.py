"""JSON encoding of handler results with msgspec, including pydantic models when present."""

from __future__ import annotations

from typing import Any

import msgspec


def _encode_extra(value: object) -> Any:
    """Msgspec's hook for types it does not know: pydantic models dump themselves."""
    dump = getattr(value, "model_dump", None)
    if dump is not None and hasattr(type(value), "__pydantic_serializer__"):
        return dump(mode="json")
    raise NotImplementedError(f"cannot encode {type(value).__name__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_encode_extra)

#: Encode any msgspec-supported value, dataclass, Struct or pydantic model to JSON bytes.
json_encode = _encoder.encode
