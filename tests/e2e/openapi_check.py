"""openapi_check.py — checks answers of `sluice server` against docs/openapi.yaml.

    check(method, path, status, body)

path is the request's path (`/api/v1/dags/etl/runs`, a query string is
ignored) or a template from the spec (`/api/v1/dags/{dag}/runs`). The
status must be one the spec declares for that operation, and a JSON body
(bytes, text or already parsed) must match its schema. Raises
AssertionError naming the route and what did not match.
"""
import json
import pathlib
import re
import urllib.parse

import jsonschema
import yaml

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
_SPEC = yaml.safe_load(SPEC_PATH.read_text())


def spec():
    return _SPEC


def _template_regex(template):
    parts = re.split(r"(\{[^/}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + pattern + "$")


_TEMPLATES = sorted(_SPEC["paths"], key=lambda t: (t.count("{"), -len(t)))
_REGEXES = [(t, _template_regex(t)) for t in _TEMPLATES]


def template_of(path):
    """The spec's template for a concrete path (literal segments win), or None."""
    path = urllib.parse.urlsplit(path).path
    if path in _SPEC["paths"]:
        return path
    for template, regex in _REGEXES:
        if regex.match(path):
            return template
    return None


def _resolve(node):
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/responses/"):
        node = _SPEC["components"]["responses"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _pointer(*keys):
    return "#/" + "/".join(str(k).replace("~", "~0").replace("/", "~1") for k in keys)


def check(method, path, status, body):
    template = template_of(path)
    assert template, f"{method} {path}: no such path in docs/openapi.yaml"
    operation = _SPEC["paths"][template].get(method.lower())
    assert operation, f"{method} {template}: no such operation in docs/openapi.yaml"
    responses = operation["responses"]
    answer = responses.get(str(status))
    assert answer is not None, (f"{method} {template}: status {status} is not in docs/openapi.yaml "
                                f"(declared: {sorted(responses)})")
    answer = _resolve(answer)
    content = answer.get("content", {})
    if "application/json" not in content:
        return
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    if isinstance(body, str):
        body = json.loads(body)
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        root = dict(_SPEC, **{"$ref": schema["$ref"]})
    else:
        # The schema written in place: point at it inside the whole document
        # so the references it holds resolve.
        code = next(k for k, v in responses.items() if _resolve(v) is answer)
        root = dict(_SPEC, **{"$ref": _pointer("paths", template, method.lower(), "responses", code,
                                               "content", "application/json", "schema")})
        if "$ref" in responses[code]:
            root["$ref"] = _pointer("components", "responses", responses[code]["$ref"].rsplit("/", 1)[1],
                                    "content", "application/json", "schema")
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:10]]
        raise AssertionError(f"{method} {path} -> {status} does not match docs/openapi.yaml:\n  " +
                             "\n  ".join(lines))
