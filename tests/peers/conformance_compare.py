"""The conformance suite's server scenarios, run directly and through the gateway, side by side.

Reads the `checks.json` files `conformance server --suite all -o DIR` writes (one folder per
scenario), prints a table, and exits 1 unless:
- directly, every scenario passes with no failure (and no warning but the known ones below);
- through the gateway, every scenario in its scope gives the same checks with the same statuses.

    python -m tests.peers.conformance_compare --direct DIR [--gateway DIR]
"""

import argparse
import json
import re
import sys
from pathlib import Path

# The gateway serves tools only (the issue: "Only tools are in scope"), statelessly, without
# passing server-to-client requests through. These scenarios are within that scope.
GATEWAY_SCOPE = (
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "json-schema-2020-12",
)
# Why the others are not, by scenario (prefixes end with "-").
OUT_OF_SCOPE = {
    "logging-set-level": "logging: the gateway declares tools only",
    "tools-call-with-logging": "logging: the gateway declares tools only",
    "tools-call-sampling": "a server-to-client request: not passed through",
    "tools-call-elicitation": "a server-to-client request: not passed through",
    "elicitation-": "a server-to-client request: not passed through",
    "server-sse-": "needs a session: the gateway is stateless",
    "resources-": "resources: the gateway declares tools only",
    "prompts-": "prompts: the gateway declares tools only",
    "completion-complete": "completions: the gateway declares tools only",
    "dns-rebinding-protection": "for unauthenticated localhost servers; the gateway wants a token",
}
# Warnings the direct run may give. server-sse-polling sends `mcp-protocol-version: 2025-03-26`,
# and the SDK (rightly) primes SSE streams for 2025-11-25 clients and later only.
KNOWN_WARNINGS = {
    ("server-sse-polling", "server-sse-priming-event"),
    ("server-sse-polling", "server-sse-retry-field"),
}
COUNTED = ("SUCCESS", "FAILURE", "WARNING")
_FOLDER = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


def read_results(folder: Path) -> dict[str, dict[str, str]]:
    """{scenario: {check id: status}} of one run, INFO checks left out."""
    results: dict[str, dict[str, str]] = {}
    for checks_file in sorted(folder.glob("*/checks.json")):
        match = _FOLDER.match(checks_file.parent.name)
        if match is None:
            continue
        checks = json.loads(checks_file.read_text())
        results[match["scenario"]] = {
            check["id"]: check["status"] for check in checks if check["status"] in COUNTED
        }
    return results


def summary(checks: dict[str, str] | None) -> str:
    if checks is None:
        return "not run"
    counts = {status: list(checks.values()).count(status) for status in COUNTED}
    text = f"{counts['SUCCESS']} ok"
    if counts["FAILURE"]:
        text += f", {counts['FAILURE']} failed"
    if counts["WARNING"]:
        text += f", {counts['WARNING']} warn"
    return text


def out_of_scope_reason(scenario: str) -> str:
    for key, reason in OUT_OF_SCOPE.items():
        if scenario == key or (key.endswith("-") and scenario.startswith(key)):
            return reason
    return ""


def _in_scope_first(scenario: str) -> tuple[bool, str]:
    return scenario not in GATEWAY_SCOPE, scenario


def compare(direct: dict, gateway: dict | None) -> tuple[list[tuple[str, ...]], list[str]]:
    """The table's rows and the problems found."""
    rows, problems = [], []
    for scenario in sorted(set(direct) | set(GATEWAY_SCOPE), key=_in_scope_first):
        mine = direct.get(scenario)
        verdict = "ok"
        if mine is None:
            problems.append(f"{scenario}: not run directly")
            verdict = "MISSING"
        else:
            failed = [c for c, s in mine.items() if s == "FAILURE"]
            warned = [c for c, s in mine.items() if s == "WARNING"]
            unknown = [c for c in warned if (scenario, c) not in KNOWN_WARNINGS]
            if failed or unknown or not mine and scenario in GATEWAY_SCOPE:
                problems.append(
                    f"{scenario}: directly, {summary(mine)} ({', '.join(failed + unknown)})"
                )
                verdict = "FAIL"
        theirs = None if gateway is None else gateway.get(scenario)
        if gateway is not None:
            if scenario in GATEWAY_SCOPE:
                if theirs != mine:
                    seen = f"through the gateway {summary(theirs)}, directly {summary(mine)}"
                    problems.append(f"{scenario}: {seen}")
                    verdict = "DIFFERS"
                elif verdict == "ok":
                    verdict = "same both ways"
            else:
                reason = out_of_scope_reason(scenario)
                if not reason:
                    problems.append(f"{scenario}: a new scenario; decide the gateway's scope")
                    verdict = "UNSORTED"
                elif verdict == "ok":
                    verdict = f"out of scope: {reason}"
        rows.append((scenario, summary(mine), "-" if gateway is None else summary(theirs), verdict))
    return rows, problems


def table(rows: list[tuple[str, ...]]) -> str:
    header = ("scenario", "direct", "gateway", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--direct", type=Path, required=True)
    parser.add_argument("--gateway", type=Path)
    options = parser.parse_args(argv)
    direct = read_results(options.direct)
    gateway = read_results(options.gateway) if options.gateway else None
    rows, problems = compare(direct, gateway)
    print(table(rows))
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems or not direct else 0


if __name__ == "__main__":
    sys.exit(main())
