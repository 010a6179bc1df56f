"""JSON Schemas for the OpenAPI document, from msgspec's and pydantic's own generators.

Every type the document needs is requested first (``SchemaRegistry.schema`` hands back an
empty dict that is filled in later), then each generator runs once over all of its types, so
that shared models become one component. The two generators name components on their own;
``finish`` merges both namespaces into ``components/schemas`` so that two different classes
never share a name: a name claimed by two classes becomes ``module.qualname`` for each.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
import typing
from typing import TYPE_CHECKING, Any, Literal, cast

import msgspec

from duoweb.models import carries_pydantic
from duoweb.type_guards import is_dict, is_list

if TYPE_CHECKING:
    from pydantic import BaseModel

Mode = Literal["validation", "serialization"]
Schema = dict[str, Any]

#: Where every generated ``$ref`` points to.
REF_PREFIX = "#/components/schemas/"

logger = logging.getLogger("duoweb")

_UNSAFE = re.compile(r"[^a-zA-Z0-9.\-_]")
_PYDANTIC_SUFFIX = re.compile(r"(-Input|-Output)?(__\d+)?$")


def component_name(text: str) -> str:
    """``text`` with every character OpenAPI forbids in a component name replaced by ``_``."""
    return _UNSAFE.sub("_", text)


def full_name(cls: Any) -> str:
    """``module.qualname`` of ``cls`` as a component name (unique per class)."""
    origin = getattr(cls, "__origin__", cls)
    qualname = getattr(origin, "__qualname__", getattr(origin, "__name__", repr(origin)))
    name = f"{getattr(origin, '__module__', '')}.{qualname}"
    args = getattr(cls, "__args__", None)
    if args and origin is not cls:
        name += "[" + ", ".join(getattr(a, "__name__", repr(a)) for a in args) + "]"
    return component_name(name)


class _Framework:
    """The "class" of duoweb's own components: never equal to a user's class."""


@dataclasses.dataclass
class _Side:
    """One generator's output: raw component names -> schema and the class each came from."""

    label: str
    components: dict[str, Schema]
    classes: dict[str, Any]
    roots: list[tuple[Schema, Schema]]  # (placeholder, generated root schema)


class SchemaRegistry:
    """Collects every type the document needs, then generates all their schemas at once."""

    def __init__(self) -> None:
        self._requests: list[tuple[Any, Mode, Schema]] = []
        self._framework: dict[str, Schema] = {}
        self._extras: list[tuple[Schema, Schema]] = []

    def schema(
        self, annotation: Any, mode: Mode = "validation", extra: Schema | None = None
    ) -> Schema:
        """A dict that ``finish()`` fills with the JSON Schema of ``annotation`` (+ ``extra``).

        ``mode`` matters for pydantic models, whose input and output shapes may differ.
        """
        placeholder: Schema = {}
        self._requests.append((annotation, mode, placeholder))
        if extra:
            self._extras.append((placeholder, extra))
        return placeholder

    def framework_component(self, name: str, schema: Schema) -> Schema:
        """Register duoweb's own component ``name``; it keeps its name whatever users define."""
        self._framework[name] = schema
        return {"$ref": REF_PREFIX + name}

    def finish(self) -> dict[str, Schema]:
        """Fill every placeholder and return the merged ``components/schemas``, sorted."""
        msgspec_requests: list[tuple[Any, Schema]] = []
        pydantic_requests: list[tuple[Any, Mode, Schema]] = []
        for annotation, mode, placeholder in self._requests:
            if carries_pydantic(annotation):
                pydantic_requests.append((annotation, mode, placeholder))
            else:
                msgspec_requests.append((annotation, placeholder))
        framework = _Side(
            "duoweb",
            dict(self._framework),
            {name: _Framework for name in self._framework},
            [],
        )
        sides = [framework, _msgspec_side(msgspec_requests), _pydantic_side(pydantic_requests)]
        merged = _merge(sides)
        for placeholder, extra in self._extras:
            placeholder.update(extra)
        return merged


# --- msgspec -------------------------------------------------------------------------------


def _msgspec_side(requests: list[tuple[Any, Schema]]) -> _Side:
    usable: list[tuple[Any, Schema]] = []
    roots: list[tuple[Schema, Schema]] = []
    for annotation, placeholder in requests:
        try:
            msgspec.inspect.type_info(annotation)
        except Exception as exc:
            logger.warning(
                "OpenAPI: no JSON Schema for %r (%s); documented as any", annotation, exc
            )
            roots.append((placeholder, {}))
        else:
            usable.append((annotation, placeholder))
    if not usable:
        return _Side("msgspec", {}, {}, roots)
    types = [annotation for annotation, _ in usable]
    schemas, components = msgspec.json.schema_components(
        types, schema_hook=_any_custom_type, ref_template=REF_PREFIX + "{name}"
    )
    classes = _msgspec_classes(types, components)
    for info, schema in zip(msgspec.inspect.multi_type_info(types), schemas, strict=True):
        _add_formats(info, schema)
    for raw, cls in classes.items():
        info = msgspec.inspect.type_info(cls)
        if isinstance(info, _NAMED) and not getattr(info, "array_like", False):
            properties = components[raw].get("properties", {})
            for field in info.fields:
                _add_formats(field.type, properties.get(field.encode_name))
    roots.extend(
        (placeholder, schema) for (_, placeholder), schema in zip(usable, schemas, strict=True)
    )
    return _Side("msgspec", dict(components), classes, roots)


def _any_custom_type(cls: type) -> Schema:
    """A class msgspec has no schema for (it encodes it with a hook): documented as anything."""
    logger.warning("OpenAPI: no JSON Schema for %r; documented as any value", cls)
    return {"title": getattr(cls, "__name__", "value")}  # msgspec needs a non-empty schema


_NAMED = (
    msgspec.inspect.StructType,
    msgspec.inspect.TypedDictType,
    msgspec.inspect.DataclassType,
)


def _add_formats(info: Any, schema: Any) -> None:
    """Add the string formats msgspec leaves out because it also accepts naive values.

    msgspec documents a datetime that may lack a UTC offset as a bare string; clients and
    test generators then send any string. ``date-time`` (offset required) is a subset of what
    duoweb accepts, so every value the document promises is accepted.
    """
    if not is_dict(schema) or "$ref" in schema:
        return
    if isinstance(info, msgspec.inspect.Metadata):
        _add_formats(info.type, schema)
    elif isinstance(info, msgspec.inspect.DateTimeType | msgspec.inspect.TimeType):
        if schema.get("type") == "string" and "format" not in schema:
            is_time = isinstance(info, msgspec.inspect.TimeType)
            schema["format"] = "time" if is_time else "date-time"
    elif isinstance(info, msgspec.inspect.CollectionType):
        _add_formats(info.item_type, schema.get("items"))
    elif isinstance(info, msgspec.inspect.DictType):
        _add_formats(info.value_type, schema.get("additionalProperties"))
    elif isinstance(info, msgspec.inspect.UnionType):
        members = [m for m in info.types if not isinstance(m, msgspec.inspect.NoneType)]
        options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
        if len(members) == 1 and len(options) == 1:
            _add_formats(members[0], options[0])


def _msgspec_component_classes(types: list[Any]) -> list[Any]:
    """Every class msgspec makes a component of (Struct, dataclass, TypedDict, NamedTuple, Enum)."""
    found: dict[Any, None] = {}
    named = (*_NAMED, msgspec.inspect.NamedTupleType)

    def visit(info: Any) -> None:
        if isinstance(info, named):
            if info.cls not in found:
                found[info.cls] = None
                for field in info.fields:
                    visit(field.type)
        elif isinstance(info, msgspec.inspect.EnumType):
            found[info.cls] = None
        elif isinstance(info, msgspec.inspect.Metadata):
            visit(info.type)
        elif isinstance(info, msgspec.inspect.CollectionType):
            visit(info.item_type)
        elif isinstance(info, msgspec.inspect.TupleType):
            for item in info.item_types:
                visit(item)
        elif isinstance(info, msgspec.inspect.DictType):
            visit(info.key_type)
            visit(info.value_type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for member in info.types:
                visit(member)

    for info in msgspec.inspect.multi_type_info(types):
        visit(info)
    return list(found)


def _short_name(cls: Any) -> str:
    origin = getattr(cls, "__origin__", None)
    if origin is None:
        return component_name(cls.__name__)
    args = ", ".join(a.__name__ if isinstance(a, type) else repr(a) for a in cls.__args__)
    return component_name(f"{origin.__name__}[{args}]")


def _msgspec_classes(types: list[Any], components: dict[str, Any]) -> dict[str, Any]:
    """Which class each of msgspec's component names stands for (by its naming rule)."""
    classes = _msgspec_component_classes(types)
    shorts: dict[str, int] = {}
    for cls in classes:
        shorts[_short_name(cls)] = shorts.get(_short_name(cls), 0) + 1
    found: dict[str, Any] = {}
    for cls in classes:
        short = _short_name(cls)
        if short in components and shorts[short] == 1:
            found[short] = cls
        elif full_name(cls) in components:
            found[full_name(cls)] = cls
    return found


# --- pydantic ------------------------------------------------------------------------------


def _pydantic_side(requests: list[tuple[Any, Mode, Schema]]) -> _Side:
    if not requests:
        return _Side("pydantic", {}, {}, [])
    from pydantic import TypeAdapter

    adapters: list[tuple[int, Mode, Any]] = []
    roots: list[tuple[Schema, Schema]] = []
    placeholders: dict[int, Schema] = {}
    for index, (annotation, mode, placeholder) in enumerate(requests):
        try:
            adapter: Any = TypeAdapter(annotation)
            adapter.json_schema(mode=mode)  # fail here, alone, rather than in the batch
        except Exception as exc:
            logger.warning(
                "OpenAPI: no JSON Schema for %r (%s); documented as any", annotation, exc
            )
            roots.append((placeholder, {}))
            continue
        adapters.append((index, mode, adapter))
        placeholders[index] = placeholder
    if not adapters:
        return _Side("pydantic", {}, {}, roots)
    by_key, definitions = TypeAdapter.json_schemas(adapters, ref_template=REF_PREFIX + "{model}")
    for (index, _mode), schema in by_key.items():
        roots.append((placeholders[index], schema))
    components: dict[str, Schema] = definitions.get("$defs", {})
    classes = _pydantic_classes([annotation for annotation, _, _ in requests], components)
    # Pydantic spells a qualified name "module__Class"; use msgspec's "module.Class" for both.
    rename: dict[str, str] = {}
    for raw, cls in classes.items():
        found = _PYDANTIC_SUFFIX.search(raw)
        suffix = found.group(0) if found is not None else ""
        if (
            raw == full_name(cls).replace(".", "__") + suffix
            and full_name(cls) + suffix not in components
        ):
            rename[raw] = full_name(cls) + suffix
    if rename:
        components = {rename.get(raw, raw): _rewrite(s, rename) for raw, s in components.items()}
        classes = {rename.get(raw, raw): cls for raw, cls in classes.items()}
        roots = [(placeholder, _rewrite(schema, rename)) for placeholder, schema in roots]
    return _Side("pydantic", components, classes, roots)


def _walk_pydantic(annotation: Any, found: dict[Any, None]) -> None:
    """Collect the named classes (models, dataclasses, TypedDicts, enums) pydantic will see."""
    if isinstance(annotation, type) and annotation not in found:
        hints: dict[str, Any] = {}
        if hasattr(annotation, "__pydantic_validator__") and hasattr(annotation, "model_fields"):
            model = cast("type[BaseModel]", annotation)  # a pydantic model, by its attributes
            found[model] = None
            hints = {name: f.annotation for name, f in model.model_fields.items()}
        elif typing.is_typeddict(annotation) or dataclasses.is_dataclass(annotation):
            found[annotation] = None
            try:
                hints = typing.get_type_hints(annotation)
            except Exception:
                hints = {}
        elif issubclass(annotation, enum.Enum):
            found[annotation] = None
        for hint in hints.values():
            _walk_pydantic(hint, found)
    for arg in typing.get_args(annotation):
        _walk_pydantic(arg, found)


def _pydantic_classes(types: list[Any], components: dict[str, Any]) -> dict[str, Any]:
    """Which class each of pydantic's component names stands for, where that is certain."""
    found: dict[Any, None] = {}
    for annotation in types:
        _walk_pydantic(annotation, found)
    candidates: dict[str, list[Any]] = {}
    for cls in found:
        for name in {component_name(cls.__name__), full_name(cls).replace(".", "__")}:
            candidates.setdefault(name, []).append(cls)
    classes: dict[str, Any] = {}
    for raw in components:
        base = _PYDANTIC_SUFFIX.sub("", raw)
        matches = candidates.get(base, [])
        if len(matches) == 1:
            classes[raw] = matches[0]
    return classes


# --- merging -------------------------------------------------------------------------------


def _merge(sides: list[_Side]) -> dict[str, Schema]:
    """One ``components/schemas`` from every side, renaming where two classes share a name."""
    groups: dict[str, list[int]] = {}
    for index, side in enumerate(sides):
        for raw in side.components:
            groups.setdefault(raw, []).append(index)
    renames: list[dict[str, str]] = [{} for _ in sides]
    aliases: list[tuple[int, str, int]] = []  # (side, raw, side whose entry it reuses)
    pending: list[tuple[int, str]] = []
    used: set[str] = set()
    for raw, members in groups.items():
        kept: list[int] = []
        for index in members:
            twin = next((k for k in kept if _same(sides[k], sides[index], raw)), None)
            if twin is None:
                kept.append(index)
            else:
                aliases.append((index, raw, twin))
        if len(kept) == 1 or sides[kept[0]].label == "duoweb":
            renames[kept[0]][raw] = raw
            used.add(raw)
            kept = kept[1:]
        pending.extend((index, raw) for index in kept)
    for index, raw in pending:
        cls = sides[index].classes.get(raw)
        found = _PYDANTIC_SUFFIX.search(raw)
        mode_suffix = (found.group(1) or "") if found is not None else ""
        if cls is not None and cls is not _Framework:
            name = full_name(cls) + mode_suffix
        else:
            name = f"{raw}.{sides[index].label}"
        name = _unused(name, used)
        renames[index][raw] = name
        used.add(name)
    for index, raw, twin in aliases:
        renames[index][raw] = renames[twin][raw]
    # Placeholders first: duoweb's own components embed some of them.
    for index, side in enumerate(sides):
        for placeholder, schema in side.roots:
            placeholder.update(_rewrite(schema, renames[index]))
    reused = {(index, raw) for index, raw, _ in aliases}
    merged: dict[str, Schema] = {}
    for index, side in enumerate(sides):
        for raw, schema in side.components.items():
            if (index, raw) not in reused:
                merged[renames[index][raw]] = _rewrite(schema, renames[index])
    return dict(sorted(merged.items()))


def _same(kept: _Side, other: _Side, raw: str) -> bool:
    """True when two sides' entries named ``raw`` may share one component."""
    cls = kept.classes.get(raw)
    if cls is not None and cls is not _Framework and other.classes.get(raw) is cls:
        return True  # the same class: the earlier generator's rendering serves both
    return bool(kept.components[raw] == other.components[raw])


def _unused(name: str, used: set[str]) -> str:
    candidate, counter = name, 1
    while candidate in used:
        counter += 1
        candidate = f"{name}_{counter}"
    return candidate


def _rewrite(schema: Any, rename: dict[str, str]) -> Any:
    """A copy of ``schema`` whose component ``$ref`` names follow ``rename``."""
    if is_dict(schema):
        copied = {key: _rewrite(value, rename) for key, value in schema.items()}
        ref = copied.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            raw = ref[len(REF_PREFIX) :]
            copied["$ref"] = REF_PREFIX + rename.get(raw, raw)
        return copied
    if is_list(schema):
        return [_rewrite(item, rename) for item in schema]
    return schema
