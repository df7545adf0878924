/**
 * JSON.parse with an error that says where. V8's messages only sometimes carry a position (and
 * their wording changes between Node versions), so on failure a small scanner walks the text to
 * find the first offending character itself.
 */

export class JsonSyntaxError extends Error {
  constructor(
    /** 0-based offset of the offending character (the text's length for a premature end). */
    readonly position: number,
    /** What was found there: `unexpected "x"` or `unexpected end of input`. */
    readonly detail: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`invalid JSON at position ${position}: ${detail}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses JSON text; throws JsonSyntaxError (with a position) when it is not valid. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw locateJsonError(text) ?? new JsonSyntaxError(0, err instanceof Error ? err.message : String(err), 1, 1);
  }
}

/** Formats the error for one line: `invalid JSON at position 3 (line 1, column 4): unexpected "x"`. */
export function describeJsonError(err: JsonSyntaxError, text: string): string {
  const where = text.includes('\n') ? ` (line ${err.line}, column ${err.column})` : '';
  return `invalid JSON at position ${err.position}${where}: ${err.detail}`;
}

/** Returns the first syntax error in `text`, or undefined if the scanner finds none. */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;

  class Stop {
    constructor(readonly at: number) {}
  }
  const fail = (at: number): never => {
    throw new Stop(at);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string) => {
    // A misspelt literal is reported where it starts ("file" for false), not at the first wrong letter.
    if (!text.startsWith(word, i)) fail(i);
    i += word.length;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail(i);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(i);
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) fail(i + k);
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i++;
        } else {
          fail(i);
        }
      } else {
        i++;
      }
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? '')) fail(i);
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(i);
        string();
        ws();
        if (text[i] !== ':') fail(i);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(i);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(i);
      }
    } else if (c === '"') {
      string();
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      number();
    } else if (c === 't') {
      literal('true');
    } else if (c === 'f') {
      literal('false');
    } else if (c === 'n') {
      literal('null');
    } else {
      fail(i);
    }
  };

  try {
    value();
    ws();
    if (i < text.length) fail(i);
    return undefined;
  } catch (stop) {
    if (!(stop instanceof Stop)) throw stop;
    const at = Math.min(stop.at, text.length);
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - (before.lastIndexOf('\n') + 1) + 1;
    const detail = at >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[at])}`;
    return new JsonSyntaxError(at, detail, line, column);
  }
}
