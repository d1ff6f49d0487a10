import { describe, expect, it } from 'vitest'
import { planCatchUp, type PlanStep } from '../../src/sync/catch-up-plan'

const plain = (seq: number, size = 200): PlanStep => ({ seq, bytes: new Uint8Array(size) })
const checkpoint = (from: number, seq: number, size: number): PlanStep => ({ seq, checkpoint: { from }, bytes: new Uint8Array(size) })
const describeStep = (step: PlanStep): string => (step.checkpoint === undefined ? `${step.seq}` : `${step.checkpoint.from}..${step.seq}`)

function holdings(head: number, checkpoints: PlanStep[], missing: readonly number[] = []) {
  const envelopes = Array.from({ length: head }, (_, i) => plain(i + 1))
  return { envelopeAt: (seq: number) => (missing.includes(seq) ? undefined : envelopes[seq - 1]), checkpoints, head }
}

describe('planCatchUp', () => {
  it('a fresh peer gets the checkpoint and the envelopes after it', () => {
    const plan = planCatchUp(holdings(10, [checkpoint(1, 8, 500)]), 0)
    expect(plan.map(describeStep)).toEqual(['1..8', '9', '10'])
  })

  it('a peer near the head gets envelopes when they cost less than the checkpoint', () => {
    expect(planCatchUp(holdings(10, [checkpoint(1, 8, 500)]), 6).map(describeStep)).toEqual(['7', '8', '9', '10'])
    expect(planCatchUp(holdings(10, [checkpoint(1, 8, 300)]), 6).map(describeStep)).toEqual(['1..8', '9', '10'])
    expect(planCatchUp(holdings(10, [checkpoint(1, 8, 300)]), 10)).toEqual([])
  })

  it('chains checkpoints and fills holes only where it must', () => {
    const plan = planCatchUp(holdings(20, [checkpoint(1, 8, 400), checkpoint(9, 15, 400)], [3, 4, 12]), 0)
    expect(plan.map(describeStep)).toEqual(['1..8', '9..15', '16', '17', '18', '19', '20'])
  })

  it('goes as far as it can when the head cannot be reached', () => {
    const plan = planCatchUp(holdings(10, [], [6]), 2)
    expect(plan.map(describeStep)).toEqual(['3', '4', '5'])
  })
})
