// The pitch digest (pure): a newsletter draft in Markdown from a huddle's confirmed agenda, grouped by
// theme, with each pitch's organisation, title and summary and a link to the huddle's page; after the
// huddle, the follow-up, which gives a presenter's email only when they agreed to it when booking.
// Every value from members is escaped as Markdown text; the organiser edits the draft and sends it.
import { markdownText } from './campaigns.render.js';

export interface DigestPitch {
  position: number;
  organisation: string;
  title: string;
  summary: string;
  theme: string | null;
  /** The presenter's address when they agreed to share it (follow-up only), else null. */
  contact: string | null;
}

export interface DigestInput {
  huddleTitle: string;
  /** "Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)". */
  when: string;
  where: string | null;
  pageUrl: string;
  /** The huddle's themes, in the order the digest shows their groups. */
  themes: string[];
  pitches: DigestPitch[];
  followUp: boolean;
}

function pitchLines(pitch: DigestPitch, followUp: boolean): string[] {
  const lines = [`- **${markdownText(pitch.organisation)}**: ${markdownText(pitch.title)}`];
  if (pitch.summary.trim()) lines.push(`  ${markdownText(pitch.summary.trim())}`);
  // Braces encoded: an address like a{{unsubscribe_url}}@x.org must not become a merge field.
  if (followUp && pitch.contact) lines.push(`  Get in touch: <mailto:${pitch.contact.replace(/[{}]/g, encodeURIComponent)}>`);
  return lines;
}

/** The draft, in Markdown, ready for `newsletter send --body`. */
export function pitchDigest(input: DigestInput): string {
  const title = markdownText(input.huddleTitle);
  const intro = input.followUp
    ? [
        `# Who pitched at ${title}`,
        '',
        `Thank you to everyone who came on ${input.when}. Here is who pitched, by theme.` +
          ' Presenters who asked to be contacted have their address below.',
      ]
    : [
        `# Pitching at ${title}`,
        '',
        `${input.when}${input.where ? `, ${markdownText(input.where)}` : ''}.`,
        '',
        `[See the huddle and register](${input.pageUrl})`,
      ];
  const sections: string[] = [];
  const byTheme = (theme: string | null) => input.pitches.filter((pitch) => pitch.theme === theme).sort((a, b) => a.position - b.position);
  for (const theme of input.themes) {
    const pitches = byTheme(theme);
    if (pitches.length > 0) sections.push('', `## ${markdownText(theme)}`, '', ...pitches.flatMap((p) => pitchLines(p, input.followUp)));
  }
  const others = input.pitches.filter((pitch) => pitch.theme === null || !input.themes.includes(pitch.theme));
  if (others.length > 0) {
    const heading = sections.length > 0 ? 'Other pitches' : 'The pitches';
    sections.push('', `## ${heading}`, '', ...others.sort((a, b) => a.position - b.position).flatMap((p) => pitchLines(p, input.followUp)));
  }
  if (input.pitches.length === 0) sections.push('', 'No pitches are confirmed yet.');
  const outro = input.followUp ? ['', `[The huddle's page](${input.pageUrl})`] : [];
  return [...intro, ...sections, ...outro, ''].join('\n');
}
