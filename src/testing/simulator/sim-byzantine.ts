/**
 * The simulation's Byzantine peers: each a {@link ByzantinePeer} with its own key that follows
 * every shard, mirrors what honest peers send it, and at scheduled moments sends one of the
 * attack helpers' attacks (`src/testing/byzantine/`) to every peer it can reach. Every attack
 * envelope is remembered with the answer cabildo must give it, so the final checks can tell an
 * attack refused as designed from an honest envelope refused by mistake.
 * @module
 */
import { sha256Hex } from '../../encoding/canonical'
import type { Identity } from '../../identity/identity'
import type { MemoryNetwork } from '../../transports/memory-network'
import type { SeededRandom } from '../../transports/seeded-random'
import { decodeEnvelope, sessionClientId } from '../../sync/envelope-codec'
import { MANIFEST_DOC } from '../../sync/shard-set'
import * as Y from 'yjs'
import { attackSession, craftUpdate, sealEnvelope, type Attack, type AttackAnswer, type EnvelopeAttack } from '../byzantine/attack'
import { anonymousDelete, censorshipRange, equivocation, forgedClient } from '../byzantine/authorship-attacks'
import { ByzantinePeer } from '../byzantine/byzantine-peer'
import { bitFlippedEnvelope, garbageMessage, replayedEnvelope, truncatedEnvelope } from '../byzantine/damage-attacks'

/** The attacks a simulation schedules. */
export const simulatedAttacks = [
  'forged-client',
  'censorship-range',
  'anonymous-delete',
  'equivocation',
  'replayed-envelope',
  'truncated-envelope',
  'bit-flipped-envelope',
  'garbage-message',
  'self-origin',
] as const

/** One of {@link simulatedAttacks}. */
export type SimulatedAttack = (typeof simulatedAttacks)[number]

/**
 * What an honest replica must answer to one envelope of an attack: refuse it with a code, or (the
 * first envelope of an equivocating pair, a genuine envelope of the attacker's own) apply it.
 */
export type AttackVerdict = AttackAnswer | 'applied'

/** The key of an attack envelope: the document it was sent into and the SHA-256 of its bytes (a replay sends genuine bytes into another document). */
export function attackKey(doc: string, bytes: Uint8Array): string {
  return `${doc} ${sha256Hex(bytes)}`
}

/** An attack envelope sent (see {@link attackKey}). */
export interface SentAttackEnvelope {
  readonly attack: SimulatedAttack
  readonly peer: string
  readonly verdict: AttackVerdict
}

/** A Byzantine peer of a simulation. */
export class SimByzantine {
  readonly id: string
  readonly peer: ByzantinePeer
  readonly #seed: number
  #sessions = 0
  #keys = 0

  constructor(options: { id: string; identity: Identity; network: MemoryNetwork; spaceId: string; seed: number }) {
    this.id = options.id
    this.#seed = options.seed
    this.peer = new ByzantinePeer({ transport: options.network.transport(), peerId: options.id, spaceId: options.spaceId, signer: options.identity.keyPair })
  }

  /** Follows every shard in `names` it does not follow yet. */
  follow(names: readonly string[]): void {
    for (const name of names) this.peer.follow(name)
  }

  /**
   * Crafts one attack of kind `kind` on a followed document chosen by `random`, sends it to every
   * peer it can reach, and returns its envelopes with the verdict each must get (by SHA-256 of
   * {@link attackKey}; empty for a whole-message attack). `undefined` when the attacker has not seen
   * enough of any document yet to craft it.
   */
  async attack(kind: SimulatedAttack, docs: readonly string[], random: SeededRandom): Promise<Map<string, SentAttackEnvelope> | undefined> {
    const attack = kind === 'self-origin' ? await this.#selfOrigin(docs, random) : await this.#craft(kind, docs, random)
    if (attack === undefined) return undefined
    const sent = new Map<string, SentAttackEnvelope>()
    if (!('message' in attack)) {
      attack.envelopes.forEach((bytes, i) => {
        // An equivocating pair: the first one a replica sees applies; the other is the equivocation.
        const verdict: AttackVerdict = attack.name === 'equivocation' && i === 0 ? 'applied' : attack.expected
        sent.set(attackKey(attack.doc, bytes), { attack: kind, peer: this.id, verdict })
      })
    }
    this.peer.launch(attack)
    return sent
  }

  /** Leaves the network. */
  close(): void {
    this.peer.close()
  }

  /** A fresh session per attack: every attack starts its own chain at sequence number 1. */
  #session(): Uint8Array {
    return attackSession(`simulation/${this.#seed}/${this.id}/${this.#sessions++}`)
  }

  /** A validly signed envelope whose update's second struct names itself as its left origin (Yjs would throw half-way): refused as `E_UPDATE_MALFORMED`. */
  async #selfOrigin(docs: readonly string[], random: SeededRandom): Promise<EnvelopeAttack | undefined> {
    const doc = docs[random.int(0, docs.length - 1)]
    if (doc === undefined) return undefined
    const target = this.peer.target(doc, this.#session())
    const session = target.session ?? this.#session()
    const text = 'a note'
    const update = craftUpdate(target.base, sessionClientId(target.signer.did, session), (d) => d.getMap('byzantine').set(`${this.id}-${this.#keys++}`, new Y.Text(text)))
    // The string struct ends the update: its length byte, the text, the empty delete set. The byte
    // before them is its left origin's clock (0: the Y.Text item); 1 is the struct itself.
    const origin = update.length - text.length - 3
    const patched = update.slice()
    patched[origin] = 1
    const envelope = await sealEnvelope(target.signer, { docId: `${target.spaceId}/${doc}`, session, update: patched })
    return { name: 'bit-flipped-envelope', doc, envelopes: [envelope], expected: 'E_UPDATE_MALFORMED' }
  }

  async #craft(kind: Exclude<SimulatedAttack, 'self-origin'>, docs: readonly string[], random: SeededRandom): Promise<Attack | undefined> {
    if (kind === 'garbage-message') return garbageMessage()
    const withGenuine = docs.filter((doc) => this.peer.genuine(doc).length > 0)
    const doc = withGenuine[random.int(0, Math.max(0, withGenuine.length - 1))]
    if (doc === undefined) return undefined
    const target = this.peer.target(doc, this.#session())
    const genuine = this.peer.genuine(doc)
    const envelope = genuine[random.int(0, genuine.length - 1)] as Uint8Array
    const sessions = this.peer.sessions(doc)
    const victim = sessions[random.int(0, sessions.length - 1)]
    const key = `${this.id}-${this.#keys++}`
    switch (kind) {
      case 'forged-client':
        if (victim === undefined) return undefined
        return forgedClient({ ...target, victimClient: victim.clientId, edit: (d) => d.getMap('byzantine').set(key, 'forged') })
      case 'censorship-range':
        if (victim === undefined) return undefined
        return censorshipRange({ ...target, victimClient: victim.clientId, length: random.int(1, 100_000) })
      case 'anonymous-delete': {
        const roots = ['tickets', 'proposals', 'budgets', 'acts', 'shards'].filter((root) => target.base.share.has(root) && target.base.getMap(root).size > 0)
        const root = roots[random.int(0, Math.max(0, roots.length - 1))]
        if (root === undefined) return undefined
        const keys = [...target.base.getMap(root).keys()].sort()
        return anonymousDelete({ ...target, root, keys: [keys[random.int(0, keys.length - 1)] as string] })
      }
      case 'equivocation':
        return equivocation({ ...target, edits: [(d) => d.getMap('byzantine').set(key, 'one story'), (d) => d.getMap('byzantine').set(key, 'another story')] })
      case 'replayed-envelope': {
        const into = docs.filter((other) => other !== doc)
        return replayedEnvelope(envelope, into[random.int(0, Math.max(0, into.length - 1))] ?? MANIFEST_DOC)
      }
      case 'truncated-envelope':
        return truncatedEnvelope(envelope, doc, random.int(0, envelope.length - 1))
      case 'bit-flipped-envelope': {
        const decoded = decodeEnvelope(envelope)
        const bits = decoded.ok ? decoded.envelope.update.length * 8 : 0
        return bits === 0 ? undefined : bitFlippedEnvelope(envelope, doc, random.int(0, bits - 1))
      }
    }
  }
}
