/** The SSE reader on its own: the event-stream format as the HTML spec defines it, chunked any way. */
import { describe, expect, it } from 'vitest';
import { readEvents } from '../src/sse.js';

/** Reads `chunks` (strings, or bytes to split multi-byte characters) and returns the events. */
async function read(chunks: (string | Uint8Array)[]): Promise<{ events: [string, string, string][]; bytes: number }> {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === 'string' ? enc.encode(chunk) : chunk);
      c.close();
    },
  });
  const events: [string, string, string][] = [];
  let bytes = 0;
  await readEvents(body, (type, data, id) => void events.push([type, data, id]), () => bytes++);
  return { events, bytes };
}

describe('readEvents', () => {
  it('reads named events with ids, and ignores comments', async () => {
    const { events, bytes } = await read([': hello\n\nevent: rules\nid: abc\ndata: {"flags":{}}\n\n: keep-alive\n\nevent: ready\ndata: {}\n\n']);
    expect(events).toEqual([
      ['rules', '{"flags":{}}', 'abc'],
      ['ready', '{}', 'abc'],
    ]);
    expect(bytes).toBe(1);
  });

  it('joins data lines, takes CRLF, no space after the colon, and a field without a colon', async () => {
    const { events } = await read(['event:change\r\ndata:a\r\ndata\r\ndata:  b\r\n\r\n']);
    expect(events).toEqual([['change', 'a\n\n b', '']]);
  });

  it('reassembles lines and characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('event: rules\ndata: {"x":"é€"}\r\n\r\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of €
    const { events } = await read(['', bytes.slice(0, 3), bytes.slice(3, cut), bytes.slice(cut, -3), bytes.slice(-3, -1), bytes.slice(-1)]);
    expect(events).toEqual([['rules', '{"x":"é€"}', '']]);
  });

  it('dispatches nothing for an event without data, nor for an unfinished one', async () => {
    const { events } = await read(['event: ping\n\nevent: rules\ndata: {}']);
    expect(events).toEqual([]);
  });

  it('runs an async handler to the end before the next event', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
        c.close();
      },
    });
    const seen: string[] = [];
    await readEvents(
      body,
      async (_t, data) => {
        seen.push(`start ${data}`);
        await new Promise((r) => setTimeout(r, 20));
        seen.push(`end ${data}`);
      },
      () => {},
    );
    expect(seen).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});
