/**
 * Canonical JSON: one byte sequence per value, on every platform, so that a record's hash and
 * signature do not depend on who serialized it.
 *
 * ```ts
 * import { canonicalBytes, contentHash } from 'cabildo'
 * canonicalBytes({ b: 1, a: [true, null] }) // bytes of '{"a":[true,null],"b":1}'
 * contentHash({ b: 1, a: [true, null] })    // lowercase hex SHA-256 of those bytes
 * ```
 *
 * The encoding follows RFC 8785 (JSON Canonicalization Scheme) for the values cabildo stores:
 * object keys sorted by UTF-16 code units, no whitespace, numbers in ECMAScript's shortest
 * round-trip form (identical in every conforming engine), strings escaped as `JSON.stringify`
 * does. Values JSON cannot represent faithfully (`undefined` inside arrays, `NaN`, `Infinity`,
 * functions, symbols, bigints, lone surrogates, non-plain objects) are refused, so two apps can
 * never disagree about what was signed.
 * @module
 */
import { digest } from 'lib0/hash/sha256'
import { encodeUtf8 } from 'lib0/string'
import { CabildoError } from '../errors'

/** A value that has a canonical encoding. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined }

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function fail(path: ReadonlyArray<string | number>, reason: string): never {
  throw new CabildoError('E_ARGUMENT', `Value has no canonical encoding at ${path.join('.') || '<root>'}: ${reason}`, {
    argument: 'value',
    reason,
  }, { path })
}

function write(value: unknown, path: Array<string | number>, out: string[]): void {
  if (value === null) {
    out.push('null')
    return
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'number':
      if (!Number.isFinite(value)) fail(path, 'non-finite number')
      // Object.is keeps -0 out: JSON has no negative zero, and JCS writes it as 0.
      out.push(Object.is(value, -0) ? '0' : String(value))
      return
    case 'string':
      if (loneSurrogate.test(value)) fail(path, 'string with a lone surrogate')
      out.push(JSON.stringify(value))
      return
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[')
        value.forEach((item, i) => {
          if (i > 0) out.push(',')
          if (item === undefined) fail([...path, i], 'undefined inside an array')
          path.push(i)
          write(item, path, out)
          path.pop()
        })
        out.push(']')
        return
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) fail(path, 'not a plain object')
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
      out.push('{')
      keys.forEach((key, i) => {
        if (i > 0) out.push(',')
        if (loneSurrogate.test(key)) fail(path, 'key with a lone surrogate')
        out.push(JSON.stringify(key), ':')
        path.push(key)
        write(record[key], path, out)
        path.pop()
      })
      out.push('}')
      return
    }
    default:
      fail(path, `unsupported type ${typeof value}`)
  }
}

/**
 * The canonical JSON text of a value (RFC 8785 style).
 * @throws CabildoError `E_ARGUMENT` when the value has no canonical encoding.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = []
  write(value, [], out)
  return out.join('')
}

/**
 * The canonical encoding of a value as UTF-8 bytes: what cabildo hashes and signs.
 * @throws CabildoError `E_ARGUMENT` when the value has no canonical encoding.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return encodeUtf8(canonicalJson(value))
}

const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/** Lowercase hexadecimal of bytes. */
export function toHex(bytes: Uint8Array): string {
  // One flat string: appending piece by piece would leave a tree of string fragments, which
  // costs several times the string's size wherever it is kept (logs, queues, map keys).
  const parts = new Array<string>(bytes.length)
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX_BYTES[bytes[i] as number] as string
  return parts.join('')
}

/** SHA-256 of bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(digest(bytes))
}

/**
 * The content address of a value: lowercase hex SHA-256 of its canonical bytes.
 * Equal values have equal hashes on every platform.
 */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalBytes(value))
}
