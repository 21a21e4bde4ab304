// OpenAPI upstreams: REST operations served as MCP tools with Deputy's own credential per API.
export { createOpenApiToolset, OpenApiToolset, type OpenApiReport, type OpenApiToolsetOptions } from './toolset.ts';
export { parseOpenApiOptions, type OpenApiOptions } from './options.ts';
export { prefixedToolName, toolNameBudget, TOOL_NAME_MAX } from './names.ts';
