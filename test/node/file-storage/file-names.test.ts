import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CabildoError } from '../../../src/errors'
import { fileNames, keyForStem, parseFileName, stemForKey } from '../../../src/node/file-storage/file-names'

const keyArbitrary = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })

describe('file names', () => {
  it('escapes keys reversibly', () => {
    fc.assert(
      fc.property(keyArbitrary, (key) => {
        expect(keyForStem(stemForKey(key))).toBe(key)
      }),
      { seed: 42, numRuns: 2000 },
    )
  })

  it('gives distinct keys stems that differ even ignoring case (case-insensitive file systems)', () => {
    fc.assert(
      fc.property(keyArbitrary, keyArbitrary, (a, b) => {
        fc.pre(a !== b)
        expect(stemForKey(a).toLowerCase()).not.toBe(stemForKey(b).toLowerCase())
      }),
      { seed: 7, numRuns: 2000 },
    )
    expect(stemForKey('Tickets')).not.toBe(stemForKey('tickets'))
  })

  it('never yields a separator, an @, a NUL, a leading dot or a dot-only name', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('.', '/', '\\', '@', '\0', '%'), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 12 }), (key) => {
        const stem = stemForKey(key)
        expect(stem).toMatch(/^[a-z0-9_%-][a-z0-9_.%A-F-]*$/)
        expect(stem).not.toMatch(/[/\\@\0]/)
      }),
      { seed: 3, numRuns: 2000 },
    )
    expect(stemForKey('..')).toBe('%2E.')
    expect(stemForKey('../etc')).toBe('%2E.%2Fetc')
  })

  it('keeps plain document names readable', () => {
    expect(stemForKey('tickets.2026-11')).toBe('tickets.2026-11')
    expect(stemForKey('budget.x7k2')).toBe('budget.x7k2')
  })

  it('rejects stems that no key escapes to', () => {
    for (const stem of ['', 'A', '%41%', '%4', '%zz', '%61', '.x', 'a/b', '%C3']) expect(keyForStem(stem)).toBeUndefined()
  })

  it('refuses keys whose stem exceeds 200 bytes with E_ARGUMENT', () => {
    expect(stemForKey('a'.repeat(200))).toHaveLength(200)
    expect(() => stemForKey('a'.repeat(201))).toThrowError(CabildoError)
  })

  it('parses back every file name it makes, and no other', () => {
    const stem = stemForKey('a.1@x')
    expect(parseFileName(fileNames.log(stem, 3))).toMatchObject({ stem, kind: 'log', generation: 3 })
    expect(parseFileName(fileNames.snapshot(stem, 4))).toMatchObject({ stem, kind: 'snapshot', generation: 4 })
    expect(parseFileName(fileNames.snapshotTemp(stem, 4))).toMatchObject({ stem, kind: 'snapshot-tmp', generation: 4 })
    expect(parseFileName(fileNames.lock(stem))).toMatchObject({ stem, kind: 'lock' })
    expect(parseFileName(fileNames.lockTemp(stem, 77, 'ab12', 'tmp'))).toMatchObject({ stem, kind: 'lock-tmp', pid: 77 })
    expect(parseFileName(fileNames.droppedLog(stem, 2, 99))).toMatchObject({ stem, kind: 'quarantine', generation: 2 })
    expect(parseFileName(`${fileNames.droppedLog(stem, 2, 99)}-1`)).toMatchObject({ kind: 'quarantine' })
    expect(parseFileName(fileNames.corruptSnapshot(stem, 2))).toMatchObject({ stem, kind: 'quarantine' })
    for (const name of ['notes.txt', 'a@b@1.log', 'a@x.log', 'a@1.log.bak']) expect(parseFileName(name)).toBeUndefined()
  })
})
