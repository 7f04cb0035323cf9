// Normalising what people type: email addresses, time zones.
import { IANAZone } from 'luxon';

/** Lower-cases and trims an address; dots and plus parts are left alone (they matter to some providers). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}
