/**
 * Field schemas shared by several civic record types.
 * @module
 */
import { z } from 'zod'

/**
 * An exact decimal amount of money as a string (`"600000"`, `"250000.75"`): never a float, so
 * sums and comparisons stay exact on every replica.
 */
export const money = z
  .string()
  .regex(/^(0|[1-9]\d*)(\.\d+)?$/, 'expected a non-negative decimal amount such as "1500" or "250000.75"')

/** An ISO 8601 date-time with an offset or `Z` (`2026-11-25T10:00:00Z`). Wall-clock times are data, shown to people. */
export const isoDateTime = z.iso.datetime({ offset: true })

/** An identifier of a person or a key: a `did:key` or another stable id. */
export const actorId = z.string().min(1).max(200)

/** A WGS84 point. */
export const geoPoint = z.object({
  lat: z.number().min(-90).max(90),
  long: z.number().min(-180).max(180),
})

/** A district code (`north`, `D07`, ...). */
export const districtCode = z.string().min(1).max(100)

/** A short label such as a tag or a category. */
export const label = z.string().min(1).max(100)
