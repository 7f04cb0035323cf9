// Request bodies are UTF-8 or refused: Node's default decoding turns invalid bytes into U+FFFD, which
// would then be stored as if the client had meant it.

const strict = new TextDecoder('utf-8', { fatal: true });

/** The text of `bytes`, or null when they are not valid UTF-8. A leading byte order mark is dropped. */
export function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** A percent-encoded form value or name (`+` is a space), or null when its bytes are not valid UTF-8. */
function formPart(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    return null;
  }
}

/**
 * An application/x-www-form-urlencoded body as fields (a name given twice gives an array), or null
 * when a raw or percent-encoded byte sequence is not valid UTF-8.
 */
export function parseForm(bytes: Uint8Array): Record<string, string | string[]> | null {
  const text = strictUtf8(bytes);
  if (text === null) return null;
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = formPart(at === -1 ? pair : pair.slice(0, at));
    const value = formPart(at === -1 ? '' : pair.slice(at + 1));
    if (name === null || value === null) return null;
    const before = fields[name];
    fields[name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return fields;
}
