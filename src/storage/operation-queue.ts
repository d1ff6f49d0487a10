/**
 * Runs asynchronous operations one at a time, in call order, whatever their outcome: the
 * ordering guarantee of a `DocStore` (an append called before a compaction lands before it).
 *
 * ```ts
 * const queue = createOperationQueue()
 * const a = queue.run(() => write(first))
 * const b = queue.run(() => write(second)) // starts after `a` settles
 * await queue.idle()
 * ```
 * @module
 */

/** A queue of operations run one after the other. */
export interface OperationQueue {
  /** Runs `operation` after every operation queued before it has settled; resolves to its result. */
  run<T>(operation: () => Promise<T>): Promise<T>
  /** Resolves once every operation queued so far has settled. Never rejects. */
  idle(): Promise<void>
}

/** Creates an empty {@link OperationQueue}. */
export function createOperationQueue(): OperationQueue {
  let tail: Promise<void> = Promise.resolve()
  const settle = (): void => undefined
  return {
    run(operation) {
      const result = tail.then(operation)
      tail = result.then(settle, settle)
      return result
    },
    idle() {
      return tail
    },
  }
}

