// The frame of every web page: language, title that says where you are, the one stylesheet, a skip
// link, and a footer. No script: pages work without JavaScript (rendered on the server, pure).
import type { Children } from '@kitajs/html';
import { LOCALE, messages } from './messages.js';

export interface LayoutProps {
  /** What the page is, first in the window title: "Winter huddle", "North West HealthTec". */
  title: string;
  /** Where it belongs, after the title: the cluster's name. */
  within?: string;
  /** Without the skip link and footer: a page another site frames. */
  bare?: boolean;
  /** Kept out of search engines: pages behind links that carry a token. */
  noindex?: boolean;
  /** Navigation shown above the content (the console's), which the skip link jumps over. */
  header?: Children;
  children?: Children;
}

export function Layout({ title, within, bare, noindex, header, children }: LayoutProps) {
  const windowTitle = [title, within, messages.site].filter(Boolean).join(' – ');
  // Markup the page built (its navigation), not text to escape.
  const safeHeader = header;
  return (
    <>
      {'<!doctype html>'}
      <html lang={LOCALE}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="strict-origin-when-cross-origin" />
          {noindex ? <meta name="robots" content="noindex" /> : ''}
          <title safe>{windowTitle}</title>
          <link rel="stylesheet" href="/assets/convene.css" />
        </head>
        <body>
          {bare ? (
            ''
          ) : (
            <a class="skip" href="#content">
              {messages.skipToContent}
            </a>
          )}
          {header ? <header>{safeHeader}</header> : ''}
          <main id="content">{children}</main>
          {bare ? (
            ''
          ) : (
            <footer>
              <a href="/">{messages.site}</a> · <a href="/docs">{messages.apiDocs}</a>
            </footer>
          )}
        </body>
      </html>
    </>
  );
}
