import { z } from 'zod';
import { errorCodes } from './errors.ts';
import { ops, type OpDef } from './ops.ts';
import { exportRoute } from './search.ts';

const toSchema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;

const pathParams = (path: string) => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);

/** The OpenAPI 3 document, generated from the op table so it cannot drift from the code. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, def] of Object.entries(ops) as [string, OpDef][]) {
    if (!def.http) continue;
    const { method, path } = def.http;
    const params = pathParams(path);
    const oaPath = path.replace(/:([A-Za-z]+)/g, '{$1}');
    const input = toSchema(def.input, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    const props = { ...(input.properties ?? {}) };
    const parameters: unknown[] = params.map((p) => ({
      name: p,
      in: 'path',
      required: true,
      schema: props[p] ?? { type: 'string' },
    }));
    for (const p of params) delete props[p];
    const required = (input.required ?? []).filter((r) => !params.includes(r));
    let requestBody: unknown;
    if (method === 'GET' || method === 'DELETE') {
      for (const [k, v] of Object.entries(props))
        parameters.push({ name: k, in: 'query', required: required.includes(k), schema: v });
    } else {
      requestBody = {
        required: true,
        content: { 'application/json': { schema: { ...input, properties: props, required } } },
      };
    }
    paths[oaPath] ??= {};
    paths[oaPath][method.toLowerCase()] = {
      operationId: name,
      summary: def.summary,
      tags: [name.split('.')[0]],
      security: def.auth === 'none' ? [] : [{ bearer: [] }, { cookie: [] }],
      parameters,
      ...(requestBody ? { requestBody } : {}),
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: toSchema(def.output, 'output') } } },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  paths[exportRoute.path.replace(/:([A-Za-z]+)/g, '{$1}')] = { get: exportOperation() };
  return {
    openapi: '3.0.3',
    info: {
      title: 'Enclave API',
      version,
      description:
        'REST API of Enclave. Real time uses one WebSocket at /api/v1/ws carrying the same operations as `{op, ref, data}` frames; see docs/protocol.md.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'enclave_session' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(errorCodes) },
                message: { type: 'string' },
                details: {},
              },
            },
          },
        },
      },
    },
  };
}

/** The conversation export: a streamed download rather than an op, described beside the ops. */
function exportOperation(): Record<string, unknown> {
  const input = toSchema(exportRoute.input, 'input') as { properties: Record<string, unknown> };
  const file = { schema: { type: 'string', format: 'binary' } };
  return {
    operationId: 'conversation.export',
    summary: exportRoute.summary,
    tags: ['conversation'],
    security: [{ bearer: [] }, { cookie: [] }],
    parameters: [
      { name: 'conversationId', in: 'path', required: true, schema: input.properties.conversationId },
      { name: 'format', in: 'query', required: false, schema: input.properties.format },
    ],
    responses: {
      '200': {
        description: 'The export as an attachment (Content-Disposition carries the file name).',
        content: { 'text/html': file, 'application/json': file, 'text/csv': file },
      },
      default: {
        description: 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
}
