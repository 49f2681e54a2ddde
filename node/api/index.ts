export { createApiServer, DEFAULT_LIMITS, type ApiServer, type ApiServerOptions, type ApiLimits } from "./server.ts";
export { ApiKeyStore, createApiKey, hashApiKey, expandScopes, SCOPES, type ApiKeyRecord, type Principal, type Scope } from "./apiKeys.ts";
export { ApiProblem, problem, toProblem, PROBLEM_BASE, PROBLEM_CONTENT_TYPE, type Problem, type FieldError } from "./problem.ts";
export type { HttpMethod, RouteContext, RouteHandler, RouteOptions, RouteResult, RouteDoc, AuthRequirement } from "./router.ts";
export { buildOpenApi } from "./openapi.ts";
export { validate, type Schema } from "./validate.ts";
