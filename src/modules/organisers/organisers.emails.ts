// The email an organiser gets to sign in to the console (pure).
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';

export function consoleSignInUrl(baseUrl: string, code: string): string {
  return `${baseUrl}/console/signin?code=${encodeURIComponent(code)}`;
}

export function consoleSignInEmail(name: string, clusterNames: string[], link: string): RenderedEmail {
  const which = clusterNames.length === 1 ? clusterNames[0]! : `${clusterNames.slice(0, -1).join(', ')} and ${clusterNames.at(-1)!}`;
  return renderEmail({
    subject: 'Your sign-in link to the Convene console',
    greeting: `Hello ${name},`,
    paragraphs: [
      `Someone (we hope you) asked to sign in to the console of ${which} with this address. The link works once, for 15 minutes.`,
      'If it was not you, ignore this email: nothing happens without the link.',
    ],
    action: { label: 'Sign in to the console', url: link },
    footer: [`You are receiving this because you have a role in ${which} on Convene.`],
  });
}
