"""Renders Home Assistant MQTT value templates the way Home Assistant does, with jinja2.

Reads a JSON list of {"template": str, "payload": str} on stdin and prints a JSON list of the
renderings. Like Home Assistant's MqttValueTemplate: a sandboxed environment, `value` is the
payload text and `value_json` its JSON (absent when it is not JSON); `to_json` is Home
Assistant's filter of that name. Other Home Assistant extensions are not provided, so a
template that needs one fails here as it would in a plain jinja2.
"""
import json
import sys

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment


def render(env: ImmutableSandboxedEnvironment, template: str, payload: str) -> str:
    variables: dict[str, object] = {"value": payload}
    try:
        variables["value_json"] = json.loads(payload)
    except ValueError:
        pass
    # Home Assistant strips the rendering before it uses it.
    return env.from_string(template).render(**variables).strip()


def main() -> None:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    env.filters["to_json"] = lambda obj: json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    cases = json.load(sys.stdin)
    print(json.dumps([render(env, c["template"], c["payload"]) for c in cases]))


if __name__ == "__main__":
    main()
