// The emails members get about their account: welcome, and a sign-in link (pure).
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';

export function signInUrl(baseUrl: string, code: string): string {
  return `${baseUrl}/signin?code=${encodeURIComponent(code)}`;
}

export function welcomeEmail(name: string, clusterName: string, link: string): RenderedEmail {
  return renderEmail({
    subject: `Welcome to ${clusterName} on Convene`,
    greeting: `Hello ${name},`,
    paragraphs: [
      `${clusterName} has added you as a member. On Convene you can book a slot to pitch at a huddle, register to attend, and ` +
        `subscribe to the huddles in your calendar.`,
      'The button signs you in. It works once, for a week; afterwards you can ask for a new link with your email address.',
    ],
    action: { label: 'Sign in', url: link },
    footer: [`You are receiving this because ${clusterName} added you as a member.`],
  });
}

export function signInEmail(name: string, clusterName: string, link: string): RenderedEmail {
  return renderEmail({
    subject: `Your sign-in link for ${clusterName}`,
    greeting: `Hello ${name},`,
    paragraphs: [
      'Someone (we hope you) asked to sign in to Convene with this address. The link works once, for 15 minutes.',
      'If it was not you, ignore this email: nothing happens without the link.',
    ],
    action: { label: 'Sign in', url: link },
    footer: [`You are receiving this because you are a member of ${clusterName}.`],
  });
}
