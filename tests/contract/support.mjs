// Contract tests against Twilio's official OpenAPI description (twilio-oai), shipped by the pinned dev dependency
// `@twilio-alpha/mcp@0.7.0` under twilio-oai/spec/json/. The spec is the oracle; nothing here encodes our own
// reading of Twilio except where a comment names another source.
//
// The stack, per test file:
//   flexdesk-auth ──> recorder (one per Twilio domain, node:http) ──> Prism proxy --errors (one per domain) ──> emulator
// The recorders log every request (method, path, query and form parameter names and values, content type) and the
// answer that came back. Prism validates requests and responses as they pass; `checkRequest` / `checkAnswer` below
// check what Prism does not (see the notes on Prism below).
//
// Over 600 lines because it is the one harness of every contract test: spec reading, the request and answer checks
// Prism leaves out, and the recorder/Prism/emulator stack; each part is used by all the contract test files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ROOT, routedTask, startBinary } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';

export const SPEC_DIR = path.join(ROOT, 'node_modules/@twilio-alpha/mcp/twilio-oai/spec/json');
const PRISM_BIN = path.join(ROOT, 'node_modules/.bin/prism');

// What Prism 5.16 (`prism proxy <spec> <upstream> --errors`) does, verified offline against a scripted upstream
// (the checks below exist because of these facts):
// - Request side, answered by Prism and NOT forwarded: a missing required form parameter, a form or query value
//   breaking its schema (enum, integer), a path parameter breaking its pattern (`/v1/Interactions/XYZ/…`): 422
//   application/problem+json, type …/errors#UNPROCESSABLE_ENTITY, each violation in `validation`. A JSON body where
//   the spec takes a form: 422 (code 415). Unknown path: 404 …#NO_PATH_MATCHED_ERROR; unknown method: 405
//   …#NO_METHOD_MATCHED_ERROR; no `Authorization: Basic`: 401 …#UNAUTHORIZED (a wrong Basic password is forwarded:
//   Prism cannot check it). Prism logs only "Request terminated with error: <type>: <title>" for these.
// - NOT flagged, forwarded as is: form parameter names the schema lacks (the schemas allow extra properties), query
//   parameter names the operation lacks. `checkRequest` checks those.
// - Response side: a 2xx the operation does not declare, another media type, or a body breaking the schema (type,
//   enum, pattern, minLength) is replaced by 500 …/errors#VIOLATIONS listing each violation. A 4xx/5xx is forwarded
//   unchanged whatever its body, with only the logged warning "Violation: response Unable to match the returned
//   status code with those defined in the document": the Twilio specs declare no error responses (every operation
//   declares only 200/201/202/204). Response fields the schema lacks, or declared ones missing, are not flagged.
//   `checkAnswer` checks those, and Twilio's error body.
// - Prism SILENTLY SKIPS response validation when the response schema holds `nullable: true` without `type` (e.g.
//   conversations.v1.conversation `timers`, flex.v1.interaction `channel`, task_queue_real_time_statistics
//   `tasks_by_status`): `{"sid": 5, "state": "weird"}` passes FetchConversation, with no log line even at -v trace.
//   `prismSpec` removes such a `nullable` (a schema without `type` already admits null: same meaning), after which
//   Prism validates those responses.

const PRISM_ERROR_PREFIX = 'https://stoplight.io/prism/errors#';

/** The Twilio domains the auth server calls (Studio: only `doctor`), each with its spec file(s) and base-URL key. */
export const DOMAINS = {
  flex: { host: 'flex-api.twilio.com', files: ['twilio_flex_v1.json', 'twilio_flex_v2.json'], env: 'TWILIO_FLEX_API_URL' },
  conversations: { host: 'conversations.twilio.com', files: ['twilio_conversations_v1.json'], env: 'TWILIO_CONVERSATIONS_API_URL' },
  taskrouter: { host: 'taskrouter.twilio.com', files: ['twilio_taskrouter_v1.json'], env: 'TWILIO_TASKROUTER_API_URL' },
  studio: { host: 'studio.twilio.com', files: ['twilio_studio_v2.json'], env: 'TWILIO_STUDIO_API_URL' },
};

const specCache = new Map();

/**
 * The spec of one domain: flex v1 and v2 are both served by flex-api.twilio.com (their `servers`), and the auth
 * server has one TWILIO_FLEX_API_URL, so their paths and schemas are merged (no path or schema name is in both).
 * Returns { name, host, files, doc, sourceOf: {template: file} }.
 */
export function loadSpec(name) {
  if (specCache.has(name)) return specCache.get(name);
  const { host, files } = DOMAINS[name];
  const doc = { openapi: '3.0.1', paths: {}, components: { schemas: {}, securitySchemes: {} } };
  const sourceOf = {};
  for (const file of files) {
    const part = JSON.parse(readFileSync(path.join(SPEC_DIR, file), 'utf8'));
    Object.assign(doc, { info: part.info, servers: part.servers, security: part.security });
    for (const [template, item] of Object.entries(part.paths)) {
      if (doc.paths[template]) throw new Error(`${template} is in two ${name} spec files`);
      doc.paths[template] = item;
      sourceOf[template] = file;
    }
    for (const [key, schema] of Object.entries(part.components.schemas)) {
      if (doc.components.schemas[key]) throw new Error(`schema ${key} is in two ${name} spec files`);
      doc.components.schemas[key] = schema;
    }
    Object.assign(doc.components.securitySchemes, part.components.securitySchemes);
  }
  const spec = { name, host, files, doc, sourceOf };
  specCache.set(name, spec);
  return spec;
}

/** The spec as Prism gets it: merged, with `nullable` removed where it has no `type` (see the notes on Prism). */
function prismSpec(spec) {
  const copy = structuredClone(spec.doc);
  const walk = (o) => {
    if (!o || typeof o !== 'object') return;
    if (o.nullable === true && o.type === undefined && o.$ref === undefined) delete o.nullable;
    for (const v of Object.values(o)) walk(v);
  };
  walk(copy);
  return copy;
}

// ---- spec lookups ---------------------------------------------------------------------------------------------

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/** Follows `#/components/schemas/...` references. */
export function resolve(doc, schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 20; i++) {
    const key = s.$ref.replace(/^#\/components\/schemas\//, '');
    s = doc.components.schemas[key];
  }
  return s ?? {};
}

const schemaName = (schema) => (schema?.$ref ? schema.$ref.replace(/^#\/components\/schemas\//, '') : 'the schema');

/**
 * The path template of `spec` that `pathname` matches, preferring literal segments over `{Param}` ones
 * (`/Workers/Statistics` over `/Workers/{Sid}`). Returns { template, item, params } or null.
 */
export function matchPath(spec, pathname) {
  const parts = pathname.split('/');
  let best = null;
  for (const [template, item] of Object.entries(spec.doc.paths)) {
    const tparts = template.split('/');
    if (tparts.length !== parts.length) continue;
    const params = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < tparts.length && ok; i++) {
      const m = tparts[i].match(/^\{(\w+)\}$/);
      if (m) params[m[1]] = decodeURIComponent(parts[i]);
      else if (tparts[i] === parts[i]) literals++;
      else ok = false;
    }
    if (ok && (!best || literals > best.literals)) best = { template, item, params, literals };
  }
  return best && { template: best.template, item: best.item, params: best.params };
}

/** Operation label for messages: `CreateWebChannel (twilio_flex_v2.json POST /v2/WebChats)`. */
export function opLabel(spec, template, method) {
  const op = spec.doc.paths[template]?.[method.toLowerCase()];
  return `${op?.operationId ?? '?'} (${spec.sourceOf[template]} ${method.toUpperCase()} ${template})`;
}

/** Problems of one value against a parameter schema: enum, pattern, length, integer, boolean. */
function valueProblems(doc, schema, value) {
  const s = resolve(doc, schema);
  const out = [];
  if (s.enum && !s.enum.includes(value)) out.push(`is not one of ${s.enum.join(', ')}`);
  if (s.type === 'string' || s.pattern) {
    if (s.pattern && !new RegExp(s.pattern).test(value)) out.push(`does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength) out.push(`is shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) out.push(`is longer than ${s.maxLength}`);
  }
  if (s.type === 'integer' && !/^-?\d+$/.test(value)) out.push('is not an integer');
  if (s.type === 'boolean' && !/^(true|false)$/.test(value)) out.push('is not true or false');
  return out;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Checks one recorded request against the spec of the domain it was sent to; returns a list of problems
 * (empty = conforms). `rec`: { domain, method, path, query: [[name, value]], contentType, form: [[name, value]] | null }.
 * `others`: the other domains' specs (to say where a misrouted path belongs). `conversationsServiceSid`: the
 * auth server's TWILIO_CONVERSATIONS_SERVICE_SID (see the service-scope rule below).
 */
export function checkRequest(spec, rec, { others = [], conversationsServiceSid } = {}) {
  const problems = [];
  const method = rec.method.toLowerCase();
  const where = `${rec.method} ${rec.path}`;
  const m = matchPath(spec, rec.path);
  // Rule: host family. Each path belongs to one domain (the path item's `servers`, e.g. https://flex-api.twilio.com).
  if (!m) {
    const home = others.find((o) => matchPath(o, rec.path));
    if (home) {
      const t = matchPath(home, rec.path).template;
      problems.push(`${where} was sent to ${spec.host}, but ${t} is a ${home.host} path (${home.sourceOf[t]})`);
    } else {
      problems.push(`${where}: no path template of ${spec.files.join(' + ')} (${spec.host}) matches ${rec.path}`);
    }
    return problems;
  }
  const { template, item, params } = m;
  const file = spec.sourceOf[template];
  const serverHosts = (item.servers ?? spec.doc.servers ?? []).map((s) => new URL(s.url).host);
  if (!serverHosts.includes(spec.host)) {
    problems.push(`${where}: ${template} (${file}) is served by ${serverHosts.join(', ')}, but was sent to ${spec.host}`);
  }
  // Rule: method. The path item must define the operation.
  const op = item[method];
  if (!op) {
    const defined = METHODS.filter((x) => item[x]).map((x) => x.toUpperCase());
    problems.push(`${where}: ${template} (${file}) has no ${rec.method} operation (it has ${defined.join(', ')})`);
    return problems;
  }
  const label = `${op.operationId} (${file} ${rec.method} ${template})`;
  const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])];
  // Rule: path parameters match their schemas (pattern, length). Prism also refuses these (422); checked here too so
  // the message names the operation and the auth route.
  for (const p of declared.filter((x) => x.in === 'path')) {
    if (params[p.name] === undefined) continue;
    for (const why of valueProblems(spec.doc, p.schema, params[p.name])) {
      problems.push(`${label}: path parameter ${p.name}=${JSON.stringify(params[p.name])} ${why}`);
    }
  }
  // Rule: query parameters are the operation's `in: query` parameters; required ones present.
  const queryDeclared = declared.filter((x) => x.in === 'query');
  const queryNames = new Set((rec.query ?? []).map(([k]) => k));
  for (const name of queryNames) {
    const p = queryDeclared.find((x) => x.name === name);
    if (!p) {
      problems.push(`${label}: query parameter "${name}" is not in the spec (it takes: ${queryDeclared.map((x) => x.name).join(', ') || 'none'})`);
    }
  }
  for (const p of queryDeclared.filter((x) => x.required && !queryNames.has(x.name))) {
    problems.push(`${label}: required query parameter "${p.name}" is missing`);
  }
  for (const [k, v] of rec.query ?? []) {
    const p = queryDeclared.find((x) => x.name === k);
    if (p) for (const why of valueProblems(spec.doc, p.schema, v)) problems.push(`${label}: query parameter ${k}=${JSON.stringify(v)} ${why}`);
  }
  // Rule: form parameters are properties of the requestBody's application/x-www-form-urlencoded schema;
  // a name the spec does not have is a failure; `required` ones present; values meet enum/pattern.
  const form = rec.form ?? [];
  const body = op.requestBody?.content;
  if (rec.form === null && rec.bodyLength) {
    problems.push(`${label}: the body is ${rec.contentType ?? 'untyped'}, not ${FORM}${body ? '' : ' (and the operation takes no body)'}`);
  }
  if (!body) {
    if (form.length) problems.push(`${label} takes no request body, but the request sent form parameters ${form.map(([k]) => k).join(', ')}`);
    return problems.concat(serviceScopeProblems(spec, rec, m, label, conversationsServiceSid));
  }
  if (rec.contentType && !Object.keys(body).some((ct) => rec.contentType.startsWith(ct))) {
    problems.push(`${label}: Content-Type ${rec.contentType} is not one the spec accepts (${Object.keys(body).join(', ')})`);
  }
  const schema = resolve(spec.doc, body[FORM]?.schema);
  const properties = schema.properties ?? {};
  const allowed = Object.keys(properties);
  const sent = new Set(form.map(([k]) => k));
  for (const name of sent) {
    if (!(name in properties)) {
      problems.push(`${label}: form parameter "${name}" is not in the spec (${schema.title ?? 'the request body'} has: ${allowed.join(', ')})`);
    }
  }
  for (const name of schema.required ?? []) {
    if (!sent.has(name)) problems.push(`${label}: required form parameter "${name}" is missing`);
  }
  for (const [k, v] of form) {
    if (properties[k]) for (const why of valueProblems(spec.doc, properties[k], v)) problems.push(`${label}: form parameter ${k}=${JSON.stringify(v)} ${why}`);
  }
  return problems.concat(serviceScopeProblems(spec, rec, m, label, conversationsServiceSid));
}

/**
 * Rule (twilio_conversations_v1.json): the un-scoped conversation operations address "your account's default
 * service" (FetchConversation: "Fetch a conversation from your account's default service"; UpdateConversation,
 * CreateConversation likewise), while their twins under /v1/Services/{ChatServiceSid}/… (FetchServiceConversation:
 * "Fetch a conversation from your service") address a named one. The auth server mints tokens for
 * TWILIO_CONVERSATIONS_SERVICE_SID, so every conversation call must use the service-scoped twin with that SID.
 */
function serviceScopeProblems(spec, rec, { template, params }, label, serviceSid) {
  if (spec.name !== 'conversations' || !serviceSid) return [];
  const scoped = '/v1/Services/{ChatServiceSid}';
  if (template.startsWith(`${scoped}/`)) {
    return params.ChatServiceSid === serviceSid
      ? []
      : [`${label}: ChatServiceSid ${params.ChatServiceSid} is not the configured TWILIO_CONVERSATIONS_SERVICE_SID ${serviceSid}`];
  }
  // The account's own configuration is read on purpose (`flexdesk-auth doctor`: is the Flex service the default?
  // which account-level webhook target is set?): FetchConfiguration and FetchConfigurationWebhook describe the account,
  // and their scoped namesakes are another resource (one service's settings), not the same call for a named service.
  if (rec.method === 'GET' && (template === '/v1/Configuration' || template === '/v1/Configuration/Webhooks')) return [];
  const twinTemplate = scoped + template.replace(/^\/v1/, '');
  const twin = spec.doc.paths[twinTemplate]?.[rec.method.toLowerCase()];
  if (!twin) return [];
  const op = spec.doc.paths[template][rec.method.toLowerCase()];
  const said = /default service/.test(op.description ?? '')
    ? `${op.operationId}: "${op.description}"`
    : `the un-scoped /v1/Conversations/… operations, e.g. FetchConversation: "${spec.doc.paths['/v1/Conversations/{Sid}'].get.description}"`;
  return [
    `${label} addresses the account's default Conversations service (spec: ${said}), not the configured ` +
      `service ${serviceSid}; the spec's operation for a named service is ${twin.operationId} (${rec.method} ${twinTemplate})`,
  ];
}

// ---- answers --------------------------------------------------------------------------------------------------

const jsonType = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

/**
 * Field names of `value` against `schema`: every object field must be a declared property (recursively, where the
 * spec declares nested properties or array items). Where the schema leaves a property untyped (e.g.
 * flex.v1.interaction `channel`, `routing`), the operation's response example in the same spec file is the only
 * description of its shape: there a JSON type different from the example's is reported (missing or extra keys are
 * not, examples are not exhaustive).
 */
function fieldProblems(doc, schemaRef, value, where, examples, exampleLabel) {
  const schema = resolve(doc, schemaRef);
  const out = [];
  if (value === null || value === undefined) return out;
  const untyped = !schema.type && !schema.properties && !schema.items && !schema.enum;
  if (untyped) {
    const shaped = examples.filter((e) => e !== undefined && e !== null);
    if (shaped.length) out.push(...exampleProblems(value, shaped, where, exampleLabel));
    return out;
  }
  if (schema.properties && jsonType(value) === 'object') {
    // A declared field the spec's examples all carry must be there (null where the schema says nullable): the
    // examples of every operation checked here carry exactly the schema's properties.
    const shown = examples.filter((e) => jsonType(e) === 'object');
    for (const k of Object.keys(schema.properties)) {
      if (shown.length && shown.every((e) => k in e) && !(k in value)) {
        out.push(`${where}.${k} is missing (a field of ${schemaName(schemaRef)}, present in the spec's example ${exampleLabel})`);
      }
    }
    for (const [k, v] of Object.entries(value)) {
      if (!(k in schema.properties)) {
        out.push(`${where}.${k} is not a field of ${schemaName(schemaRef)} (it has: ${Object.keys(schema.properties).join(', ')})`);
        continue;
      }
      out.push(...fieldProblems(doc, schema.properties[k], v, `${where}.${k}`, examples.map((e) => e?.[k]), exampleLabel));
    }
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    value.forEach((v, i) =>
      out.push(...fieldProblems(doc, schema.items, v, `${where}[${i}]`, examples.flatMap((e) => (Array.isArray(e) ? [e[0]] : [])), exampleLabel)),
    );
  }
  return out;
}

function exampleProblems(value, examples, where, exampleLabel) {
  const t = jsonType(value);
  const kinds = new Set(examples.map(jsonType));
  const same = (a, b) => a === b || (a === 'integer' && b === 'number') || (a === 'number' && b === 'integer');
  if (![...kinds].some((k) => same(k, t))) {
    return [`${where} is ${t === 'integer' ? 'a number' : `a JSON ${t}`}; the spec's example ${exampleLabel} has ${[...kinds].join(' or ')} (the schema leaves it untyped)`];
  }
  const out = [];
  if (t === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const sub = examples.filter((e) => jsonType(e) === 'object' && e[k] !== undefined && e[k] !== null).map((e) => e[k]);
      if (sub.length && v !== null) out.push(...exampleProblems(v, sub, `${where}.${k}`, exampleLabel));
    }
  }
  return out;
}

/**
 * Twilio's REST error body (not in the spec files, which declare no error responses: Twilio's "Errors" docs and
 * /work/shared/reference/twilio-flex.md): {"code": 20404, "message": "…", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}.
 */
export function twilioErrorProblems(status, body, where) {
  if (jsonType(body) !== 'object') return [`${where}: HTTP ${status} answer is not Twilio's JSON error body {code, message, more_info, status}: ${JSON.stringify(body)?.slice(0, 200)}`];
  const out = [];
  const want = { code: 'integer', message: 'string', more_info: 'string', status: 'integer' };
  for (const [k, t] of Object.entries(want)) {
    if (!(k in body)) out.push(`${where}: HTTP ${status} error body lacks "${k}" (Twilio's error body is {code, message, more_info, status})`);
    else if (jsonType(body[k]) !== t) out.push(`${where}: HTTP ${status} error body "${k}" is ${jsonType(body[k])}, Twilio's is ${t}`);
  }
  if (jsonType(body.status) === 'integer' && body.status !== status) out.push(`${where}: error body status ${body.status} differs from the HTTP status ${status}`);
  return out;
}

const isPrismError = (rec) => typeof rec.responseBody?.type === 'string' && rec.responseBody.type.startsWith(PRISM_ERROR_PREFIX);

/**
 * Checks one recorded answer: Prism let it through (else its validation messages are the problems); a success status
 * is one the operation declares, with the declared media type, and every field of the body is in the response schema;
 * an error is Twilio's error body. Returns a list of problems.
 */
export function checkAnswer(spec, rec) {
  let where = `${rec.method} ${rec.path} → ${rec.status}`;
  if (isPrismError(rec)) {
    const b = rec.responseBody;
    const details = (b.validation ?? []).map((v) => `${(v.location ?? []).join('.')}: ${v.message}`).join('; ');
    return [`${where}: Prism answered instead of the emulator: ${b.type.slice(PRISM_ERROR_PREFIX.length)} (${b.title})${details ? `: ${details}` : ''}`];
  }
  const m = matchPath(spec, rec.path);
  const op = m?.item[rec.method.toLowerCase()];
  if (!op) return [`${where}: no ${spec.host} operation for this request (see the request checks)`];
  const label = `${op.operationId} (${spec.sourceOf[m.template]})`;
  where = `${rec.method} ${m.template} → ${rec.status}`;
  if (rec.status >= 400) return twilioErrorProblems(rec.status, rec.responseBody, `${label} ${where}`);
  const response = op.responses[String(rec.status)];
  if (!response) return [`${label} ${where}: HTTP ${rec.status} is not a status of this operation (it declares ${Object.keys(op.responses).join(', ')})`];
  if (!response.content) return rec.responseText ? [`${label} ${where}: the spec declares no body for ${rec.status}, got ${rec.responseText.slice(0, 100)}`] : [];
  const media = Object.keys(response.content);
  if (!media.some((t) => (rec.responseContentType ?? '').startsWith(t))) {
    return [`${label} ${where}: Content-Type ${rec.responseContentType} is not ${media.join(', ')}`];
  }
  const content = response.content['application/json'];
  const examples = Object.entries(content.examples ?? {});
  return fieldProblems(
    spec.doc,
    content.schema,
    rec.responseBody,
    'body',
    examples.map(([, e]) => e.value),
    `"${examples.map(([k]) => k).join('", "')}"`,
  ).map((p) => `${label} ${where}: ${p}`);
}

// ---- the stack ------------------------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One `prism proxy <spec> <upstream> --errors`; resolves to { url, log(), stop() }. */
async function startPrism(specFile, upstream, { timeoutMs = 30000 } = {}) {
  const port = await freePort();
  const child = spawn(PRISM_BIN, ['proxy', specFile, upstream, '--errors', '-p', String(port), '-h', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`prism did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.on('exit', (code) => reject(new Error(`prism exited with ${code}:\n${out}`)));
    const check = () => {
      if (out.includes('Prism is listening on')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => out,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

const readBody = (stream) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

/** A node:http recorder in front of one Prism: records each exchange into `records`, stamped with `stamp()`. */
async function startRecorder(domain, upstream, records, stamp) {
  const target = new URL(upstream);
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url, 'http://recorder');
    const contentType = req.headers['content-type'] ?? null;
    const rec = {
      ...stamp(),
      domain,
      method: req.method,
      path: url.pathname,
      query: [...url.searchParams],
      contentType,
      form: contentType?.startsWith(FORM) || (body.length && !contentType) ? [...new URLSearchParams(body.toString('utf8'))] : body.length ? null : [],
      bodyLength: body.length,
    };
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, async (up) => {
      const answer = await readBody(up);
      rec.status = up.statusCode;
      rec.responseContentType = up.headers['content-type'] ?? null;
      rec.responseText = answer.toString('utf8');
      try {
        rec.responseBody = rec.responseText ? JSON.parse(rec.responseText) : null;
      } catch {
        rec.responseBody = rec.responseText;
      }
      records.push(rec);
      const out = { ...up.headers };
      delete out['transfer-encoding'];
      delete out.connection;
      out['content-length'] = String(answer.length);
      res.writeHead(up.statusCode, out);
      res.end(answer);
    });
    forward.on('error', (e) => {
      rec.status = 599;
      rec.responseText = `recorder could not reach Prism: ${e.message}`;
      records.push(rec);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(rec.responseText);
    });
    forward.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Emulator + one Prism and one recorder per domain. `startAuth(mode)` adds an auth server pointed at the recorders.
 * Every exchange lands in `records`, stamped with the current `step` (set by the driver).
 */
export async function startContractStack() {
  const records = [];
  const state = { step: 'direct', mode: null };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-contract-'));
  const cleanup = [];
  try {
    const emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
    cleanup.push(() => emulator.stop());
    const specs = Object.fromEntries(Object.keys(DOMAINS).map((name) => [name, loadSpec(name)]));
    const prisms = {};
    const recorders = {};
    await Promise.all(
      Object.keys(DOMAINS).map(async (name) => {
        const file = path.join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(prismSpec(specs[name])));
        prisms[name] = await startPrism(file, emulator.url);
        cleanup.push(() => prisms[name].stop());
        recorders[name] = await startRecorder(name, prisms[name].url, records, () => ({ step: state.step, mode: state.mode }));
        cleanup.push(() => recorders[name].stop());
      }),
    );
    const auths = [];
    const stack = {
      emulator,
      prisms,
      recorders,
      specs,
      records,
      state,
      /** An auth server for FLEX_START_MODE=`mode`, all three Twilio base URLs pointing at the recorders. */
      async startAuth(mode, env = {}) {
        const auth = await startBinary('flexdesk-auth', {
          PORT: '0',
          FLEX_START_MODE: mode,
          TWILIO_FLEX_API_URL: recorders.flex.url,
          TWILIO_CONVERSATIONS_API_URL: recorders.conversations.url,
          TWILIO_TASKROUTER_API_URL: recorders.taskrouter.url,
          TWILIO_STUDIO_API_URL: recorders.studio.url,
          RATE_LIMIT_PER_MINUTE: '1000000',
          RATE_LIMIT_BURST: '1000000',
          AVAILABILITY_CACHE_SECONDS: '0',
          TWILIO_RETRY_BASE_MS: '20',
          // Continue by SMS on, so its one Twilio call (CreateServiceConversationParticipant with a messaging binding)
          // is checked too.
          TWILIO_SMS_NUMBER: '+15005550006',
          SMS_ALLOWED_CALLING_CODES: '1',
          ...env,
        });
        auths.push(auth);
        return auth;
      },
      /** Prism's logged violations that did not turn into an error answer. */
      prismWarnings() {
        return Object.entries(prisms).flatMap(([name, p]) =>
          p
            .log()
            .split('\n')
            .filter((l) => /Violation:/.test(l))
            .map((l) => `${name}: ${l.replace(/^.*Violation:\s*/, '')}`),
        );
      },
      async stop() {
        for (const a of auths.reverse()) await a.stop();
        for (const f of cleanup.reverse()) await f();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (e) {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---- driving the auth server ----------------------------------------------------------------------------------

export const MODES = ['webchat', 'interactions', 'flexflow'];

const call = async (url, method = 'GET', body) => {
  const r = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: r.status, json, text };
};

/** Arms the emulator's fault injection (crates/flexdesk-emulator/src/admin.rs): the next `count` REST calls fail. */
async function fault(emulatorUrl, status, count = 1) {
  const r = await call(`${emulatorUrl}/admin/faults`, 'POST', { rest: { status, count } });
  if (r.status !== 200) throw new Error(`could not arm the fault: ${r.status} ${r.text}`);
}

/**
 * Drives every auth route in one start mode, with retries (an injected 503 on the first Twilio call of a route),
 * the agent closing a chat and the customer ending it after. Returns the steps: { name, expected, status, body }.
 */
export async function driveAuth(stack, mode) {
  const auth = await stack.startAuth(mode);
  stack.state.mode = mode;
  const steps = [];
  const run = async (name, expected, fn) => {
    stack.state.step = name;
    let r;
    try {
      r = await fn();
    } catch (e) {
      r = { status: 0, text: String(e) };
    }
    steps.push({ name, expected, status: r.status, body: r.text });
    return r;
  };
  const handoff = {
    message_to_human_agent: 'Please help with my invoice',
    topic: 'billing',
    transcript: [
      { from: 'user', text: 'my invoice is wrong' },
      { from: 'bot', text: 'let me get a person' },
    ],
  };
  const start = (name) =>
    run(name, 201, () => call(`${auth.url}/v1/sessions`, 'POST', { customerName: 'Ada Lovelace', preEngagement: { email: 'ada@example.com' }, handoff }));
  const refresh = (name, s, expected = 200) =>
    run(name, expected, () => call(`${auth.url}/v1/sessions/${s?.sessionId}/token`, 'POST', { sessionCredential: s?.sessionCredential }));
  const end = (name, s) => run(name, 204, () => call(`${auth.url}/v1/sessions/${s?.sessionId}`, 'DELETE', { sessionCredential: s?.sessionCredential }));

  try {
    await run('GET /v1/agents/availability', 200, () => call(`${auth.url}/v1/agents/availability`));
    await fault(stack.emulator.url, 503);
    await run('GET /v1/agents/availability (after a 503, retried)', 200, () => call(`${auth.url}/v1/agents/availability`));

    // A start's conversation timers are set once it has answered (issue 28; webchat and Flex Flow modes): wait for
    // that call, so the fault armed next meets the next route's own first call.
    const timersSet = async (s) => {
      const done = () => stack.records.some((r) => r.path.endsWith(`/Conversations/${s?.conversationSid}`) && r.form?.some(([k]) => k === 'Timers.Closed'));
      for (let i = 0; mode !== 'interactions' && i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    const s1 = (await start('POST /v1/sessions')).json;
    await timersSet(s1);
    await fault(stack.emulator.url, 503);
    const s2 = (await start('POST /v1/sessions (after a 503, retried)')).json;
    await timersSet(s2);

    // The second chat's own place in the queue (TaskRouter Tasks list + the queue's cumulative statistics).
    const queue = (name) =>
      run(name, 200, async () => {
        const r = await fetch(`${auth.url}/v1/sessions/${s2?.sessionId}/queue`, { headers: { authorization: `Bearer ${s2?.sessionCredential}` } });
        return { status: r.status, text: await r.text() };
      });
    await queue('GET /v1/sessions/{id}/queue');
    await fault(stack.emulator.url, 503);
    await queue('GET /v1/sessions/{id}/queue (after a 503, retried)');

    // The second chat goes on by SMS too (a number per mode: Twilio keeps one open conversation per number pair).
    const phone = `+1415555${String(100 + MODES.indexOf(mode)).padStart(4, '0')}`;
    await run('POST /v1/sessions/{id}/sms', 200, () => call(`${auth.url}/v1/sessions/${s2?.sessionId}/sms`, 'POST', { sessionCredential: s2?.sessionCredential, phone }));

    await refresh('POST /v1/sessions/{id}/token', s1);
    await fault(stack.emulator.url, 503);
    await refresh('POST /v1/sessions/{id}/token (after a 503, retried)', s1);

    await fault(stack.emulator.url, 503);
    await end('DELETE /v1/sessions/{id} (after a 503, retried)', s1);
    await end('DELETE /v1/sessions/{id} (again: idempotent)', s1);
    await refresh('POST /v1/sessions/{id}/token (after the customer ended: refused)', s1, 404);

    // The agent ends the second chat (emulator agent API), then the customer ends it too, then tries a refresh.
    stack.state.step = 'agent ends the chat (emulator agent API)';
    // (Once Flex's pipeline routed it: a chat closed before that never gets a task, and nothing would be rated.)
    const task = s2 ? await routedTask(stack.emulator.url, s2.conversationSid).catch(() => null) : null;
    if (task) await call(`${stack.emulator.url}/agent/api/tasks/${task.sid}/end`, 'POST', {});
    await end('DELETE /v1/sessions/{id} (after the agent ended the chat)', s2);
    await refresh('POST /v1/sessions/{id}/token (after the agent and the customer ended: refused)', s2, 404);
    // The customer rates the chat the agent ended (issue 28): the chat's newest task (ListTask newest first, FetchTask)
    // gets the rating in its attributes (UpdateTask).
    await run('POST /v1/sessions/{id}/rating', 204, () => call(`${auth.url}/v1/sessions/${s2?.sessionId}/rating`, 'POST', { sessionCredential: s2?.sessionCredential, score: 4, comment: 'kind' }));
  } finally {
    stack.state.step = 'direct';
    stack.state.mode = null;
    await call(`${stack.emulator.url}/admin/faults`, 'DELETE');
  }
  return steps;
}

/** The fake account's Basic credentials (tests/support/fake-env.mjs), as the auth server sends them. */
export const BASIC = `Basic ${Buffer.from(`${FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID}:${FAKE_TWILIO_ENV.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
export const WRONG_BASIC = `Basic ${Buffer.from(`${FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID}:wrong-auth-token`).toString('base64')}`;

/** A Twilio REST call through a domain's recorder and Prism, as a Twilio helper library would make it. */
export async function twilio(stack, domain, method, pathAndQuery, form, { authorization = BASIC } = {}) {
  const headers = { authorization, accept: 'application/json' };
  let body;
  if (form) {
    headers['content-type'] = FORM;
    body = new URLSearchParams(form).toString();
  }
  const before = stack.records.length;
  const r = await fetch(`${stack.recorders[domain].url}${pathAndQuery}`, { method, headers, body });
  await r.arrayBuffer();
  return stack.records.slice(before).at(-1) ?? { status: r.status, method, path: pathAndQuery };
}

/** Formats problems for an assertion message. */
export const listProblems = (title, problems) => `${title}: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`;

/** Fails with every problem listed (and nothing else) unless `problems` is empty. */
export function assertNone(problems, title) {
  if (problems.length) assert.fail(listProblems(title, problems));
}

export { FAKE_TWILIO_ENV };
