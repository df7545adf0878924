/**
 * A minimal Server-Sent Events reader over a fetch body. EventSource is not used: it hides the
 * status code (a 403 must stop the provider, not retry), sends no custom headers and retries on
 * its own schedule, where the provider needs its own backoff.
 *
 * Parses what the HTML spec's event-stream format allows, except lines ended by a lone CR (no
 * server we talk to sends them): `event`, `data` (joined with "\n"), `id`, comments, and a blank
 * line that dispatches the event (an unnamed one with type ""). `retry` is ignored: the
 * provider's backoff decides.
 */
export type SseHandler = (type: string, data: string, id: string) => void | Promise<void>;

/** Reads events until the body ends; `onBytes` is called for every chunk (keep-alives included). */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: SseHandler, onBytes: () => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  let type = '';
  let data = '';
  let id = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onBytes();
    const lines = (rest + decoder.decode(value, { stream: true })).split(/\r?\n/);
    rest = lines.pop() as string;
    for (const line of lines) {
      if (line === '') {
        // Handlers run one at a time, in order: a remote refresh finishes before the next event.
        if (data) await onEvent(type, data.slice(0, -1), id);
        type = data = '';
        continue;
      }
      // `field: value`, `field:value` or `field`; a comment (`: keep-alive`) has the empty field.
      const [, field, v = ''] = /^([^:]*):? ?(.*)/.exec(line) as string[];
      if (field === 'event') type = v;
      else if (field === 'data') data += v + '\n';
      else if (field === 'id') id = v;
    }
  }
}
