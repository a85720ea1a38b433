"""The "Run an agent" form, drawn from the agent's input schema (the msgspec Struct it validates against,
as JSON Schema): a field per input with its label, help text and limits, URL fields pre-filled with the
workspace's connected site, and errors next to their field in words. A raw JSON box stays for power users.

This module only translates between the form and the inputs dict; the agent's own validation (in
``agents.launch``) stays the judge of what may run, and its error is put next to the field it names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from agentledger.agents.sdk import Agent
from agentledger.platform.errors import AppError, Invalid

PREFIX = "in."  # form field names: in.<input name>
ACRONYMS = {"url": "URL", "urls": "URLs", "csv": "CSV", "id": "ID", "ids": "IDs", "seo": "SEO"}


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text | url | integer | number | checkbox | select | lines
    required: bool
    help: str | None
    value: Any
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    error: str | None = None

    @property
    def html_id(self) -> str:
        return "in-" + self.name.replace("_", "-")


@dataclass
class RunForm:
    """An agent's fields with their values and errors, plus the run's scope, mode and raw JSON."""

    agent: Agent
    fields: list[Field]
    scope: str = ""
    mode: str = "live"
    raw: str = ""
    use_raw: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # "scope", "mode", "inputs", "agent": words

    @property
    def scope_follows_inputs(self) -> bool:
        """The agent counts its scope from its inputs (e.g. one item per URL): no scope field to fill."""
        return type(self.agent).scope_of is not Agent.scope_of

    @property
    def scope_worked_out(self) -> bool:
        """The agent works the scope out from its inputs when it is left empty (``Agent.preview``)."""
        return type(self.agent).preview is not Agent.preview

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.error for f in self.fields)


def _label(name: str, schema: dict[str, Any]) -> str:
    if schema.get("title"):
        return schema["title"]
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _properties(agent: Agent) -> tuple[dict[str, Any], set[str]]:
    schema = msgspec.json.schema(agent.inputs)
    root = schema["$defs"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
    return root.get("properties", {}), set(root.get("required", ()))


def _kind(name: str, schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The widget for a property (an optional one, ``anyOf [T, null]``, takes T's)."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    inner = {**options[0], **{k: v for k, v in schema.items() if k in ("title", "description", "default")}}
    if "enum" in inner:
        return "select", inner
    kind = inner.get("type")
    if kind == "boolean":
        return "checkbox", inner
    if kind in ("integer", "number"):
        return kind, inner
    if kind == "array":
        return "lines", inner
    return ("url" if name.endswith("url") else "text"), inner


def fields_for(agent: Agent, values: Mapping[str, Any]) -> list[Field]:
    """The agent's fields, holding ``values`` (suggested inputs, or what was submitted)."""
    properties, required = _properties(agent)
    out = []
    for name, raw_schema in properties.items():
        kind, schema = _kind(name, raw_schema)
        value = values.get(name, schema.get("default"))
        if kind == "lines" and isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        out.append(Field(name, _label(name, schema), kind, name in required, schema.get("description"),
                         "" if value is None else value, tuple(schema.get("enum", ())),
                         schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum")))
    return out


def blank(agent: Agent, suggested: Mapping[str, Any]) -> RunForm:
    form = RunForm(agent, fields_for(agent, suggested))
    form.raw = json.dumps(inputs_of(form, check=False), indent=2)
    return form


def parse(agent: Agent, data: Mapping[str, str], *, checkboxes_sent: bool = True) -> RunForm:
    """A submitted form (``in.<name>`` fields, scope, mode, raw JSON) with every error found at once."""
    submitted = {key[len(PREFIX):]: value for key, value in data.items() if key.startswith(PREFIX)}
    form = RunForm(agent, fields_for(agent, submitted), scope=(data.get("scope") or "").strip(),
                   mode=data.get("mode") or "live", raw=data.get("inputs") or "",
                   use_raw=bool(data.get("use_raw")) or (not submitted and "inputs" in data))
    for f in form.fields:
        if f.kind == "checkbox":
            f.value = f.name in submitted and submitted[f.name] not in ("", "false", "off")
    if form.scope and not form.scope.isdigit():
        form.errors["scope"] = "Scope must be a whole number of items, e.g. 50"
    if form.mode not in ("live", "test"):
        form.errors["mode"] = "Mode must be live or test"
    if not form.use_raw:
        inputs_of(form, check=True)
    return form


def _convert(f: Field) -> Any:
    if f.kind == "checkbox":
        return bool(f.value)
    if not isinstance(f.value, str):  # a default or a suggestion, already typed
        return f.value
    text = f.value.strip()
    if not text:
        return None
    if f.kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"{f.label} must be a whole number")
        return int(text)
    if f.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{f.label} must be a number, e.g. 10 or 2.5") from None
    if f.kind == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines or None
    return text


def inputs_of(form: RunForm, *, check: bool) -> dict[str, Any]:
    """The inputs dict the fields describe; with ``check``, a missing or malformed field gets its error."""
    inputs: dict[str, Any] = {}
    for f in form.fields:
        try:
            value = _convert(f)
        except ValueError as error:
            f.error = str(error)
            continue
        if value is None:
            if check and f.required:
                f.error = f"{f.label} is required"
            continue
        inputs[f.name] = value
    return inputs


def request_inputs(form: RunForm) -> dict[str, Any]:
    """What the run is started with: the raw JSON when the person chose it, else the fields."""
    return inputs_of(form, check=False) if not form.use_raw else json_inputs(form.raw)


def json_inputs(text: str) -> dict[str, Any]:
    """Inputs typed as JSON (the raw box here, the "Run again" form): an object, or a 422 saying why."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise Invalid(f"inputs must be JSON: {error.msg} at character {error.pos}", field="inputs") from None
    except RecursionError:
        raise Invalid("inputs are nested too deeply", field="inputs") from None
    if not isinstance(raw, dict):
        raise Invalid('inputs must be a JSON object, e.g. {"start_url": "https://example.com"}', field="inputs")
    return raw


_MSGSPEC = [  # msgspec's wording, in words a person reads
    (r"Expected `str` of length >= (\d+)", r"must be at least \1 characters"),
    (r"Expected `str` of length <= (\d+)", r"must be at most \1 characters"),
    (r"Expected `array` of length >= (\d+)", r"needs at least \1 entries"),
    (r"Expected `array` of length <= (\d+)", r"takes at most \1 entries"),
    (r"Expected `(?:int|float)` >= ([\d.]+)", r"must be at least \1"),
    (r"Expected `(?:int|float)` <= ([\d.]+)", r"must be at most \1"),
    (r"Expected `(?:int|float)` > ([\d.]+)", r"must be more than \1"),
    (r"Invalid enum value '([^']*)'", r"cannot be '\1'"),
    (r"Object missing required field `[^`]*`", "is required"),
]


def place(form: RunForm, error: AppError) -> None:
    """Put an error from starting the run next to the field it names, in words."""
    target = error.field or ""
    message = re.sub(r"^inputs\.[\w.\[\]]+: ", "", error.message)
    if target.startswith("inputs.") and not form.use_raw:
        name = target.split(".", 1)[1].split("[", 1)[0].split(".", 1)[0]
        for f in form.fields:
            if f.name == name:
                for pattern, words in _MSGSPEC:
                    if re.search(pattern, message):
                        message = f"{f.label} {re.sub(pattern, words, re.search(pattern, message).group(0))}"
                        break
                f.error = message[:1].upper() + message[1:]
                return
    form.errors[target if target in ("scope", "mode", "agent") else "inputs"] = message
