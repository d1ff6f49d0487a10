/**
 * Who can reach whom on a simulated network: the connected peers, the partition, and the links
 * between them. Each change reports the links it brought up or down; every link that comes up gets
 * a new session number, so traffic from before a break can be told from traffic after it.
 * @module
 */
import { CabildoError } from '../errors'
import type { PeerId, PeerInfo } from './transport'

/** A connected peer: its transport end (of any type) and how it presented itself. */
export interface Member<End> {
  /** The peer's end of the network. */
  readonly end: End
  /** Its id and metadata. */
  readonly info: PeerInfo
}

/** A link that came up or went down; `a` connected before `b`. */
export interface LinkChange<End> {
  /** Whether the link came up (else it went down). */
  readonly up: boolean
  readonly a: Member<End>
  readonly b: Member<End>
  /** The session of the link: new when it comes up, the ending one when it goes down. */
  readonly session: number
}

/** Peers named in no partition group share this group. */
const REST = -1

/** The key of the link between two peers, the same in both directions. */
function linkKey(a: PeerId, b: PeerId): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
}

/** The reachability of a set of peers. Passes over peers follow connection order, so changes come out in a deterministic order. */
export class NetworkTopology<End> {
  readonly #members = new Map<PeerId, Member<End>>()
  readonly #links = new Map<string, number>()
  #groups: ReadonlyMap<PeerId, number> | undefined
  #sessions = 0

  /** The connected peers, in connection order. */
  get peers(): PeerId[] {
    return [...this.#members.keys()]
  }

  /** The connected peer `peerId`, if any. */
  member(peerId: PeerId): Member<End> | undefined {
    return this.#members.get(peerId)
  }

  /** The session of the link between `a` and `b` if it is up. */
  session(a: PeerId, b: PeerId): number | undefined {
    return a === b ? undefined : this.#links.get(linkKey(a, b))
  }

  /**
   * Connects a peer and brings up its links to the peers it can reach.
   * @throws `E_ARGUMENT` if its id is already connected.
   */
  add(end: End, info: PeerInfo): Array<LinkChange<End>> {
    if (this.#members.has(info.peerId)) {
      throw new CabildoError('E_ARGUMENT', `peer id ${info.peerId} is already connected to this network`, { argument: 'self.peerId', reason: 'already connected' }, { path: ['peerId'] })
    }
    this.#members.set(info.peerId, { end, info })
    return this.#update()
  }

  /** Disconnects a peer, taking its links down. Unknown ids change nothing. */
  remove(peerId: PeerId): Array<LinkChange<End>> {
    const gone = this.#members.get(peerId)
    if (gone === undefined) return []
    const changes: Array<LinkChange<End>> = []
    for (const other of this.#members.values()) {
      const session = this.session(peerId, other.info.peerId)
      if (session === undefined) continue
      this.#links.delete(linkKey(peerId, other.info.peerId))
      changes.push({ up: false, a: gone, b: other, session })
    }
    this.#members.delete(peerId)
    return changes
  }

  /**
   * Splits the peers into groups that cannot reach each other (peers named in no group, now or
   * later, form one more group). Replaces any previous partition.
   * @throws `E_ARGUMENT` if a peer id appears in two groups; nothing changes then.
   */
  partition(groups: ReadonlyArray<ReadonlyArray<PeerId>>): Array<LinkChange<End>> {
    const groupOf = new Map<PeerId, number>()
    groups.forEach((group, index) => {
      for (const peerId of group) {
        if (groupOf.has(peerId) && groupOf.get(peerId) !== index) {
          throw new CabildoError('E_ARGUMENT', `peer ${peerId} is in two partition groups`, { argument: 'groups', reason: 'a peer in two groups' }, { path: [index] })
        }
        groupOf.set(peerId, index)
      }
    })
    this.#groups = groupOf
    return this.#update()
  }

  /** Ends the partition. */
  heal(): Array<LinkChange<End>> {
    this.#groups = undefined
    return this.#update()
  }

  #reachable(a: PeerId, b: PeerId): boolean {
    const groups = this.#groups
    return groups === undefined || (groups.get(a) ?? REST) === (groups.get(b) ?? REST)
  }

  /** Brings every link in line with the members and the partition. */
  #update(): Array<LinkChange<End>> {
    const members = [...this.#members.values()]
    const changes: Array<LinkChange<End>> = []
    members.forEach((a, i) => {
      for (const b of members.slice(i + 1)) {
        const key = linkKey(a.info.peerId, b.info.peerId)
        const session = this.#links.get(key)
        const reachable = this.#reachable(a.info.peerId, b.info.peerId)
        if (reachable && session === undefined) {
          this.#links.set(key, ++this.#sessions)
          changes.push({ up: true, a, b, session: this.#sessions })
        } else if (!reachable && session !== undefined) {
          this.#links.delete(key)
          changes.push({ up: false, a, b, session })
        }
      }
    })
    return changes
  }
}
