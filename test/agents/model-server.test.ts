// The stand-in model on its own (no CLI): the paths the real CLIs did not take in the spike --
// non-streaming answers, a plain shell function for codex, side calls, recording and failures.
import { afterEach, describe, expect, test } from 'vitest';
import { rateLimited, startModelServer, turn, type ModelServer } from '../helpers/model-server.js';

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** The JSON payloads of an SSE body. */
const sse = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)));

describe('model server', () => {
  test('Anthropic: a Bash tool_use then text, streaming and not, with usage and without auth headers', async () => {
    server = await startModelServer([
      turn.shell('echo hi', { usage: { input: 7, output: 3, cached: 2 } }),
      turn.say('bye'),
    ]);
    const tools = [{ name: 'Bash', input_schema: {} }];
    const r1 = await post(
      '/v1/messages?beta=true',
      { model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'go' }] },
      { 'x-api-key': 'secret', authorization: 'Bearer secret' },
    );
    const events = sse(await r1.text());
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[2].content_block).toMatchObject({ type: 'tool_use', name: 'Bash' });
    const json = events
      .filter((e) => e.delta?.type === 'input_json_delta')
      .map((e) => e.delta.partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ command: 'echo hi' });
    expect(events[6]).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 7, output_tokens: 3, cache_read_input_tokens: 2 },
    });
    const id = events[2].content_block.id;
    const r2 = await post('/v1/messages', {
      model: 'm',
      tools,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'hi\n' }] }],
    });
    expect(await r2.json()).toMatchObject({
      content: [{ type: 'text', text: 'bye' }],
      stop_reason: 'end_turn',
    });
    expect(server.mainRequests().map((r) => [r.turn, r.toolResult])).toEqual([
      [0, undefined],
      [1, 'hi\n'],
    ]);
    expect(server.requests[0]!.query).toEqual({ beta: 'true' });
    expect(server.requests[0]!.headers).not.toHaveProperty('x-api-key');
    expect(server.requests[0]!.headers).not.toHaveProperty('authorization');
  });

  test('Responses: a plain exec_command function when offered, and a message with usage', async () => {
    server = await startModelServer([turn.shell('ls'), turn.say('ok', { usage: { input: 10, cached: 5 } })]);
    const tools = [{ type: 'function', name: 'exec_command', parameters: {} }];
    const events = sse(
      await (await post('/v1/responses', { model: 'g', stream: true, tools, input: [] })).text(),
    );
    const done = events.find((e) => e.type === 'response.output_item.done');
    expect(done.item).toMatchObject({ type: 'function_call', name: 'exec_command' });
    expect(JSON.parse(done.item.arguments)).toEqual({ cmd: 'ls' });
    expect(events[0].type).toBe('response.created');
    const input = [{ type: 'function_call_output', call_id: done.item.call_id, output: 'a\nb' }];
    const events2 = sse(
      await (await post('/v1/responses', { model: 'g', stream: true, tools, input })).text(),
    );
    expect(events2.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual([
      'ok',
    ]);
    expect(events2[events2.length - 1]).toMatchObject({
      type: 'response.completed',
      response: { usage: { input_tokens: 15, input_tokens_details: { cached_tokens: 5 } } },
    });
    expect(server.mainRequests()[1]!.toolResult).toBe('a\nb');
  });

  test('Gemini: run_shell_command, a side call fitted to its schema, countTokens', async () => {
    server = await startModelServer([turn.shell('pwd')]);
    const tools = [{ functionDeclarations: [{ name: 'run_shell_command' }] }];
    const side = await post('/v1beta/models/flash:generateContent', {
      contents: [],
      generationConfig: {
        responseJsonSchema: {
          type: 'OBJECT',
          properties: {
            score: { type: 'INTEGER' },
            next_speaker: { type: 'STRING', enum: ['model', 'user'] },
          },
        },
      },
    });
    const sideText = ((await side.json()) as any).candidates[0].content.parts[0].text;
    expect(JSON.parse(sideText)).toEqual({ score: 1, next_speaker: 'user' });
    const main = await post('/v1beta/models/pro:streamGenerateContent?alt=sse', { contents: [], tools });
    const events = sse(await main.text());
    expect(events[0].candidates[0].content.parts[0]).toEqual({
      functionCall: { name: 'run_shell_command', args: { command: 'pwd' } },
    });
    expect(events[0].usageMetadata).toMatchObject({ promptTokenCount: 100, candidatesTokenCount: 20 });
    expect(await (await post('/v1beta/models/pro:countTokens', { contents: [] })).json()).toHaveProperty(
      'totalTokens',
    );
    expect(server.requests.map((r) => r.role)).toEqual(['side', 'main', 'other']);
    expect(server.requests.map((r) => r.turn)).toEqual([undefined, 0, undefined]);
  });

  test('failures: a 429 repeats with its headers, HEAD / answers, an exhausted script says so', async () => {
    server = await startModelServer([rateLimited('anthropic', { resetAt: 1234, times: 2 })]);
    const body = { model: 'm', tools: [{ name: 'Bash' }], messages: [] };
    for (let i = 0; i < 2; i++) {
      const r = await post('/v1/messages', body);
      expect(r.status).toBe(429);
      expect(r.headers.get('anthropic-ratelimit-unified-status')).toBe('rejected');
      expect(r.headers.get('anthropic-ratelimit-unified-reset')).toBe('1234');
      expect(r.headers.get('retry-after')).toBe('3600');
    }
    const r3 = await post('/v1/messages', body);
    expect(r3.status).toBe(200);
    expect(server.overrun).toBe(1);
    expect((await fetch(server.url, { method: 'HEAD' })).status).toBe(200);
  });

  test('hang and stall: no answer, and headers with no body', async () => {
    server = await startModelServer([turn.stall(1), turn.hang()]);
    const body = { model: 'm', stream: true, tools: [{ name: 'Bash' }], messages: [] };
    const stalled = await post('/v1/messages', body);
    expect(stalled.status).toBe(200);
    expect(stalled.headers.get('content-type')).toBe('text/event-stream');
    const ac = new AbortController();
    const hung = fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.requests.map((r) => r.answer)).toEqual(['stall', 'hang']);
    ac.abort();
    expect(await hung).toBeInstanceOf(Error);
    await stalled.body?.cancel();
  });
});
