/**
 * Tolerant readers for single GeoReport fields. Each reader accepts the spec's form unchanged,
 * repairs the deviations public servers are known for (numbers where strings belong, strings where
 * numbers belong, `media_url` lists, date-times without an offset or with a space for `T`) and says
 * what it repaired, or reports the value as invalid. Readers never throw.
 * @module
 */
import { isoDateTime } from '../../schema/common'
import { jsonTypeOf } from './json-input'

/** One repair made while reading: which request, which field, the value before and after, and why. */
export interface Open311Coercion {
  /** Index of the request (or service) in the input list. */
  readonly index: number
  /** The input field that was repaired. */
  readonly field: string
  /** The value as it arrived. */
  readonly from: unknown
  /** The value kept (`undefined` when the field was read as absent). */
  readonly to: unknown
  /** Why the value was changed, in words. */
  readonly reason: string
}

/** A repair made by a field reader, before it is tied to a request index and a field name. */
export interface CoercionNote {
  /** The value as it arrived. */
  readonly from: unknown
  /** The value kept. */
  readonly to: unknown
  /** Why. */
  readonly reason: string
}

/** The outcome of reading one field: absent, a value (maybe repaired), or invalid. */
export type FieldRead<T> =
  | { readonly kind: 'absent'; readonly note?: CoercionNote }
  | { readonly kind: 'value'; readonly value: T; readonly note?: CoercionNote }
  | { readonly kind: 'invalid'; readonly code: string; readonly message: string }

const absent: FieldRead<never> = { kind: 'absent' }

function invalidType(expected: string, raw: unknown): FieldRead<never> {
  return { kind: 'invalid', code: 'invalid_type', message: `expected ${expected}, got ${jsonTypeOf(raw)}` }
}

/**
 * Reads a text field. `null` means absent (JSON's "no value"); numbers and booleans become their
 * decimal text, since servers often publish codes and zip codes as numbers. Text is never trimmed:
 * it is the requester's.
 */
export function readText(raw: unknown): FieldRead<string> {
  if (raw === undefined || raw === null) return absent
  if (typeof raw === 'string') return { kind: 'value', value: raw }
  if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'boolean') {
    const value = String(raw)
    return { kind: 'value', value, note: { from: raw, to: value, reason: `${typeof raw} read as text` } }
  }
  return invalidType('a string', raw)
}

/** Reads an identifier: like {@link readText}, and an empty id is read as no id. */
export function readIdentifier(raw: unknown): FieldRead<string> {
  const read = readText(raw)
  if (read.kind === 'value' && read.value === '') {
    return { kind: 'absent', note: { from: raw, to: undefined, reason: 'empty id read as absent' } }
  }
  return read
}

const decimalNumber = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** Reads a WGS84 coordinate: a JSON number, or a decimal number written as a string. Ranges are checked later by the ticket schema. */
export function readCoordinate(raw: unknown): FieldRead<number> {
  if (raw === undefined || raw === null) return absent
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? { kind: 'value', value: raw } : invalidType('a finite number', raw)
  }
  if (typeof raw === 'string') {
    const text = raw.trim()
    if (text === '') return { kind: 'absent', note: { from: raw, to: undefined, reason: 'empty coordinate read as absent' } }
    if (decimalNumber.test(text)) {
      const value = Number(text)
      if (Number.isFinite(value)) return { kind: 'value', value, note: { from: raw, to: value, reason: 'numeric string read as number' } }
    }
    return { kind: 'invalid', code: 'invalid_type', message: `expected a number, got the string ${JSON.stringify(raw)}` }
  }
  return invalidType('a number', raw)
}

/**
 * Date-time shapes seen in the wild: `T` or spaces between date and time, seconds optional,
 * fraction with `.` or `,`, offset `Z`, `±hh:mm`, `±hhmm`, `±hh` or none.
 */
const looseDateTime =
  /^(\d{4}-\d{2}-\d{2})([Tt]|\s+)(\d{2}:\d{2})(:\d{2}(?:[.,]\d+)?)?\s*(?:([Zz])|([+-])(\d{2})(:?)(\d{2})?)?$/

/**
 * Reads a date-time. GeoReport v2 requires ISO 8601 with an offset ("Timezone information ... must
 * be included"); a value without one is read at `defaultOffset` and the assumption is reported.
 */
export function readDateTime(raw: unknown, defaultOffset: string): FieldRead<string> {
  if (raw === undefined || raw === null) return absent
  if (typeof raw !== 'string') return invalidType('an ISO 8601 date-time string', raw)
  if (isoDateTime.safeParse(raw).success) return { kind: 'value', value: raw }
  const text = raw.trim()
  if (text === '') return { kind: 'absent', note: { from: raw, to: undefined, reason: 'empty date-time read as absent' } }
  const match = looseDateTime.exec(text)
  if (match !== null) {
    const [, date, separator, hoursMinutes, seconds, zulu, sign, offsetHours, colon, offsetMinutes] = match
    const reasons: string[] = []
    if (text !== raw) reasons.push('surrounding whitespace removed')
    if (separator !== 'T') reasons.push(`"${separator}" between date and time read as "T"`)
    if (seconds === undefined) reasons.push('missing seconds read as :00')
    else if (seconds.includes(',')) reasons.push('decimal comma read as a point')
    let offset: string
    if (zulu !== undefined) {
      offset = 'Z'
      if (zulu !== 'Z') reasons.push('lower-case "z" read as "Z"')
    } else if (sign !== undefined && offsetHours !== undefined) {
      offset = `${sign}${offsetHours}:${offsetMinutes ?? '00'}`
      if (offsetMinutes === undefined || colon !== ':') reasons.push(`offset read as ${offset}`)
    } else {
      offset = defaultOffset
      reasons.push(`no offset: assumed ${defaultOffset}`)
    }
    const value = `${date}T${hoursMinutes}${(seconds ?? ':00').replace(',', '.')}${offset}`
    if (isoDateTime.safeParse(value).success) {
      return { kind: 'value', value, note: { from: raw, to: value, reason: reasons.join('; ') } }
    }
  }
  return {
    kind: 'invalid',
    code: 'invalid_format',
    message: `expected an ISO 8601 date-time with an offset, got ${JSON.stringify(raw)}`,
  }
}

/**
 * Reads `media_url`. The spec has one URL; some servers publish a list, of which the first is
 * kept and the whole list reported in the coercion's `from`. URL validity is checked later by the
 * ticket schema.
 */
export function readMediaUrl(raw: unknown): FieldRead<string> {
  if (raw === undefined || raw === null) return absent
  if (typeof raw === 'string') {
    return raw === '' ? { kind: 'absent', note: { from: raw, to: undefined, reason: 'empty media_url read as absent' } } : { kind: 'value', value: raw }
  }
  if (Array.isArray(raw)) {
    const [first] = raw as unknown[]
    if (first === undefined) return { kind: 'absent', note: { from: raw, to: undefined, reason: 'empty media_url list read as absent' } }
    if (typeof first !== 'string' || first === '') return invalidType('a URL string or a list of URL strings', first)
    const reason = raw.length === 1 ? 'one-element media_url list read as its URL' : `first of ${raw.length} media URLs kept`
    return { kind: 'value', value: first, note: { from: raw, to: first, reason } }
  }
  return invalidType('a URL string', raw)
}

/** Reads a boolean: `true`/`false`, or the strings `"true"`/`"false"` (any case). */
export function readBoolean(raw: unknown): FieldRead<boolean> {
  if (raw === undefined || raw === null) return absent
  if (typeof raw === 'boolean') return { kind: 'value', value: raw }
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase()
    if (word === 'true' || word === 'false') {
      const value = word === 'true'
      return { kind: 'value', value, note: { from: raw, to: value, reason: 'string read as boolean' } }
    }
  }
  return invalidType('a boolean', raw)
}
