// Every link and image in a newsletter made absolute before it is mailed (pure): a mail app has no
// page to resolve a relative address against. An absolute path (/c/north-west) names a page of this
// instance, so it is resolved against PUBLIC_BASE_URL's origin; a bare relative name (report.pdf,
// ../agenda, ?x, #top) could only be guessed at, so it is reported, and a send refuses it.
import type { Token } from 'markdown-it';

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** The address made absolute, or undefined when it cannot be without guessing. */
export function absoluteAddress(address: string, baseUrl: string): string | undefined {
  const trimmed = address.trim();
  if (SCHEME.test(trimmed)) return trimmed;
  if (!trimmed.startsWith('/')) return undefined;
  try {
    // "/path" against the origin; "//host/path" takes the base's scheme.
    return new URL(trimmed, new URL(baseUrl).origin).href;
  } catch {
    return undefined;
  }
}

function labelOf(tokens: Token[], from: number): string {
  let label = '';
  for (let i = from + 1; i < tokens.length && tokens[i]!.type !== 'link_close'; i++) label += tokens[i]!.content;
  return label.trim();
}

/**
 * Rewrites the hrefs and image sources of parsed Markdown in place; returns one problem for each
 * that cannot be made absolute (they are left as written, so the dry run shows what was there).
 */
export function makeLinksAbsolute(tokens: Token[], baseUrl: string): string[] {
  const problems: string[] = [];
  const origin = new URL(baseUrl).origin;
  const visit = (list: Token[]) => {
    list.forEach((token, index) => {
      if (token.children) visit(token.children);
      const attribute = token.type === 'link_open' ? 'href' : token.type === 'image' ? 'src' : undefined;
      if (!attribute) return;
      const address = token.attrGet(attribute) ?? '';
      const absolute = absoluteAddress(address, baseUrl);
      if (absolute !== undefined) {
        token.attrSet(attribute, absolute);
        return;
      }
      const what = token.type === 'image' ? `the image "${token.content || address}"` : `the link "${labelOf(list, index)}"`;
      problems.push(
        `${what} points to "${address}", which is not a full address: write it in full (https://...) or as a path ` +
          `on ${origin} starting with /`,
      );
    });
  };
  visit(tokens);
  return problems;
}
