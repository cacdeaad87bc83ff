"""Real peers that other tools (the conformance suite, the MCP Inspector CLI) talk to."""
