// Record ids: UUIDv7, so ids sort by creation time and serve as stable pagination cursors.
import { v7 } from 'uuid';

export function newId(): string {
  return v7();
}
