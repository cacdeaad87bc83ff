"""An "everything" MCP server for the official conformance suite's server scenarios.

Built on the SDK's low-level server, so every definition goes out exactly as written here (the
json-schema-2020-12 scenario checks that `$schema`, `$defs` and `additionalProperties` survive).
It implements what `@modelcontextprotocol/conformance server` 0.1.16 asks of a server: the
`test_*` tools (text, image, audio, embedded resource, mixed content, logging, progress, an
error result, sampling, elicitation with defaults and enums, SSE reconnection), the `test://`
resources and template, subscriptions, the `test_*` prompts, completion and `logging/setLevel`.
Stateful Streamable HTTP at /mcp with an in-memory event store (resumable SSE streams), and the
SDK's DNS-rebinding check for a server on loopback.

    python -m tests.peers.conformance_server --port 8931

Tests start it in-process instead, with `conformance_app()` under tests/loopback.serve_asgi.
"""

import argparse
import asyncio
import json
import sys

import mcp_types as types
import uvicorn
from mcp import MCPError
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore

NAME = "orgconnectors-conformance-server"
# A 1x1 red PNG and a WAV file holding one silent sample.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
    "AAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA=="
STEP_SECONDS = 0.05
NO_ARGUMENTS = {"type": "object", "properties": {}}


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _image() -> types.ImageContent:
    return types.ImageContent(type="image", data=PNG, mime_type="image/png")


def _tool(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "description": description, "inputSchema": schema or NO_ARGUMENTS}


def _one_string(name: str, description: str) -> dict:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": description}},
        "required": [name],
    }


TOOLS = [
    _tool("test_simple_text", "Answers with one text block."),
    _tool("test_image_content", "Answers with a PNG image."),
    _tool("test_audio_content", "Answers with a WAV clip."),
    _tool("test_embedded_resource", "Answers with an embedded text resource."),
    _tool("test_multiple_content_types", "Answers with text, an image and a resource."),
    _tool("test_tool_with_logging", "Sends three log messages while it runs."),
    _tool("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100 while it runs."),
    _tool("test_error_handling", "Always fails, with an error result."),
    _tool(
        "test_sampling",
        "Asks the client's model to answer a prompt.",
        _one_string("prompt", "The prompt to send to the model"),
    ),
    _tool(
        "test_elicitation",
        "Asks the user for a name and an email address.",
        _one_string("message", "The message to show the user"),
    ),
    _tool("test_elicitation_sep1034_defaults", "Asks the user for values that have defaults."),
    _tool("test_elicitation_sep1330_enums", "Asks the user to pick from five kinds of enum."),
    _tool("test_reconnection", "Closes its SSE stream mid-call; the answer comes on resumption."),
    {
        "name": "json_schema_2020_12_tool",
        "description": "Tool with JSON Schema 2020-12 features",
        "inputSchema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        },
    },
]

SEP1034_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
}

SEP1330_SCHEMA = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}

RESOURCES = [
    types.Resource(
        uri="test://static-text",
        name="static-text",
        description="A text resource that never changes.",
        mime_type="text/plain",
    ),
    types.Resource(
        uri="test://static-binary",
        name="static-binary",
        description="A PNG image.",
        mime_type="image/png",
    ),
    types.Resource(
        uri="test://watched-resource",
        name="watched-resource",
        description="A resource clients may subscribe to.",
        mime_type="text/plain",
    ),
]
TEMPLATE = "test://template/{id}/data"

PROMPTS = [
    types.Prompt(name="test_simple_prompt", description="A prompt without arguments."),
    types.Prompt(
        name="test_prompt_with_arguments",
        description="A prompt with two required arguments.",
        arguments=[
            types.PromptArgument(name="arg1", description="First argument", required=True),
            types.PromptArgument(name="arg2", description="Second argument", required=True),
        ],
    ),
    types.Prompt(
        name="test_prompt_with_embedded_resource",
        description="A prompt that embeds a resource.",
        arguments=[
            types.PromptArgument(
                name="resourceUri", description="The resource to embed", required=True
            )
        ],
    ),
    types.Prompt(name="test_prompt_with_image", description="A prompt that holds an image."),
]


class MemoryEventStore(EventStore):
    """Every event of every stream, kept so a client can resume with Last-Event-ID."""

    def __init__(self) -> None:
        self._events: list[tuple[str, str, types.JSONRPCMessage | None]] = []

    async def store_event(self, stream_id, message):
        event_id = str(len(self._events) + 1)
        self._events.append((stream_id, event_id, message))
        return event_id

    async def replay_events_after(self, last_event_id, send_callback: EventCallback):
        stream = next((s for s, e, _ in self._events if e == last_event_id), None)
        if stream is None:
            return None
        after = int(last_event_id)
        for stream_id, event_id, message in self._events:
            if stream_id == stream and int(event_id) > after and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream


# --- tools ----------------------------------------------------------------------------------


async def _log_three(ctx) -> list[types.TextContent]:
    for i, text in enumerate(
        ["Tool execution started", "Tool processing data", "Tool execution completed"]
    ):
        if i:
            await asyncio.sleep(STEP_SECONDS)
        await ctx.session.send_log_message("info", text, related_request_id=ctx.request_id)
    return [_text("Tool with logging executed successfully")]


async def _progress(ctx) -> list[types.TextContent]:
    for i, value in enumerate([0, 50, 100]):
        if i:
            await asyncio.sleep(STEP_SECONDS)
        await ctx.session.report_progress(value, 100, f"Completed step {value} of 100")
    return [_text("Tool with progress executed successfully")]


async def _sampling(ctx, arguments: dict) -> list[types.TextContent]:
    result = await ctx.session.create_message(
        [types.SamplingMessage(role="user", content=_text(str(arguments.get("prompt", ""))))],
        max_tokens=100,
        related_request_id=ctx.request_id,
    )
    content = result.content
    answer = content.text if isinstance(content, types.TextContent) else "(not text)"
    return [_text(f"LLM response: {answer}")]


async def _elicit(ctx, message: str, schema: dict, prefix: str) -> list[types.TextContent]:
    result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    content = json.dumps(result.content or {}, sort_keys=True)
    return [_text(f"{prefix}: action={result.action}, content={content}")]


async def _reconnection(ctx) -> list[types.TextContent]:
    await ctx.session.send_log_message(
        "info", "Before disconnect", related_request_id=ctx.request_id
    )
    if ctx.close_sse_stream is not None:
        await ctx.close_sse_stream()
    await asyncio.sleep(0.2)  # the client reconnects after the 100 ms retry interval
    return [_text("Reconnection test completed")]


STATIC_ANSWERS = {
    "test_simple_text": lambda: [_text("This is a simple text response for testing.")],
    "test_image_content": lambda: [_image()],
    "test_audio_content": lambda: [
        types.AudioContent(type="audio", data=WAV, mime_type="audio/wav")
    ],
    "test_embedded_resource": lambda: [
        types.EmbeddedResource(
            type="resource",
            resource=types.TextResourceContents(
                uri="test://embedded-resource",
                mime_type="text/plain",
                text="This is an embedded resource content.",
            ),
        )
    ],
    "test_multiple_content_types": lambda: [
        _text("Multiple content types test:"),
        _image(),
        types.EmbeddedResource(
            type="resource",
            resource=types.TextResourceContents(
                uri="test://mixed-content-resource",
                mime_type="application/json",
                text='{"test":"data","value":123}',
            ),
        ),
    ],
    "json_schema_2020_12_tool": lambda: [_text("JSON Schema 2020-12 tool called")],
}


async def list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult.model_validate({"tools": TOOLS})


async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    name, arguments = params.name, params.arguments or {}
    if name in STATIC_ANSWERS:
        content = STATIC_ANSWERS[name]()
    elif name == "test_error_handling":
        return types.CallToolResult(
            content=[_text("This tool intentionally returns an error for testing")],
            is_error=True,
        )
    elif name == "test_tool_with_logging":
        content = await _log_three(ctx)
    elif name == "test_tool_with_progress":
        content = await _progress(ctx)
    elif name == "test_sampling":
        content = await _sampling(ctx, arguments)
    elif name == "test_elicitation":
        schema = {
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"},
            },
            "required": ["username", "email"],
        }
        message = str(arguments.get("message", ""))
        content = await _elicit(ctx, message, schema, "User response")
    elif name == "test_elicitation_sep1034_defaults":
        message = "Please provide user information"
        content = await _elicit(ctx, message, SEP1034_SCHEMA, "Elicitation completed")
    elif name == "test_elicitation_sep1330_enums":
        message = "Please pick values for each kind of enum"
        content = await _elicit(ctx, message, SEP1330_SCHEMA, "Elicitation completed")
    elif name == "test_reconnection":
        content = await _reconnection(ctx)
    else:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}")
    return types.CallToolResult(content=content)


# --- resources, prompts, completion, logging ------------------------------------------------


async def list_resources(ctx, params) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=RESOURCES)


async def list_resource_templates(ctx, params) -> types.ListResourceTemplatesResult:
    template = types.ResourceTemplate(
        uri_template=TEMPLATE,
        name="template-data",
        description="JSON data for any id.",
        mime_type="application/json",
    )
    return types.ListResourceTemplatesResult(resource_templates=[template])


async def read_resource(ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    uri = str(params.uri)
    if uri == "test://static-text":
        contents = types.TextResourceContents(
            uri=uri, mime_type="text/plain", text="This is the content of the static text resource."
        )
    elif uri == "test://static-binary":
        contents = types.BlobResourceContents(uri=uri, mime_type="image/png", blob=PNG)
    elif uri == "test://watched-resource":
        contents = types.TextResourceContents(
            uri=uri, mime_type="text/plain", text="Watched resource content"
        )
    elif uri.startswith("test://template/") and uri.endswith("/data"):
        item = uri.removeprefix("test://template/").removesuffix("/data")
        data = {"id": item, "templateTest": True, "data": f"Data for ID: {item}"}
        contents = types.TextResourceContents(
            uri=uri, mime_type="application/json", text=json.dumps(data)
        )
    else:
        raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}")
    return types.ReadResourceResult(contents=[contents])


_subscriptions: set[str] = set()


async def subscribe(ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
    _subscriptions.add(str(params.uri))
    return types.EmptyResult()


async def unsubscribe(ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
    _subscriptions.discard(str(params.uri))
    return types.EmptyResult()


async def list_prompts(ctx, params) -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=PROMPTS)


def _user(content) -> types.PromptMessage:
    return types.PromptMessage(role="user", content=content)


async def get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    arguments = params.arguments or {}
    if params.name == "test_simple_prompt":
        messages = [_user(_text("This is a simple prompt for testing."))]
    elif params.name == "test_prompt_with_arguments":
        text = (
            f"Prompt with arguments: arg1='{arguments.get('arg1', '')}', "
            f"arg2='{arguments.get('arg2', '')}'"
        )
        messages = [_user(_text(text))]
    elif params.name == "test_prompt_with_embedded_resource":
        resource = types.TextResourceContents(
            uri=arguments.get("resourceUri", "test://example-resource"),
            mime_type="text/plain",
            text="Embedded resource content for testing.",
        )
        messages = [
            _user(types.EmbeddedResource(type="resource", resource=resource)),
            _user(_text("Please process the embedded resource above.")),
        ]
    elif params.name == "test_prompt_with_image":
        messages = [_user(_image()), _user(_text("Please analyze the image above."))]
    else:
        raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}")
    return types.GetPromptResult(messages=messages)


async def complete(ctx, params: types.CompleteRequestParams) -> types.CompleteResult:
    value = params.argument.value
    choices = ["paris", "park", "party"] if params.argument.name == "arg1" else []
    values = [c for c in choices if c.startswith(value)]
    return types.CompleteResult(
        completion=types.Completion(values=values, total=len(values), has_more=False)
    )


async def set_logging_level(ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
    return types.EmptyResult()


def conformance_server() -> Server:
    server = Server(
        NAME,
        version="1.0.0",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_completion=complete,
    )
    # Registered by hand: the constructor's argument for it warns that 2026-07-28 drops it.
    server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_logging_level)
    return server


def conformance_app(base_url: str = ""):
    """The ASGI app: stateful Streamable HTTP at /mcp, resumable, loopback hosts only."""
    return conformance_server().streamable_http_app(
        streamable_http_path="/mcp",
        event_store=MemoryEventStore(),
        retry_interval=100,
        host="127.0.0.1",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args(argv)
    print(f"conformance server at http://{options.host}:{options.port}/mcp", flush=True)
    uvicorn.run(conformance_app(), host=options.host, port=options.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
