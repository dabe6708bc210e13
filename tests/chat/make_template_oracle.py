#!/usr/bin/env python3
"""Writes tests/fixtures/chat/template_oracle.json: chat templates and small feature templates
rendered by Python's jinja2 (Debian python3-jinja2) exactly like transformers'
apply_chat_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
tojson = json.dumps(ensure_ascii=False), raise_exception, strftime_now), as the fixtures'
tools/chat_templates.py does. test_chat compares runtime/chat's output with it byte for byte,
so the test needs no Python. Run from the repository root after changing a case:

    python3 tests/chat/make_template_oracle.py
"""
import json
import os
import re
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(FIX, "chat", "template_oracle.json")

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: "STRFTIME"  # never used by the cases
    return env


ENV = make_env()


def render(source, **context):
    """(text, None) or (None, exception class name)."""
    try:
        return ENV.from_string(source).render(**context), None
    except Exception as e:  # noqa: BLE001 - any failure is a case result
        return None, type(e).__name__


def read(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return f.read()


def fallback_templates():
    src = read(ROOT, "runtime", "chat", "chat.cpp")
    found = re.findall(r'R"TPL\((.*?)\)TPL"', src, re.S)
    assert len(found) == 2, "expected the R1 and ChatML fallbacks in chat.cpp"
    return {"fallback-r1": found[0], "fallback-chatml": found[1]}


def model_templates():
    t = {
        "r1-distill-qwen": read(FIX, "templates", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
        "r1-distill-llama": read(FIX, "templates", "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"),
        "deepseek-v3": json.loads(read(FIX, "tokenizers", "deepseek-v3", "tokenizer_config.json"))["chat_template"],
        "qwen3": json.loads(read(FIX, "tokenizers", "qwen3", "tokenizer_config.json"))["chat_template"],
        "qwen2.5": read(ROOT, "tests", "chat", "templates", "qwen2.5-instruct.jinja"),
        "llama3.1": read(ROOT, "tests", "chat", "templates", "llama3.1-instruct.jinja"),
    }
    t.update(fallback_templates())
    return t


THINK = "<think>\nLet me think.\nStill thinking.\n</think>\n\n"
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city — now, in °C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}
CALL_DICT = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}}
CALL_STR = {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
CALL_STR2 = {"type": "function", "function": {"name": "get_time", "arguments": "{}"}}

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello there"}],
    "system_user": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}],
    "two_systems": [{"role": "system", "content": "First."}, {"role": "system", "content": "Second."},
                    {"role": "user", "content": "Which?"}],
    "multi_turn": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello!"},
                   {"role": "assistant", "content": "Good day."},
                   {"role": "user", "content": "  How fares the king?\nSpeak.  "}],
    "think_history": [{"role": "user", "content": "2+2?"},
                      {"role": "assistant", "content": THINK + "4"},
                      {"role": "user", "content": "And 3+3?"},
                      {"role": "assistant", "content": "<think>\nsum\n</think>6"}],
    "think_last_open": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": THINK + "Hello"},
                        {"role": "user", "content": "again"}],
    "reasoning_content": [{"role": "user", "content": "Q1"},
                          {"role": "assistant", "content": "A1", "reasoning_content": "R1 thoughts"},
                          {"role": "user", "content": "Q2"},
                          {"role": "assistant", "content": "A2", "reasoning_content": "R2 thoughts"}],
    "unicode": [{"role": "system", "content": "Ünïcödé 系统"},
                {"role": "user", "content": "你好 😀 \t tabs\u3000ideographic space, \"quotes\" and \\ backslash"}],
    "tool_call_str": [{"role": "user", "content": "Weather in Paris?"},
                      {"role": "assistant", "content": None, "tool_calls": [CALL_STR]},
                      {"role": "tool", "content": "{\"temp\": 21}"},
                      {"role": "assistant", "content": "It is 21 °C."},
                      {"role": "user", "content": "Thanks"}],
    "tool_calls_two_str": [{"role": "user", "content": "Weather and time?"},
                           {"role": "assistant", "content": None, "tool_calls": [CALL_STR, CALL_STR2]},
                           {"role": "tool", "content": "sunny"},
                           {"role": "tool", "content": "12:00"}],
    "tool_call_dict": [{"role": "system", "content": "Use tools."},
                       {"role": "user", "content": "Weather in Zürich?"},
                       {"role": "assistant", "content": "", "tool_calls": [CALL_DICT]},
                       {"role": "tool", "content": "cloudy"}],
    "empty_assistant": [{"role": "user", "content": "Say nothing"}, {"role": "assistant", "content": ""}],
}

# (conversation, kwargs, tools)
RUNS = []
for conv in CONVERSATIONS:
    for agp in (True, False):
        RUNS.append((conv, {"add_generation_prompt": agp}, None))
RUNS += [
    ("think_last_open", {"add_generation_prompt": True, "enable_thinking": False}, None),
    ("think_last_open", {"add_generation_prompt": True, "enable_thinking": True}, None),
    ("single_user", {"add_generation_prompt": True, "enable_thinking": False}, None),
    ("system_user", {"add_generation_prompt": True}, [WEATHER_TOOL]),
    ("tool_call_dict", {"add_generation_prompt": True}, [WEATHER_TOOL]),
    ("single_user", {"add_generation_prompt": True}, [WEATHER_TOOL]),
    ("single_user", {"add_generation_prompt": True, "tools_in_user_message": False,
                     "date_string": "01 Jan 2025"}, [WEATHER_TOOL]),
]


def template_cases(templates):
    cases = []
    for tname, src in templates.items():
        for conv, kwargs, tools in RUNS:
            msgs = CONVERSATIONS[conv]
            text, err = render(src, messages=msgs, tools=tools, documents=None, bos_token=BOS,
                               eos_token=EOS, **kwargs)
            case = {"template": tname, "conversation": conv, "kwargs": kwargs, "tools": tools}
            if err:
                case["error"] = err
            else:
                case["expected"] = text
            cases.append(case)
    return cases


# Small templates exercising one feature each: (template, context).
FEATURES = [
    # whitespace control, trim_blocks / lstrip_blocks, comments, raw, newlines
    ("a\n  {% if true %}\n  b\n  {% endif %}\nc\n", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c", {}),
    ("a\n  {%+ if true %}b{% endif +%}\nc", {}),
    ("x {{- ' y ' -}} z", {}),
    ("  {# comment #}\nline\n  {#- c2 -#}  tail", {}),
    ("{% raw %}{{ not parsed }}{% endraw %}", {}),
    ("a\r\nb\rc\n", {}),
    ("end\n\n", {}),
    ("{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n", {}),
    ("\t{% if true %}tab{% endif %}", {}),
    ("pre {% if true %}\nkept{% endif %}", {}),
    ("{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("{% if true %}  \n x{% endif %}", {}),
    # literals and printing
    ("{{ 1 }} {{ -2 }} {{ 1.0 }} {{ 2.5e3 }} {{ 1_000 }} {{ 0.1 + 0.2 }} {{ 1e100 }} {{ 1/3 }}", {}),
    ("{{ 10 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }}", {}),
    ("{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}", {}),
    ("{{ [1, 'a', none, true, 1.5, {'k': [1, 2]}] }} {{ (1,) }} {{ (1, 2) }} {{ () }}", {}),
    ("{{ \"it's\" }} {{ ['it\\'s', 'q\"', 'b\\\\s', 'n\\nl'] }}", {}),
    ("{{ 'tab\\there' }}|{{ 'uni\\u00e9\\x41' }}|{{ 'keep\\q' }}|{{ 'a' 'b' }}", {}),
    ("{{ x }}|{{ x.y if x is defined else 'u' }}", {}),
    ("{{ 3.0 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 123456789.123 }}", {}),
    # operators and precedence
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 1 ~ 2 ~ 3 }}", {}),
    ("{{ 'x' ~ 1 + 2 }}", {}),
    ("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] * 2 }} {{ [1] + [2] }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ [1,2] == [1,2] }}", {}),
    ("{{ 'b' in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ not 1 in [1] }}", {}),
    ("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }} {{ '' and 1 }} {{ not none }}", {}),
    ("{{ 'y' if 1 > 2 else 'n' }}|{{ 'y' if false }}|{{ 1 if true else 2 if true else 3 }}", {}),
    ("{{ 'x' + 1 }}", {}),
    ("{{ 1 + none }}", {}),
    ("{{ 1 / 0 }}", {}),
    ("{{ 'a' < 1 }}", {}),
    # subscripts and slices
    ("{{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[5] }}|{{ xs[-9:9] }}",
     {"xs": [1, 2, 3, 4]}),
    ("{{ s[0] }} {{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ s|length }}", {"s": "héllo😀"}),
    ("{{ d.a }} {{ d['a'] }} {{ d.b.c }} {{ d['b']['c'] }} {{ d.missing }}|{{ d.items()|list }}",
     {"d": {"a": 1, "b": {"c": "deep"}}}),
    ("{{ d.missing.more }}", {"d": {}}),
    ("{{ xs.0 }} {{ m['content'] }}|{{ m.content is none }}", {"xs": [7], "m": {"content": None}}),
    ("{{ n.x }}", {"n": None}),
    ("{{ u[0] }}", {}),
    # tests
    ("{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 1 is number }} {{ true is number }} "
     "{{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ 'a' is string }}", {"x": 1}),
    ("{{ d is mapping }} {{ xs is mapping }} {{ xs is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} "
     "{{ xs is sequence }} {{ d is sequence }} {{ none is string }}", {"d": {}, "xs": []}),
    ("{{ false is false }} {{ 0 is false }} {{ true is true }} {{ false is sameas false }} {{ 3 is odd }} "
     "{{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }}", {}),
    ("{{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 'a' is in 'abc' }} {{ 'A' is upper }} "
     "{{ 'a' is lower }} {{ x is not none }} {{ range is callable }}", {"x": 0}),
    ("{{ enable_thinking is defined and enable_thinking is false }}", {"enable_thinking": False}),
    # filters
    ("{{ '  pad  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'Mixed Case'|upper }}|{{ 'Mixed Case'|lower }}|"
     "{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}", {}),
    ("{{ [1,2,3]|length }} {{ 'héllo'|length }} {{ {'a':1}|length }} {{ u|length }} {{ [1,2]|count }}", {}),
    ("{{ 'a-b-a'|replace('a', 'x') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ ['a','b']|join(', ') }} "
     "{{ [1,2]|join }} {{ xs|join('|', attribute='n') }}", {"xs": [{"n": "p"}, {"n": "q"}]}),
    ("{{ [3,1,2]|first }} {{ [3,1,2]|last }} {{ 'abc'|first }} {{ []|first }}|{{ u|default('dflt') }} "
     "{{ ''|default('e', true) }} {{ none|default('n') }} {{ 0|d('z', boolean=true) }}", {}),
    ("{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %} {{ d|list }} {{ 'ab'|list }} {{ d|dictsort }}",
     {"d": {"b": 2, "a": 1}}),
    ("{{ 42|string }} {{ none|string }} {{ '7'|int + 1 }} {{ 'x'|int }} {{ '3.9'|int }} {{ 3.9|int }} "
     "{{ 'x'|int(5) }} {{ '2.5'|float }} {{ 2|float }} {{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }}", {}),
    ("{{ [3,1,2]|sort }} {{ ['b','A','c']|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ xs|sort(attribute='n')|map(attribute='n')|list }}",
     {"xs": [{"n": 2}, {"n": 1}]}),
    ("{{ [1,2,2,1,3]|unique|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }} {{ [1,2,3]|sum }} "
     "{{ [1,5,3]|max }} {{ [4,2,8]|min }} {{ 'a b  c'|wordcount }}", {}),
    ("{{ xs|selectattr('role', 'equalto', 'user')|map(attribute='c')|join(',') }}|"
     "{{ xs|rejectattr('role', 'eq', 'user')|list|length }}|{{ [1,2,3,4]|select('odd')|list }}|"
     "{{ [1,2,3,4]|reject('odd')|list }}|{{ ['a','B']|map('upper')|list }}|{{ xs|selectattr('c')|list|length }}",
     {"xs": [{"role": "user", "c": "1"}, {"role": "bot", "c": ""}, {"role": "user", "c": "3"}]}),
    ("{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(width='> ', blank=true) }}", {}),
    ("{{ '<a href=\"x\">&'|e }} {{ '<b>'|safe }} {{ d|attr('k') }}", {"d": {"k": "v"}}),
    ("{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("{{ x|nosuchfilter }}", {}),
    ("{{ x is nosuchtest }}", {}),
    # tojson
    ("{{ d|tojson }}", {"d": {"b": [1, 2.0, None, True], "a": "é\n\"<>&'\u2028\x01", "c": {}}}),
    ("{{ d|tojson(indent=2) }}", {"d": {"b": [1, {"x": []}], "a": "s"}}),
    ("{{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }} {{ d|tojson(ensure_ascii=true) }}",
     {"d": {"z": "😀é", "a": [1.5, 1e-07, 100000000000000000.0]}}),
    ("{{ 'str'|tojson }} {{ 1|tojson }} {{ none|tojson }} {{ [1,[2,[3]]]|tojson(indent=4) }} {{ 3.0|tojson }}", {}),
    ("{{ u|tojson }}", {}),
    # loops
    ("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/"
     "{{ loop.last }}/{{ loop.length }};{% endfor %}", {"xs": ["a", "b", "c"]}),
    ("{% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }};{% endfor %}", {"xs": [1, 2, 3]}),
    ("{% for x in xs %}{{ x }}{% else %}empty{% endfor %}|{% for x in [] %}{{ x }}{% else %}none{% endfor %}",
     {"xs": [1]}),
    ("{% for x in xs if x > 1 %}{{ x }}:{{ loop.index }}:{{ loop.length }},{% endfor %}", {"xs": [1, 2, 3]}),
    ("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     {"xs": [1, 2, 3, 4, 5]}),
    ("{% for k in d %}{{ k }}{% endfor %} {% for c in 'hé' %}[{{ c }}]{% endfor %} {% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}",
     {"d": {"x": 1, "y": 2}}),
    ("{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }}{{ loop.first }} {% endfor %}{{ loop.last }}|{% endfor %}", {}),
    ("{% for i in range(1, 10, 3) %}{{ i }}{% endfor %} {{ range(5)|list }} {{ range(3, 0, -1)|list }}", {}),
    ("{% for x in u %}{{ x }}{% endfor %}ok", {}),
    ("{% for x in none %}{{ x }}{% endfor %}", {}),
    ("{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {"xs": [1, 2, 3]}),
    # set, scoping, namespace
    ("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% set ns = namespace(x=0, s='') %}{% for i in [1, 2, 3] %}{% set ns.x = ns.x + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.x }} {{ ns.s }}", {}),
    ("{% set a, b = [1, 2] %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }}", {}),
    ("{% set block %}inner {{ 1 + 1 }}{% endset %}[{{ block }}] {% set up | upper %}loud{% endset %}{{ up }}", {}),
    ("{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    ("{% for i in [1] %}{% set z = 1 %}{% endfor %}[{{ z }}]", {}),
    ("{% set messages = messages[1:] %}{{ messages|length }}", {"messages": [1, 2, 3]}),
    ("{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("{% set d = dict(a=1, b='x') %}{{ d }} {{ d.b }} {% set n = namespace(d) %}{{ n.a }}", {}),
    # macros and call
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy') }}", {}),
    ("{% macro m() %}{{ x }}{% set x = 7 %}{{ x }}{% endmacro %}{% set x = 6 %}{{ m() }}{{ x }}", {}),
    ("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 }}{% endcall %}", {}),
    ("{% macro row(x) %}[{{ caller(x * 2) }}]{% endmacro %}{% call(v) row(4) %}v={{ v }}{% endcall %}", {}),
    ("{% macro va() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ va(1, 2, k=3) }}", {}),
    ("{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(5) }}", {}),
    # string methods
    ("{{ '  x  '.strip() }}|{{ '  x  '.lstrip() }}|{{ '  x  '.rstrip() }}|{{ '\\n\\nx\\n'.strip('\\n') }}|{{ 'xyhixy'.strip('xy') }}", {}),
    ("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ '  a  b '.split(None, 1) }}", {}),
    ("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }}", {}),
    ("{{ 'a.b.c'.replace('.', '/') }} {{ 'abcabc'.find('c') }} {{ 'abc'.find('z') }} {{ 'aXbXc'.count('X') }} {{ '-'.join(['a', 'b']) }} {{ 'hi there'.title() }}", {}),
    ("{{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'x'.removeprefix('x') }}", {}),
    ("{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
     {"c": "<think>\nreason\n</think>\n\nanswer"}),
    ("{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }}", {"d": {"a": 1, "b": 2}}),
    ("{{ 'x'.nosuchmethod() }}", {}),
    ("{{ '%s and %d' % ('a', 3) }} {{ 'v=%s' % 5 }}", {}),
    # globals and errors
    ("{{ raise_exception('bad input: ' ~ 3) }}", {}),
    ("{% if x %}{{ raise_exception('never') }}{% endif %}ok", {}),
    ("{{ undefined_fn() }}", {}),
    ("{{ m.content + 'x' }}", {"m": {}}),
    ("{{ m.content.strip() }}", {"m": {}}),
    ("{{ (1, 2)[0] }} {{ [[1, 2], [3, 4]][1][0] }} {{ {'a': {'b': 'c'}}['a']['b'] }}", {}),
    ("{{ {'a': {'b': 1}} }}", {}),
    ("{% if %}x{% endif %}", {}),
    ("{% for %}", {}),
    ("{{ 'unterminated }}", {}),
    ("{% if true %}no end", {}),
    ("{{ 1 + }}", {}),
    ("{# open comment", {}),
    ("{% endif %}", {}),
    ("{% unknowntag %}", {}),
    ("{{ (1 }}", {}),
    ("{{ 1) }}", {}),
]


def feature_cases():
    out = []
    for src, ctx in FEATURES:
        text, err = render(src, **ctx)
        case = {"template": src, "context": ctx}
        if err:
            case["error"] = err
        else:
            case["expected"] = text
        out.append(case)
    return out


def main():
    templates = model_templates()
    data = {
        "generator": "tests/chat/make_template_oracle.py",
        "jinja2_version": jinja2.__version__,
        "environment": "ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, "
                       "extensions=[loopcontrols]); tojson = json.dumps(ensure_ascii=False)",
        "bos_token": BOS,
        "eos_token": EOS,
        "templates": templates,
        "conversations": CONVERSATIONS,
        "template_cases": template_cases(templates),
        "feature_cases": feature_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_err = sum("error" in c for c in data["template_cases"] + data["feature_cases"])
    print(f"{OUT}: {len(data['template_cases'])} template cases, {len(data['feature_cases'])} feature cases "
          f"({n_err} expect an error)", file=sys.stderr)


if __name__ == "__main__":
    main()
