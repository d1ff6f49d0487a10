/**
 * A live feed of the acts of one shard that match a filter: the acts already there, then every
 * act added later (locally or by sync), each verified once and delivered in batches, so a view
 * can be kept up to date without re-reading the whole log.
 *
 * ```ts
 * const feed = watchActs(acts, shard, doc, isBudgetAct(id), (entries) => entries.forEach((e) => tally.add(e)))
 * await feed.settled() // every act seen so far is verified and delivered
 * feed.stop()
 * ```
 * @module
 */
import type * as Y from 'yjs'
import { actLogOf } from '../civic/act-log'
import type { PolicyEntry } from '../policy/policy-record'
import type { SpaceActs } from './space-acts'

/** A running feed; see {@link watchActs}. */
export interface ActFeed {
  /**
   * Resolves once every act seen so far has been verified and delivered.
   * @throws whatever verification threw (e.g. CabildoError `E_KEY`); the feed then stops, since
   *   the acts of the failed batch were not delivered.
   */
  settled(): Promise<void>
  /** Stops observing the log. Idempotent. */
  stop(): void
  /** Whether the feed stopped (by {@link ActFeed.stop}, a failure, or the document's destruction). */
  readonly stopped: boolean
}

/**
 * Starts a feed of the acts of `shard` (whose document is `doc`) that pass `filter`: the
 * existing ones first, then each transaction's new ones. Batches are verified and delivered in
 * order; `deliver` must not throw. The feed stops by itself when the document is destroyed.
 * @param onStop - called once when the feed stops, whatever the reason
 */
export function watchActs(
  acts: SpaceActs,
  shard: string,
  doc: Y.Doc,
  filter: (value: unknown) => boolean,
  deliver: (entries: PolicyEntry[]) => void,
  onStop: () => void = () => {},
): ActFeed {
  const log = actLogOf(doc)
  let queue: Promise<void> = Promise.resolve()
  let failure: unknown
  let stopped = false

  const stop = (): void => {
    if (stopped) return
    stopped = true
    log.unobserve(observer)
    doc.off('destroy', stop)
    onStop()
  }
  const enqueue = (pairs: Array<readonly [string, unknown]>): void => {
    if (pairs.length === 0) return
    queue = queue.then(async () => {
      if (failure !== undefined) return
      try {
        deliver(await acts.verify(shard, pairs))
      } catch (err) {
        failure = err
        stop()
      }
    })
  }
  function observer(event: Y.YMapEvent<unknown>): void {
    const pairs: Array<readonly [string, unknown]> = []
    for (const key of event.keysChanged) {
      const value = log.get(key)
      if (value !== undefined && filter(value)) pairs.push([key, value])
    }
    enqueue(pairs)
  }

  log.observe(observer)
  doc.on('destroy', stop)
  enqueue([...log.entries()].filter(([, value]) => filter(value)))
  return {
    async settled() {
      await queue
      if (failure !== undefined) throw failure
    },
    stop,
    get stopped() {
      return stopped
    },
  }
}
