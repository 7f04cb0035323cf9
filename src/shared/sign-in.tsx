// The pages of signing in by email link (pure), for members (`/signin`) and organisers
// (`/console/signin`): ask for a link, "check your email", and the link's page, whose button (a POST)
// signs in, so a mail scanner opening the link signs no one in.
import { EmailField } from './forms.js';
import { Layout } from './layout.js';
import { messages } from './messages.js';

const m = messages;

/** Where a sign-in form posts and what its pages say, for members or for organisers. */
export interface SignInWords {
  /** The path of the form asking for a link; the link's button posts to `${path}/session`. */
  path: string;
  title: string;
  intro: string;
  sent: string;
  finishTitle: string;
  expired: string;
}

export const memberSignIn: SignInWords = {
  path: '/signin',
  title: m.signIn.title,
  intro: m.signIn.intro,
  sent: m.signIn.sent,
  finishTitle: m.signIn.finishTitle,
  expired: m.signIn.expired,
};

export const organiserSignIn: SignInWords = { path: '/console/signin', ...m.console.signIn };

export function SignInPage(props: { words: SignInWords; email?: string; error?: string; status?: 'expired' }) {
  const title = props.status === 'expired' ? m.signIn.expiredTitle : props.words.title;
  return (
    <Layout title={title}>
      <h1 safe>{title}</h1>
      <p safe>{props.status === 'expired' ? props.words.expired : props.words.intro}</p>
      <form method="post" action={props.words.path} novalidate>
        <EmailField label={m.signIn.email} value={props.email ?? ''} error={props.error} />
        <p>
          <button type="submit">{m.signIn.send}</button>
        </p>
      </form>
    </Layout>
  );
}

export function SignInSentPage(props: { words: SignInWords }) {
  return (
    <Layout title={m.signIn.sentTitle}>
      <h1>{m.signIn.sentTitle}</h1>
      <p safe>{props.words.sent}</p>
    </Layout>
  );
}

export function FinishSignInPage(props: { words: SignInWords; code: string }) {
  return (
    <Layout title={props.words.finishTitle} noindex>
      <h1 safe>{props.words.finishTitle}</h1>
      <p>{m.signIn.finish}</p>
      <form method="post" action={`${props.words.path}/session`}>
        <input type="hidden" name="code" value={props.code} />
        <button type="submit">{m.signIn.button}</button>
      </form>
      <p class="note">{m.signIn.notYou}</p>
    </Layout>
  );
}
