// Types the members service and its parts (the CSV reader) both use.
import type { OrganisationType } from '../../db/schema.js';

export interface NewMember {
  email: string;
  name: string;
  organisation: string;
  organisationType: OrganisationType;
}

/** A row of a members CSV that can be a member, with its line in the file. */
export interface CsvRow {
  line: number;
  member: NewMember;
}

/** A row that cannot: its line, the address if it had one, and why. */
export interface CsvRejection {
  line: number;
  email?: string;
  reason: string;
}
