"""Reference chat-template renders by Python's jinja2, configured as transformers does.

Writes <out>/templates/cases.json for tests/model/jinja/chat_template_golden_test.cc. Each
case names a template (a published one under tests/data/templates, the built-in one under
model/templates, or an inline snippet exercising one language feature), the bos/eos token
strings and the variables, and records what jinja2 rendered or the error it raised. Shoal
must render the same bytes, or fail where jinja2 fails (with the same message when the
template itself raised it).

Run standalone: .venv/bin/python tests/data_gen/templates.py --out build/testdata
"""
import argparse
import calendar
import collections
import copy
import datetime
import json
import sys
import warnings
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from template_snippets import SNIPPETS  # noqa: E402

# strftime_now() returns this instant; the C++ test's clock returns it too (as UTC).
FIXED_NOW = datetime.datetime(2024, 7, 26, 13, 5, 9)
FIXED_NOW_UNIX = calendar.timegm(FIXED_NOW.timetuple())


def make_environment() -> jinja2.Environment:
    """transformers' chat_template_utils._compile_jinja_template, with a fixed clock."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers' override: no HTML escaping, insertion order, raw Unicode.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


# Published templates (llama.cpp's models/templates copies) and the built-in Gemma 3 one,
# with the token strings of their models and the conversation features they support.
TEMPLATES = {
    "gemma3": dict(path="model/templates/gemma3.jinja", bos="<bos>", eos="<eos>",
                   features={"parts", "invalid_content"}),
    "qwen3": dict(path="tests/data/templates/Qwen-Qwen3-0.6B.jinja", bos="", eos="<|im_end|>",
                  features={"tool_defs", "tools", "reasoning", "think_inline", "thinking_flag"}),
    "llama31": dict(path="tests/data/templates/meta-llama-Llama-3.1-8B-Instruct.jinja",
                    bos="<|begin_of_text|>", eos="<|eot_id|>",
                    features={"tool_defs", "tools_single", "llama"}),
    "llama32": dict(path="tests/data/templates/meta-llama-Llama-3.2-3B-Instruct.jinja",
                    bos="<|begin_of_text|>", eos="<|eot_id|>",
                    features={"tool_defs", "tools_single", "llama"}),
    "llama33": dict(path="tests/data/templates/meta-llama-Llama-3.3-70B-Instruct.jinja",
                    bos="<|begin_of_text|>", eos="<|eot_id|>",
                    features={"tool_defs", "tools_single", "llama"}),
    "gemma4": dict(path="tests/data/templates/google-gemma-4-31B-it.jinja", bos="<bos>",
                   eos="<eos>", features={"tool_defs", "tools", "parts", "reasoning_tools",
                                          "thinking_flag", "developer"}),
    "qwen25": dict(path="tests/data/templates/Qwen-Qwen2.5-7B-Instruct.jinja", bos="",
                   eos="<|im_end|>", features={"tool_defs", "tools"}),
    "qwen3_coder": dict(path="tests/data/templates/Qwen3-Coder.jinja", bos="",
                        eos="<|im_end|>", features={"tool_defs", "tools"}),
    "mistral_nemo": dict(path="tests/data/templates/mistralai-Mistral-Nemo-Instruct-2407.jinja",
                         bos="<s>", eos="</s>", features={"tool_defs", "tools", "mistral"}),
    "phi35": dict(path="tests/data/templates/microsoft-Phi-3.5-mini-instruct.jinja", bos="<s>",
                  eos="<|endoftext|>", features=set()),
    "gpt_oss": dict(path="tests/data/templates/openai-gpt-oss-120b.jinja", bos="<|startoftext|>",
                    eos="<|return|>",
                    features={"tool_defs", "tools_single", "gpt_oss", "developer"}),
    "deepseek_r1": dict(path="tests/data/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
                        bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>",
                        features={"tool_defs", "tools", "tools_string_args", "think_inline",
                                  "thinking_flag"}),
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                         "description": "Temperature unit"},
            },
            "required": ["city"],
        },
    },
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_docs",
        "description": "Search the documentation. Returns matching pages ✓.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Free text; \"quotes\" allowed"},
                "max_results": {"type": "integer", "description": "How many results",
                                "default": 5},
                "filters": {
                    "type": "object",
                    "description": "Optional filters",
                    "properties": {
                        "lang": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["lang"],
                },
                "threshold": {"type": "number", "description": "Minimum score", "default": 0.5},
                "exact": {"type": "boolean", "nullable": True},
            },
            "required": ["query"],
        },
    },
}

TOOLS = [WEATHER_TOOL, SEARCH_TOOL]


def tool_call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_result(call_id, name, content):
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": content}


SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
WEATHER_CALL = tool_call("call12345", "get_weather", {"city": "Paris", "unit": "celsius"})
WEATHER_RESULT = tool_result("call12345", "get_weather",
                             '{"temperature": 22, "condition": "sunny"}')
SEARCH_CALL = tool_call("call67890", "search_docs",
                        {"query": "paged attention", "max_results": 3,
                         "filters": {"lang": "en", "tags": ["kv", "cache"]}, "exact": False,
                         "threshold": 0.75})
SEARCH_RESULT = tool_result("call67890", "search_docs", "1. vLLM paper\n2. Shoal design")


def user(text):
    return {"role": "user", "content": text}


def assistant(text, **fields):
    message = {"role": "assistant", "content": text}
    message.update(fields)
    return message


# name -> (features required, messages, tools, extra variables)
CONVERSATIONS = {
    "user": (set(), [user("Hello!")], None, {}),
    "system_user": (set(), [SYSTEM, user("What is 2+2?")], None, {}),
    "multi_turn": (set(), [SYSTEM, user("What is 2+2?"), assistant("4"), user("And 3+3?")],
                   None, {}),
    "ends_with_assistant": (set(), [user("Hi"), assistant("Hello! How can I help?")], None, {}),
    "long": (set(), [user(f"Question {i}?") if i % 2 == 0 else assistant(f"Answer {i}.")
                     for i in range(11)], None, {}),
    "unicode": (set(), [
        {"role": "system", "content": "Réponds en français. 日本語もOK。"},
        user("Héllo wörld — ünïcödé 🚀 \"double\" 'single' back\\slash {{ braces }} "
             "{% tag %} <b>html</b> & amp"),
        assistant("Ça va ✓ ½"),
        user("tab\there\nnewline\r\ncrlf \u2028 line-sep \u00a0nbsp \x01 control"),
    ], None, {}),
    "whitespace": (set(), [
        {"role": "system", "content": "  padded system  \n"},
        user("\n\n  leading and trailing  \n\n"),
        assistant("  answer with spaces  "),
        user("end "),
    ], None, {}),
    "empty_content": (set(), [user("")], None, {}),
    "special_tokens_in_content": (set(), [
        user("<|im_start|>system\nignore <start_of_turn> <|eot_id|> [INST] </s>"),
    ], None, {}),
    "content_parts": ({"parts"}, [
        {"role": "user", "content": [{"type": "text", "text": "Describe "},
                                     {"type": "image"},
                                     {"type": "text", "text": " this image, please. "}]},
    ], None, {}),
    "system_parts": ({"parts"}, [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        user("Hi"),
    ], None, {}),
    "alternation_violation": (set(), [user("one"), user("two")], None, {}),
    "starts_with_assistant": (set(), [assistant("I speak first."), user("ok")], None, {}),
    "invalid_content": ({"invalid_content"}, [{"role": "user", "content": None}], None, {}),
    "tools_user": ({"tool_defs"}, [user("What's the weather in Paris?")], TOOLS, {}),
    "tools_system_user": ({"tool_defs"}, [SYSTEM, user("Find docs about paged attention.")],
                          TOOLS, {}),
    "tool_call_flow": ({"tools"}, [
        SYSTEM, user("What's the weather in Paris?"),
        assistant("", tool_calls=[WEATHER_CALL]), WEATHER_RESULT,
        assistant("It is 22 °C and sunny in Paris."),
    ], TOOLS, {}),
    "tool_call_pending": ({"tools"}, [
        user("What's the weather in Paris?"), assistant("", tool_calls=[WEATHER_CALL]),
        WEATHER_RESULT,
    ], TOOLS, {}),
    "parallel_tool_calls": ({"tools"}, [
        user("Weather in Paris, and docs on paged attention?"),
        assistant("Let me check both.", tool_calls=[WEATHER_CALL, SEARCH_CALL]),
        WEATHER_RESULT, SEARCH_RESULT,
    ], TOOLS, {}),
    "tool_call_string_args": ({"tools_string_args"}, [
        user("What's the weather in Paris?"),
        assistant("", tool_calls=[tool_call("call12345", "get_weather",
                                            '{"city": "Paris", "unit": "celsius"}')]),
        WEATHER_RESULT,
    ], TOOLS, {}),
    "single_tool_flow": ({"tools_single"}, [
        SYSTEM, user("What's the weather in Paris?"),
        assistant("", tool_calls=[WEATHER_CALL]), WEATHER_RESULT,
        assistant("It is 22 °C and sunny in Paris."),
    ], TOOLS, {}),
    "single_tools_user": ({"tools_single"}, [user("Search the docs for KV cache.")], TOOLS, {}),
    "reasoning": ({"reasoning"}, [
        user("What is 17 * 3?"),
        assistant("51", reasoning_content="17 * 3 = 51."),
        user("And 17 * 4?"),
        assistant("68", reasoning_content="17 * 4 = 68, since 51 + 17 = 68."),
    ], None, {}),
    "reasoning_tools": ({"reasoning_tools"}, [
        user("What's the weather in Paris?"),
        assistant("", reasoning_content="I should call the weather tool.",
                  tool_calls=[WEATHER_CALL]),
        WEATHER_RESULT,
    ], TOOLS, {}),
    "think_inline": ({"think_inline"}, [
        user("Hi"), assistant("<think>\nThe user greets me.\n</think>\n\nHello there!"),
        user("Bye"),
    ], None, {}),
    "enable_thinking_false": ({"thinking_flag"}, [user("Quick answer: 1+1?")], None,
                              {"enable_thinking": False}),
    "enable_thinking_true": ({"thinking_flag"}, [SYSTEM, user("Think hard: 1+1?")], None,
                             {"enable_thinking": True}),
    "developer_role": ({"developer"}, [{"role": "developer", "content": "Answer in haiku."},
                                        user("Describe the sea.")], None, {}),
    "llama_date_string": ({"llama"}, [SYSTEM, user("What's the date?")], None,
                          {"date_string": "01 Jan 2025"}),
    "llama_tools_in_system": ({"llama"}, [SYSTEM, user("Weather in Rome?")], TOOLS,
                              {"tools_in_user_message": False}),
    "llama_builtin_tools": ({"llama"}, [
        SYSTEM, user("Search the web for Shoal."),
        assistant("", tool_calls=[tool_call("c1", "brave_search", {"query": "Shoal LLM"})]),
        tool_result("c1", "brave_search", "Shoal serves LLMs."),
    ], None, {"builtin_tools": ["code_interpreter", "brave_search", "wolfram_alpha"]}),
    "llama_multiple_calls": ({"llama"}, [
        user("Two things"), assistant("", tool_calls=[WEATHER_CALL, SEARCH_CALL]),
    ], TOOLS, {}),
    "llama_tools_without_user": ({"llama"}, [SYSTEM], TOOLS, {}),
    "llama_tool_dict_result": ({"llama"}, [
        user("Weather?"), assistant("", tool_calls=[WEATHER_CALL]),
        {"role": "tool", "content": {"temperature": 22, "ok": True, "note": None}},
    ], TOOLS, {}),
    "gpt_oss_options": ({"gpt_oss"}, [
        {"role": "developer", "content": "Be terse."}, user("Plan a trip."),
    ], None, {"reasoning_effort": "high", "model_identity": "You are Shoal, a test model."}),
    "gpt_oss_builtin": ({"gpt_oss"}, [user("Browse for news.")], None,
                        {"builtin_tools": ["browser", "python"]}),
    "gpt_oss_thinking": ({"gpt_oss"}, [
        user("2+2?"), assistant("4", thinking="Simple arithmetic."),
    ], None, {}),
    "gpt_oss_tool_flow": ({"gpt_oss"}, [
        user("What's the weather in Paris?"),
        assistant("", thinking="Use the tool.", tool_calls=[WEATHER_CALL]), WEATHER_RESULT,
        assistant("Sunny, 22 °C."),
    ], TOOLS, {}),
    "gpt_oss_tool_without_call": ({"gpt_oss"}, [user("hi"), WEATHER_RESULT], None, {}),
    "mistral_bad_tool_id": ({"mistral"}, [
        user("Weather?"),
        assistant("", tool_calls=[tool_call("short", "get_weather", {"city": "Oslo"})]),
    ], TOOLS, {}),
}


def applicable(template_features, needed):
    return needed <= template_features


def render_case(env, case):
    try:
        if "source" in case:
            template = env.from_string(case["source"])
            variables = copy.deepcopy(case["variables"])
        else:
            template = env.from_string((ROOT / case["template"]).read_text(encoding="utf-8"))
            variables = dict(copy.deepcopy(case["extra"]))
            variables.update(messages=copy.deepcopy(case["messages"]),
                             tools=copy.deepcopy(case["tools"]), documents=None,
                             add_generation_prompt=case["add_generation_prompt"],
                             bos_token=case["bos_token"], eos_token=case["eos_token"])
        case["expected"] = template.render(**variables)
    except jinja2.exceptions.TemplateError as e:
        # jinja2's own errors (undefined, syntax) subclass TemplateError too; only
        # raise_exception() errors carry a message Shoal must reproduce.
        raised = type(e) is jinja2.exceptions.TemplateError
        case["error"] = {"raised": raised, "type": type(e).__name__, "message": str(e)}
    except Exception as e:  # TypeError, ValueError, ... from Python semantics
        case["error"] = {"raised": False, "type": type(e).__name__, "message": str(e)}
    return case


def chat_cases():
    cases = []
    for template_name, spec in TEMPLATES.items():
        for conversation, (needed, messages, tools, extra) in CONVERSATIONS.items():
            if not applicable(spec["features"], needed):
                continue
            for add_generation_prompt in (True, False):
                cases.append({
                    "name": f"{template_name}/{conversation}/"
                            f"{'gen' if add_generation_prompt else 'nogen'}",
                    "group": template_name,
                    "template": spec["path"],
                    "bos_token": spec["bos"],
                    "eos_token": spec["eos"],
                    "messages": messages,
                    "tools": tools,
                    "add_generation_prompt": add_generation_prompt,
                    "extra": extra,
                })
    return cases


def snippet_cases():
    cases = []
    for i, snippet in enumerate(SNIPPETS):
        source, variables = (snippet, {}) if isinstance(snippet, str) else snippet
        cases.append({"name": f"snippet/{i}", "group": "snippets", "source": source,
                      "variables": variables})
    return cases


def build_cases():
    # jinja2 compiles constant slices such as `5[1:]` to Python code that Python warns about.
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    env = make_environment()
    return [render_case(env, case) for case in chat_cases() + snippet_cases()]


def write(out: Path) -> None:
    cases = build_cases()
    directory = out / "templates"
    directory.mkdir(parents=True, exist_ok=True)
    document = {"fixed_now_unix": FIXED_NOW_UNIX, "cases": cases}
    (directory / "cases.json").write_text(json.dumps(document, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    counts = collections.Counter(case["group"] for case in cases)
    errors = collections.Counter(case["error"]["type"] for case in cases if "error" in case)
    print(f"templates: {len(cases)} cases {dict(counts)}; errors {dict(errors)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--show", help="print the cases whose name starts with this")
    args = parser.parse_args()
    if args.show:
        for case in build_cases():
            if case["name"].startswith(args.show):
                print(json.dumps(case, ensure_ascii=False, indent=1))
        return 0
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
