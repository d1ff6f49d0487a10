import { describe, expect, it } from 'vitest'
import { createSeededRandom } from '../../src/transports/seeded-random'

const draws = (seed: number, count = 50): number[] => {
  const random = createSeededRandom(seed)
  return Array.from({ length: count }, () => random.next())
}

describe('createSeededRandom', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    expect(draws(42)).toEqual(draws(42))
    const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]
    const firsts = new Set(seeds.map((seed) => draws(seed, 4).join(',')))
    expect(firsts.size).toBe(seeds.length)
  })

  it('draws floats in [0, 1) that are spread out, even from seed 0', () => {
    for (const seed of [0, 1, 7]) {
      const values = draws(seed, 2000)
      expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
      const mean = values.reduce((sum, v) => sum + v, 0) / values.length
      expect(mean).toBeGreaterThan(0.45)
      expect(mean).toBeLessThan(0.55)
      expect(new Set(values).size).toBeGreaterThan(1990)
    }
  })

  it('draws integers within [min, max], reaching both ends', () => {
    const random = createSeededRandom(3)
    const seen = new Set<number>()
    for (let i = 0; i < 1000; i++) {
      const value = random.int(2, 5)
      expect(Number.isInteger(value) && value >= 2 && value <= 5).toBe(true)
      seen.add(value)
    }
    expect([...seen].sort()).toEqual([2, 3, 4, 5])
    expect(random.int(4, 4)).toBe(4)
  })

  it('refuses a seed that is not a safe integer with E_ARGUMENT', () => {
    for (const seed of [0.5, Number.NaN, 2 ** 60]) {
      expect(() => createSeededRandom(seed)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }))
    }
  })
})
