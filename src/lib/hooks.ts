// Typed hooks: how one module reacts to another without importing it. The module that acts declares
// a hook and emits it; a module that reacts subscribes to it where it is built (createServices wires
// them in dependency order, so the declaring module always exists first).
//
// Handlers run synchronously, in the order they subscribed. Hooks emitted with a transaction run
// inside it: a handler's writes commit with the change that caused them, and a handler that throws
// rolls the whole change back (its error is what the caller sees).

export interface Hook<Args extends unknown[], Result = void> {
  /** Adds a handler; it runs on every emit, after the handlers added before it. */
  on(handler: (...args: Args) => Result): void;
  /** Runs every handler with these arguments and returns their results, in order. */
  emit(...args: Args): Result[];
}

export function hook<Args extends unknown[], Result = void>(): Hook<Args, Result> {
  const handlers: ((...args: Args) => Result)[] = [];
  return {
    on(handler) {
      handlers.push(handler);
    },
    emit(...args) {
      return handlers.map((handler) => handler(...args));
    },
  };
}
