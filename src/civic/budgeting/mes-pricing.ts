/**
 * Exact pricing for the Method of Equal Shares: voters' remaining budgets, kept per *budget
 * class*, the price of a project, and charging its supporters.
 *
 * A supporter of project `p` pays `t · w`, where `t` is the price per unit of weight (`w = 1`
 * for cost and cardinality utilities, the points given for point utilities), capped at what
 * they have left. Voters with the same payment history have the same remaining budget, stored
 * once per class, so pricing a project is integer histogram counting over typed arrays plus
 * exact work per distinct class.
 *
 * All money is an integer number of `1/D` units. The common denominator `D` grows (by at most
 * the paying supporters' total weight) only when a funded project's price needs it, and class
 * values are rescaled lazily when next read: no gcd runs in the inner loops. Floating point only
 * pre-screens comparisons; close ones are decided exactly.
 *
 * ```ts
 * const pricer = createMesPricer(prepared, 'cost')
 * pricer.reset(voterBudget, costDenominators)
 * const price = pricer.price(p) // null when p's supporters cannot afford it
 * if (price) pricer.charge(p, price, { report: true }) // right after pricing p
 * ```
 * @module
 */
import { CabildoError } from '../../errors'
import type { PreparedElection } from './election'
import type { MesUtility, PaymentGroup } from './outcome'
import { formatRational, rational, ratioToNumber, type Rational } from './rational'

/** Relative gap under which a floating-point pre-screen is not trusted. */
export const CLOSE = 1e-9

/**
 * A project's price per unit of weight, `t = num / den` with `den = weight · D`, as found by
 * {@link MesPricer.price}; `weight` is the total weight of the supporters paying a full share.
 */
export interface MesPrice {
  /** Numerator of `t`. */
  readonly num: bigint
  /** Denominator of `t` (not reduced). */
  readonly den: bigint
  /** Total weight of the supporters who pay a full share. */
  readonly weight: number
  /** Internal: how many (class, weight) buckets the pricing filled. */
  readonly buckets: number
}

/** Budgets and prices for one election; reused across runs. */
export interface MesPricer {
  /** Starts a run: every voter has `voterBudget`; `denominators` is a multiple of every cost's denominator. */
  reset(voterBudget: Rational, denominators: bigint): void
  /** The price of project p for its supporters' current budgets, or `null` when they cannot afford it. */
  price(p: number): MesPrice | null
  /**
   * Charges p's supporters at `price`; must follow `price(p)` with no other pricing in between.
   * With `report: true`, returns who paid what.
   */
  charge(p: number, price: MesPrice, options?: { readonly report?: boolean }): PaymentGroup[] | undefined
  /** Every voter's money left, exact. */
  remaining(): Rational[]
}

/** Greatest common divisor, for the one reduction per funded project. */
function gcdInt(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a
  while (b !== 0n) {
    const r = a % b
    a = b
    b = r
  }
  return a
}

/**
 * Builds a pricer for a utility (only point utilities weigh supporters differently).
 * @throws CabildoError `E_ARGUMENT` when points are too large to bucket exactly
 */
export function createMesPricer(prepared: PreparedElection, utility: MesUtility): MesPricer {
  const weighted = utility === 'points'
  let maxWeight = 1
  if (weighted) for (const ws of prepared.points ?? []) for (const w of ws) if (w > maxWeight) maxWeight = w
  const weightSpan = maxWeight + 1
  // Buckets are keyed by class · weightSpan + weight; classes never outnumber 2 + supporters.
  let entries = 2
  for (const s of prepared.supporters) entries += s.length
  if ((entries + 1) * weightSpan > Number.MAX_SAFE_INTEGER) {
    throw new CabildoError('E_ARGUMENT', 'points too large to count exactly', { argument: 'ballots', reason: 'points above what exact bucketing supports' })
  }
  const voterClass = new Int32Array(prepared.voters)
  let maxSupport = 1
  for (const s of prepared.supporters) maxSupport = Math.max(maxSupport, s.length)
  // Buckets: the supporters of the project being priced, grouped by (class, weight).
  const bucketClass = new Int32Array(maxSupport)
  const bucketWeight = new Float64Array(maxSupport)
  const bucketCount = new Int32Array(maxSupport)
  const bucketKey = new Float64Array(maxSupport)
  const poor = new Uint8Array(maxSupport)
  const weightKeys = new Map<number, number>()
  let stamp = new Int32Array(1024)
  let slot = new Int32Array(1024)
  let classLevel = new Int32Array(1024)
  let token = 0

  // Money is counted in units of 1/D. Class c's value is classValue[c] units of 1/D_k, k =
  // classLevel[c], and fromLevel[k] = D / D_k rescales it to the current level.
  let D = 1n
  let level = 0
  let fromLevel: bigint[] = [1n]
  let classValue: bigint[] = []
  let classApprox: number[] = []
  let costUnits: bigint[] = []

  function newClass(units: bigint): number {
    const id = classValue.length
    classValue.push(units)
    classApprox.push(ratioToNumber(units, D))
    if (id >= stamp.length) {
      const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2)
        b.set(a)
        return b
      }
      stamp = grow(stamp)
      slot = grow(slot)
      classLevel = grow(classLevel)
    }
    classLevel[id] = level
    return id
  }

  function valueOf(c: number): bigint {
    const k = classLevel[c] as number
    if (k !== level) {
      classValue[c] = (classValue[c] as bigint) * (fromLevel[k] as bigint)
      classLevel[c] = level
    }
    return classValue[c] as bigint
  }

  /** Multiplies D by f (a new level); values are rescaled when next read. */
  function refine(f: bigint): void {
    if (f === 1n) return
    D *= f
    fromLevel = fromLevel.map((x) => x * f)
    fromLevel.push(1n)
    level++
  }

  function costAt(p: number): bigint {
    return (costUnits[p] as bigint) * (fromLevel[0] as bigint)
  }

  /** Groups project p's supporters who have money left by (class, weight); returns the count. */
  function fillBuckets(p: number): number {
    const members = prepared.supporters[p] as Int32Array
    const weights = weighted ? (prepared.points?.[p] as Float64Array) : null
    let buckets = 0
    token++
    if (weights === null) {
      for (let k = 0; k < members.length; k++) {
        const c = voterClass[members[k] as number] as number
        if (c === 0) continue
        if (stamp[c] !== token) {
          stamp[c] = token
          slot[c] = buckets
          bucketClass[buckets] = c
          bucketWeight[buckets] = 1
          bucketCount[buckets] = 0
          bucketKey[buckets] = classApprox[c] as number
          buckets++
        }
        const b = slot[c] as number
        bucketCount[b] = (bucketCount[b] as number) + 1
      }
      return buckets
    }
    weightKeys.clear()
    for (let k = 0; k < members.length; k++) {
      const c = voterClass[members[k] as number] as number
      if (c === 0) continue
      const w = weights[k] as number
      const key = c * weightSpan + w
      let b = weightKeys.get(key)
      if (b === undefined) {
        b = buckets++
        weightKeys.set(key, b)
        bucketClass[b] = c
        bucketWeight[b] = w
        bucketCount[b] = 0
        bucketKey[b] = (classApprox[c] as number) / w
      }
      bucketCount[b] = (bucketCount[b] as number) + 1
    }
    return buckets
  }

  /**
   * Prices project p: `t = num / (weight · D)` is the price per unit of weight at which its
   * supporters pay its cost, each paying `min(budget, t · w)`; `null` when their money together
   * falls short. Leaves the buckets filled, with `poor` marking those who pay all they have.
   */
  function price(p: number): MesPrice | null {
    const cost = costAt(p)
    const buckets = fillBuckets(p)
    let weight = 0
    for (let b = 0; b < buckets; b++) {
      poor[b] = 0
      weight += (bucketWeight[b] as number) * (bucketCount[b] as number)
    }
    if (weight === 0) return null
    let paidByPoor = 0n
    let num = cost
    // Fixpoint: whoever cannot pay t·w pays everything; t rises; repeat until nobody new is poor.
    for (;;) {
      const W = BigInt(weight)
      const tApprox = ratioToNumber(num, W * D)
      const low = tApprox * (1 - CLOSE)
      const high = tApprox * (1 + CLOSE)
      let changed = false
      for (let b = 0; b < buckets; b++) {
        if (poor[b] === 1) continue
        // Poor when value / D < t · w, i.e. value · weight < num · w: screened in floating
        // point, decided exactly when close.
        const key = bucketKey[b] as number
        if (key >= low && (key > high || valueOf(bucketClass[b] as number) * W >= num * BigInt(bucketWeight[b] as number))) continue
        poor[b] = 1
        changed = true
        const n = bucketCount[b] as number
        const value = valueOf(bucketClass[b] as number)
        paidByPoor += n === 1 ? value : value * BigInt(n)
        weight -= (bucketWeight[b] as number) * n
      }
      if (!changed) return { num, den: W * D, weight, buckets }
      // Everyone is poor: each had less than t·w, so together less than the cost.
      if (weight === 0) return null
      num = cost - paidByPoor
    }
  }

  /** Charges project p's supporters at `t = num / (weight · D)` (buckets as `price` left them). */
  function charge(p: number, priced: MesPrice, options: { readonly report?: boolean } = {}): PaymentGroup[] | undefined {
    const { num, buckets } = priced
    // Refine D so that t is a whole number of units: t = (num/g) / ((weight/g) · D).
    const W = BigInt(priced.weight)
    const g = gcdInt(num, W)
    refine(W / g)
    const t = num / g
    const target = new Int32Array(buckets)
    const childOf = new Map<number, number>()
    for (let b = 0; b < buckets; b++) {
      if (poor[b] === 1) continue
      const c = bucketClass[b] as number
      const w = bucketWeight[b] as number
      const rest = valueOf(c) - t * BigInt(w)
      if (rest === 0n) continue
      const key = c * weightSpan + w
      let child = childOf.get(key)
      if (child === undefined) {
        child = newClass(rest)
        childOf.set(key, child)
      }
      target[b] = child
    }
    let groups: PaymentGroup[] | undefined
    if (options.report === true) groups = paymentGroups(p, t, buckets)
    const members = prepared.supporters[p] as Int32Array
    const weights = weighted ? (prepared.points?.[p] as Float64Array) : null
    for (let k = 0; k < members.length; k++) {
      const v = members[k] as number
      const c = voterClass[v] as number
      if (c === 0) continue
      const b = weights === null ? (slot[c] as number) : (weightKeys.get(c * weightSpan + (weights[k] as number)) as number)
      voterClass[v] = target[b] as number
    }
    return groups
  }

  /**
   * Who paid what for project p at t units per weight (read before the voters move class): one
   * group per full share paid, one for those who paid all they had left, one for those who had
   * nothing left.
   */
  function paymentGroups(p: number, t: bigint, buckets: number): PaymentGroup[] {
    const full = new Map<number, number>()
    let partialVoters = 0
    let partialTotal = 0n
    let partialEach: bigint | undefined
    let partialSame = true
    let paying = 0
    for (let b = 0; b < buckets; b++) {
      const n = bucketCount[b] as number
      paying += n
      if (poor[b] === 1) {
        const value = valueOf(bucketClass[b] as number)
        partialVoters += n
        partialTotal += value * BigInt(n)
        if (partialEach === undefined) partialEach = value
        else if (partialEach !== value) partialSame = false
      } else {
        const w = bucketWeight[b] as number
        full.set(w, (full.get(w) ?? 0) + n)
      }
    }
    const money = (units: bigint): string => formatRational(rational(units, D))
    const groups: PaymentGroup[] = [...full]
      .sort((x, y) => y[0] - x[0])
      .map(([w, voters]) => {
        const each = money(t * BigInt(w))
        return { voters, each, total: money(t * BigInt(w) * BigInt(voters)), allTheyHad: false }
      })
    if (partialVoters > 0) {
      groups.push({
        voters: partialVoters,
        ...(partialSame && partialEach !== undefined ? { each: money(partialEach) } : {}),
        total: money(partialTotal),
        allTheyHad: true,
      })
    }
    const broke = (prepared.supporters[p] as Int32Array).length - paying
    if (broke > 0) groups.push({ voters: broke, each: '0', total: '0', allTheyHad: true })
    return groups
  }

  function reset(voterBudget: Rational, denominators: bigint): void {
    D = (denominators / gcdInt(denominators, voterBudget.den)) * voterBudget.den
    level = 0
    fromLevel = [1n]
    classValue = []
    classApprox = []
    costUnits = prepared.costs.map((c) => (c.num * D) / c.den)
    stamp.fill(0)
    token = 0
    newClass(0n)
    newClass((voterBudget.num * D) / voterBudget.den)
    voterClass.fill(voterBudget.num > 0n ? 1 : 0)
  }

  function remaining(): Rational[] {
    return Array.from(voterClass, (c) => rational(valueOf(c), D))
  }

  return { reset, price, charge, remaining }
}
