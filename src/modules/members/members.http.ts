// The signed-in member of a request, for every module's member routes.
import type { FastifyRequest } from 'fastify';
import { memberOf } from '../../plugins/auth.js';
import type { Member, MembersService } from './members.service.js';

/** The member whose token the request carries (the auth guard has checked it is active a moment ago). */
export function signedInMember(members: MembersService, request: FastifyRequest): Member {
  return members.signedIn(memberOf(request));
}
