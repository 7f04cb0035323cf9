// The plain-text part of a newsletter, from the same parsed Markdown as its HTML (pure): no markup,
// no HTML tags, a link as its text followed by its address in brackets, lists as "- " and "1. ".
import type { Token } from 'markdown-it';

// With html: false markdown-it leaves HTML as text; the HTML part shows it escaped, the text part drops it.
const TAG = /<!--[\s\S]*?-->|<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/gi;

const bare = (address: string) => address.replace(/^(?:https?:\/\/|mailto:)/i, '').replace(/\/$/, '');

/** One paragraph's (or heading's, or cell's) inline content as text. */
function inlineText(children: Token[]): string {
  let text = '';
  const links: { href: string; at: number }[] = [];
  for (const token of children) {
    switch (token.type) {
      case 'text':
        text += token.content.replace(TAG, '');
        break;
      case 'code_inline':
        text += token.content;
        break;
      case 'softbreak':
      case 'hardbreak':
        text += '\n';
        break;
      case 'link_open':
        links.push({ href: token.attrGet('href') ?? '', at: text.length });
        break;
      case 'link_close': {
        const link = links.pop();
        if (!link || link.href === '') break;
        const label = text.slice(link.at).trim();
        // A bare address written as the link's own text (linkify, <https://...>) is not repeated.
        if (label === '') text += link.href;
        else if (bare(label) !== bare(link.href)) text += ` (${link.href})`;
        break;
      }
      case 'image': {
        const alt = token.content.replace(TAG, '').trim();
        text += `${alt === '' ? 'Image' : alt} (${token.attrGet('src') ?? ''})`;
        break;
      }
      default: // emphasis, strong, strikethrough: their text is enough
    }
  }
  return text;
}

export function plainText(tokens: Token[]): string {
  const lines: string[] = [];
  const lists: { ordered: boolean; next: number }[] = [];
  let quotes = 0;
  /** The marker of a list item whose first line has not been written yet. */
  let marker: string | undefined;
  let markerWidth = 0;
  let row: string[] | undefined;

  const quotePrefix = () => '> '.repeat(quotes);
  // A blank line between blocks (inside a quote, a line of its markers), never two.
  const gap = () => {
    if (lines.length > 0 && !/^[> ]*$/.test(lines.at(-1)!)) lines.push(quotePrefix().trimEnd());
  };
  function block(text: string) {
    const nested = lists.length > 0;
    if (!nested) gap();
    const pad = nested ? '   '.repeat(lists.length - 1) : '';
    text.split('\n').forEach((line, i) => {
      let head = pad;
      if (nested) head += i === 0 && marker !== undefined ? marker : ' '.repeat(markerWidth);
      lines.push((quotePrefix() + head + line).trimEnd());
    });
    marker = undefined;
  }

  for (const token of tokens) {
    switch (token.type) {
      case 'inline':
        if (row) row.push(inlineText(token.children ?? []).replace(/\n/g, ' '));
        else block(inlineText(token.children ?? []));
        break;
      case 'fence':
      case 'code_block':
        block(
          token.content
            .replace(/\n$/, '')
            .split('\n')
            .map((line) => `    ${line}`)
            .join('\n'),
        );
        break;
      case 'hr':
        block('----------');
        break;
      case 'blockquote_open':
        gap();
        quotes += 1;
        break;
      case 'blockquote_close':
        quotes -= 1;
        break;
      case 'bullet_list_open':
      case 'ordered_list_open':
        if (lists.length === 0) gap();
        lists.push({ ordered: token.type === 'ordered_list_open', next: Number(token.attrGet('start') ?? 1) });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        break;
      case 'list_item_open': {
        const list = lists.at(-1)!;
        marker = list.ordered ? `${list.next++}. ` : '- ';
        markerWidth = marker.length;
        break;
      }
      case 'table_open':
        gap();
        break;
      case 'tr_open':
        row = [];
        break;
      case 'tr_close':
        lines.push(quotePrefix() + (row ?? []).join(' | '));
        row = undefined;
        break;
      default: // paragraphs and headings are their inline content
    }
  }
  return lines.join('\n').trim();
}
