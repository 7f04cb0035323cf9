// The emails of the sign-up: the confirmation (double opt-in) and "you are already subscribed" (pure).
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';

const TOPIC_NAMES: Record<string, string> = {
  newsletter: 'the newsletter',
  'huddle-invites': 'invitations to huddles',
  'pitch-digest': 'a digest of the pitches',
};

export function topicList(topics: string[]): string {
  const names = topics.map((topic) => TOPIC_NAMES[topic] ?? topic);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

export function confirmationEmail(c: { clusterName: string; topics: string[]; url: string }): RenderedEmail {
  return renderEmail({
    subject: `Please confirm: ${c.clusterName} emails`,
    paragraphs: [
      `Someone (we hope you) asked to receive ${topicList(c.topics)} from ${c.clusterName} at this address.`,
      'Press the button to confirm. Until you do, we send you nothing else; if it was not you, ignore this email and the request ' +
        'lapses in 30 days.',
      'You can leave at any time with the unsubscribe link in every email.',
    ],
    action: { label: 'Confirm my subscription', url: c.url },
    footer: [`${c.clusterName}, via Convene.`],
  });
}

export function alreadySubscribedEmail(c: { clusterName: string; url: string }): RenderedEmail {
  return renderEmail({
    subject: `You're already subscribed to ${c.clusterName}`,
    paragraphs: [
      `Someone (we hope you) tried to sign this address up to ${c.clusterName} emails. It is subscribed already, so nothing has changed.`,
      'To choose what you receive, or to leave, use your preferences page.',
    ],
    action: { label: 'My preferences', url: c.url },
    footer: [`${c.clusterName}, via Convene.`],
  });
}
