// The contract checkers themselves, on hand-made records (no servers): each rule reports what it should, by name.
// Rules and spec files are those of support.mjs (twilio-oai from @twilio-alpha/mcp 0.7.0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAnswer, checkRequest, loadSpec } from './support.mjs';

const flex = loadSpec('flex');
const conversations = loadSpec('conversations');
const taskrouter = loadSpec('taskrouter');
const others = [flex, conversations, taskrouter];
const sid = (prefix) => prefix + 'a'.repeat(32);
const IS = sid('IS');

const req = (domain, method, path, form = [], query = []) => ({
  domain,
  method,
  path,
  query,
  form,
  contentType: form.length ? 'application/x-www-form-urlencoded' : null,
});

test('a conforming request has no problems', () => {
  // twilio_flex_v2.json CreateWebChannel: AddressSid (required), ChatFriendlyName, CustomerFriendlyName, PreEngagementData.
  const rec = req('flex', 'POST', '/v2/WebChats', [['AddressSid', sid('IG')], ['ChatFriendlyName', 'x'], ['CustomerFriendlyName', 'y'], ['PreEngagementData', '{}']]);
  assert.deepEqual(checkRequest(flex, rec, { others }), []);
  // twilio_conversations_v1.json UpdateServiceConversation, for the configured service.
  const close = req('conversations', 'POST', `/v1/Services/${IS}/Conversations/${sid('CH')}`, [['State', 'closed']]);
  assert.deepEqual(checkRequest(conversations, close, { others, conversationsServiceSid: IS }), []);
});

test('a form parameter the spec lacks is named; a missing required one too', () => {
  const rec = req('flex', 'POST', '/v2/WebChats', [['ChatFriendlyName', 'x'], ['Identity', 'customer-1']]);
  const problems = checkRequest(flex, rec, { others });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0], /CreateWebChannel \(twilio_flex_v2\.json POST \/v2\/WebChats\): form parameter "Identity" is not in the spec/);
  assert.match(problems[1], /required form parameter "AddressSid" is missing/);
});

test('enum values, path parameter patterns and query parameter names are checked', () => {
  // twilio_flex_v1.json UpdateInteractionChannel: InteractionSid ^KD…, Sid ^UO…; Status is closed|inactive.
  const channel = req('flex', 'POST', `/v1/Interactions/${sid('KD')}/Channels/XYZ`, [['Status', 'closed']]);
  const pattern = checkRequest(flex, channel, { others });
  assert.ok(pattern.some((p) => /path parameter Sid="XYZ" does not match \^UO/.test(p)), pattern.join('\n'));
  const bad = req('conversations', 'POST', `/v1/Services/${IS}/Conversations/${sid('CH')}`, [['State', 'ended']], [['Foo', '1']]);
  const problems = checkRequest(conversations, bad, { others, conversationsServiceSid: IS });
  assert.ok(problems.some((p) => /form parameter State="ended" is not one of inactive, active, closed/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /query parameter "Foo" is not in the spec/.test(p)), problems.join('\n'));
});

test('host family, method and path template', () => {
  const misrouted = checkRequest(flex, req('flex', 'GET', `/v1/Conversations/${sid('CH')}`), { others });
  assert.match(misrouted[0], /was sent to flex-api\.twilio\.com, but \/v1\/Conversations\/\{Sid\} is a conversations\.twilio\.com path/);
  const method = checkRequest(flex, req('flex', 'DELETE', '/v2/WebChats'), { others });
  assert.match(method[0], /has no DELETE operation \(it has POST\)/);
  const json = { ...req('flex', 'POST', '/v2/WebChats'), contentType: 'application/json', form: null, bodyLength: 30 };
  assert.ok(checkRequest(flex, json, { others }).some((p) => /Content-Type application\/json is not one the spec accepts/.test(p)));
  const unknown = checkRequest(taskrouter, req('taskrouter', 'GET', '/v1/Nope'), { others });
  assert.match(unknown[0], /no path template of twilio_taskrouter_v1\.json/);
});

test('the default-service Conversations paths are refused when a service is configured', () => {
  const rec = req('conversations', 'GET', `/v1/Conversations/${sid('CH')}`);
  const [problem] = checkRequest(conversations, rec, { others, conversationsServiceSid: IS });
  assert.match(problem, /FetchConversation .* addresses the account's default Conversations service .* FetchServiceConversation/);
  const other = req('conversations', 'GET', `/v1/Services/${sid('IS').replace(/a$/, 'b')}/Conversations/${sid('CH')}`);
  assert.match(checkRequest(conversations, other, { others, conversationsServiceSid: IS })[0], /is not the configured TWILIO_CONVERSATIONS_SERVICE_SID/);
});

const answer = (domain, method, path, status, body) => ({
  domain,
  method,
  path,
  status,
  responseContentType: 'application/json',
  responseBody: body,
  responseText: JSON.stringify(body),
});

test('answers: extra fields, missing fields, undeclared status, error body, Prism violations', () => {
  const ok = answer('flex', 'POST', '/v2/WebChats', 201, { conversation_sid: sid('CH'), identity: 'x' });
  assert.deepEqual(checkAnswer(flex, ok), []);
  const extra = checkAnswer(flex, answer('flex', 'POST', '/v2/WebChats', 201, { conversation_sid: sid('CH'), identity: 'x', bogus: 1 }));
  assert.match(extra[0], /body\.bogus is not a field of flex\.v2\.web_channel/);
  const missing = checkAnswer(flex, answer('flex', 'POST', '/v2/WebChats', 201, { conversation_sid: sid('CH') }));
  assert.match(missing[0], /body\.identity is missing/);
  const status = checkAnswer(flex, answer('flex', 'POST', '/v2/WebChats', 200, { conversation_sid: sid('CH'), identity: 'x' }));
  assert.match(status[0], /HTTP 200 is not a status of this operation \(it declares 201\)/);
  const error = checkAnswer(flex, answer('flex', 'POST', '/v2/WebChats', 404, { code: 20404, message: 'x', status: 400 }));
  assert.ok(error.some((p) => /lacks "more_info"/.test(p)) && error.some((p) => /status 400 differs from the HTTP status 404/.test(p)), error.join('\n'));
  const prism = checkAnswer(
    flex,
    answer('flex', 'POST', '/v2/WebChats', 500, {
      type: 'https://stoplight.io/prism/errors#VIOLATIONS',
      title: 'Request/Response not valid',
      validation: [{ location: ['response', 'body', 'identity'], message: 'Response body property identity must be string,null' }],
    }),
  );
  assert.match(prism[0], /Prism answered instead of the emulator: VIOLATIONS .* identity must be string/);
});
