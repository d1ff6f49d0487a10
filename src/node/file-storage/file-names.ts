/**
 * Names of the file store's files. A document key becomes a file-name stem by a reversible
 * escape, and every file of that document is `<stem>@<suffix>`.
 *
 * The escape keeps lowercase ASCII letters, digits, `-`, `_` and `.` (but not a leading `.`), and
 * writes every other UTF-8 byte as `%XX` with uppercase hex digits. So a stem never contains `/`,
 * `\`, `@`, NUL or an uppercase letter: no path traversal, no hidden files, no clash between the
 * files of two keys (the `@` ends every stem), and no clash on case-insensitive file systems
 * (`Tickets` → `%54ickets`, distinct from `tickets`).
 *
 * ```ts
 * stemForKey('tickets.2026-11') // 'tickets.2026-11'
 * stemForKey('../Budget')       // '%2E.%2F%42udget'
 * keyForStem('%2E.%2F%42udget') // '../Budget'
 * ```
 * @module
 */
import { CabildoError } from '../../errors'

/** The longest stem accepted: leaves room for suffixes within the usual 255-byte name limit. */
export const MAX_STEM_BYTES = 200

const keep = (byte: number, index: number): boolean =>
  (byte >= 0x61 && byte <= 0x7a) || // a-z
  (byte >= 0x30 && byte <= 0x39) || // 0-9
  byte === 0x2d || // -
  byte === 0x5f || // _
  (byte === 0x2e && index > 0) // . (a leading dot would hide the file, or make `.` and `..`)

const hex = '0123456789ABCDEF'

/**
 * The file-name stem of a document key.
 * @throws `E_ARGUMENT` if the stem would be longer than {@link MAX_STEM_BYTES}.
 */
export function stemForKey(key: string): string {
  const bytes = new TextEncoder().encode(key)
  let stem = ''
  bytes.forEach((byte, index) => {
    stem += keep(byte, index) ? String.fromCharCode(byte) : `%${hex[byte >> 4]}${hex[byte & 15]}`
  })
  if (stem.length > MAX_STEM_BYTES) {
    throw new CabildoError('E_ARGUMENT', `The storage key is too long for a file name (${stem.length} > ${MAX_STEM_BYTES} bytes escaped)`, {
      argument: 'key',
      reason: `escaped name longer than ${MAX_STEM_BYTES} bytes`,
    })
  }
  return stem
}

/** The document key of a stem made by {@link stemForKey}, or undefined if `stem` is not one. */
export function keyForStem(stem: string): string | undefined {
  const bytes: number[] = []
  for (let i = 0; i < stem.length; i++) {
    const char = stem.charCodeAt(i)
    if (char === 0x25) {
      const code = stem.slice(i + 1, i + 3)
      if (!/^[0-9A-F]{2}$/.test(code)) return undefined
      const byte = parseInt(code, 16)
      if (keep(byte, bytes.length)) return undefined // not canonical: would have been kept as is
      bytes.push(byte)
      i += 2
    } else if (keep(char, bytes.length)) {
      bytes.push(char)
    } else {
      return undefined
    }
  }
  if (bytes.length === 0) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
  } catch {
    return undefined
  }
}

/** The kinds of files a document has. */
export type StoreFileKind = 'log' | 'snapshot' | 'snapshot-tmp' | 'lock' | 'lock-tmp' | 'quarantine'

/** A file of the store, parsed from its name. */
export interface StoreFile {
  readonly name: string
  readonly stem: string
  readonly kind: StoreFileKind
  /** The generation of a log, snapshot or quarantined file. */
  readonly generation?: number
  /** The process that wrote a lock temporary file. */
  readonly pid?: number
}

/** Names of the files of one document. */
export const fileNames = {
  lock: (stem: string): string => `${stem}@lock`,
  lockTemp: (stem: string, pid: number, token: string, what: 'tmp' | 'stale'): string => `${stem}@lock-${pid}-${token}.${what}`,
  log: (stem: string, generation: number): string => `${stem}@${generation}.log`,
  snapshot: (stem: string, generation: number): string => `${stem}@${generation}.snapshot`,
  snapshotTemp: (stem: string, generation: number): string => `${stem}@${generation}.snapshot.tmp`,
  droppedLog: (stem: string, generation: number, offset: number): string => `${stem}@${generation}.log.dropped-${offset}`,
  corruptSnapshot: (stem: string, generation: number): string => `${stem}@${generation}.snapshot.corrupt`,
} as const

const pattern = /^([^@]+)@(?:(lock)|lock-(\d+)-[0-9a-z]+\.(?:tmp|stale)|(\d+)\.(log|snapshot|snapshot\.tmp|log\.dropped-\d+(?:-\d+)?|snapshot\.corrupt(?:-\d+)?))$/

/** Parses a file name of the store; undefined for any other file. */
export function parseFileName(name: string): StoreFile | undefined {
  const match = pattern.exec(name)
  if (match === null) return undefined
  const [, stem = '', lock, lockPid, generation, suffix] = match
  if (lock !== undefined) return { name, stem, kind: 'lock' }
  if (lockPid !== undefined) return { name, stem, kind: 'lock-tmp', pid: Number(lockPid) }
  const kind: StoreFileKind =
    suffix === 'log' ? 'log' : suffix === 'snapshot' ? 'snapshot' : suffix === 'snapshot.tmp' ? 'snapshot-tmp' : 'quarantine'
  return { name, stem, kind, generation: Number(generation) }
}
