import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { IncrementalPolicy, MergePolicy } from '../../src/policy/merge-policy'
import type { PolicyEntry } from '../../src/policy/policy-record'
import { lww } from '../../src/policy/registers'
import { arbitraryEntries, makePolicyRecord, policyChecks } from '../../src/testing/policy-tests'
import { contentHash } from '../../src/encoding/canonical'
import { AUTHORS } from './helpers'

const records = arbitraryEntries({ authors: AUTHORS, types: ['w'], payload: fc.record({ value: fc.nat(3) }) })
const failing = (policy: MergePolicy<readonly PolicyEntry[], unknown>) =>
  policyChecks({ policy, records }, { numRuns: 40 })
    .filter((check) => {
      try {
        check.run()
        return false
      } catch {
        return true
      }
    })
    .map((check) => check.name.split(':')[0])

describe('the policy acceptance suite', () => {
  it('passes a correct policy', () => {
    expect(failing(lww())).toEqual([])
  })

  it('catches a policy that depends on arrival order', () => {
    const firstArrived: MergePolicy<readonly PolicyEntry[], unknown> = {
      resolve: (entries) => ({ view: entries[0] ?? null, conflicts: [], rejected: [] }),
    }
    expect(failing(firstArrived)).toEqual(expect.arrayContaining(['is order-independent', 'converges']))
  })

  it('catches a policy that drops failed entries silently', () => {
    const inner = lww()
    const silent: MergePolicy<readonly PolicyEntry[], unknown> = {
      resolve: (entries) => ({ ...inner.resolve(entries), rejected: [] }),
    }
    expect(failing(silent)).toContain('drops nothing silently')
  })

  it('catches an incremental form that disagrees with resolve', () => {
    const inner = lww()
    const lossy: IncrementalPolicy<PolicyEntry, unknown> = {
      resolve: inner.resolve,
      incremental: () => {
        const live = inner.incremental()
        let n = 0
        return { add: (e) => (n++ % 3 === 2 ? undefined : live.add(e)), view: () => live.view(), size: 0 }
      },
    }
    expect(failing(lossy)).toContain('incremental form (a batch-only policy has none)')
  })

  it('builds records whose hash is the content hash of the body', () => {
    const body = { author: 'did:key:zA', clock: 1, type: 't', payload: { a: 1 } }
    expect(makePolicyRecord(body).hash).toBe(contentHash(body))
  })
})
