import { createSpace, type Space } from '../../src/index'

/** A Space with a fixed clock and deterministic keys, so tests are reproducible. */
export function testSpace(name: string, start = Date.parse('2026-03-14T09:00:00Z')): Space {
  let tick = 0
  let counter = 0
  return createSpace({
    id: 'test-city',
    now: () => new Date(start + 1000 * tick++),
    randomKey: () => `${name}${(counter++).toString().padStart(4, '0')}`,
  })
}
