// Record ids: UUIDv7, so ids sort by creation time and serve as stable pagination cursors.
import { v7 } from 'uuid';

export function newId(): string {
  return v7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value from a path or a form has the shape of an id (before it is looked up). */
export function isId(value: string): boolean {
  return UUID.test(value);
}
