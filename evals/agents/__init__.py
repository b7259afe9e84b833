"""Agent runtimes as candidates (`agent/<name>`): an agent program's model calls go through Fanout's
model proxy and its tool calls arrive over MCP, so the episode is scored like any other and the
runtime's own concurrency is measured. Modules: `config` (the agent's TOML), `session` (one
episode: turns, calls, state, batches), `proxy` (model proxy), `mcp_server` (tools over MCP),
`bridge` (stdio relay), `host` (both servers of a run), `rebuild` (trace from the records),
`runner` (the model kind), `concurrency` (the runtime concurrency metric)."""
