// Helpers for plugins that add hooks to routes as they are declared (onRoute).
import type { RouteOptions } from 'fastify';

/** Methods that change things: the routes that pay for write limits and write turns. */
export const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** A route's hook option (absent, one function or a list) as a list. */
export function asList<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** Whether a route answers any method that changes things. */
export function writes(route: Pick<RouteOptions, 'method'>): boolean {
  return asList(route.method).some((method) => WRITE_METHODS.has(method));
}
