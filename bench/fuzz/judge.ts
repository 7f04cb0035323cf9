// How to read an answer that came through Prism: requests Prism would change on the way (skipped),
// and the violations it reports in the `sl-violations` header.
// A response violation is always a failure. A request violation is the fuzz doing its job (it sends
// invalid requests on purpose): it is a failure when the app accepted that request, since Prism, by
// the document, says the request is outside the contract.
import { posix } from 'node:path';
import type { FuzzRequest, FuzzResponse } from '../../test/helpers/fuzz.js';

/** Why Prism would forward something other than this request, or undefined. */
export function changedInTransit(request: FuzzRequest): string | undefined {
  const path = request.url.split('?')[0]!;
  // fetch (the WHATWG URL parser) resolves "." and ".." segments, and Prism's forwarder builds the
  // upstream path with path.posix.join, which also folds "//": a path parameter that is empty, "."
  // or ".." reaches the app as another path (e.g. /v1/huddles//calendar.ics as /v1/huddles/calendar.ics).
  if (posix.join('/', new URL(path, 'http://x').pathname) !== path) return 'path normalised in transit';
  // Node's HTTP parser (in Prism's server, as in the app's) takes a request head of up to 16 KB; past
  // that Prism's server answers 431 itself, without a body, and nothing reaches the app.
  const head =
    request.method.length +
    request.url.length +
    Object.entries(request.headers).reduce((size, [name, value]) => size + name.length + value.length + 4, 0);
  if (head + 512 > 16 * 1024) return 'request head over 16 KB';
  // Prism 5's forwarder drops a JSON body that parses to a falsy value (null, false, 0, "") but keeps
  // the request's Content-Length, so the app reads the start of the next request on that connection
  // as this body, and answers the next one "not valid HTTP".
  if (/^application\/json/.test(request.headers['content-type'] ?? '') && ['null', 'false', '0', '""'].includes(request.payload ?? ''))
    return 'falsy JSON body (Prism drops it)';
  return undefined;
}

interface Violation {
  location: string[];
  code?: string | number;
  message: string;
}

export function judgeViolations(response: FuzzResponse): { outcome: string; failures: string[] } {
  const header = response.headers['sl-violations'];
  const refused = response.statusCode >= 400;
  if (header === undefined)
    return {
      outcome:
        refused && response.body.includes('"VALIDATION_FAILED"') ? 'valid by the document, VALIDATION_FAILED by the app' : 'no violation',
      failures: [],
    };
  const text = String(header);
  let violations: Violation[];
  try {
    violations = JSON.parse(text) as Violation[];
  } catch {
    // Prism cuts the header at 8 KB ("Too many violations! ..."): judge on what is left.
    violations = [{ location: [text.includes('["response"') ? 'response' : 'request'], message: `(cut) ${text.slice(0, 300)}` }];
  }
  const failures: string[] = [];
  let outcome = 'request violation, refused by the app';
  for (const v of violations) {
    const where = v.location.join('.');
    if (v.location[0] === 'response') failures.push(`response violation ${where} ${v.code ?? ''}: ${v.message}`);
    else if (v.message === 'Selected route not found') {
      outcome = 'no path in the document';
      if (!response.body.includes('"ROUTE_NOT_FOUND"')) failures.push('the app routed a request the document has no path for');
    } else if (!refused) failures.push(`request violation ${where} ${v.code ?? ''} accepted by the app: ${v.message}`);
  }
  return { outcome, failures };
}
