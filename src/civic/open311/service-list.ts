/**
 * A district's GeoReport v2 service list (`GET services.json`,
 * https://wiki.open311.org/GeoReport_v2#GET_Service_List): the wire schema, the typed catalog it
 * is built from, and the builder.
 *
 * ```ts
 * const services = buildServiceList({
 *   district: 'north',
 *   services: [{ service_code: 'pothole', service_name: 'Pothole', keywords: ['street', 'road'] }],
 * })
 * response.end(JSON.stringify(services))
 * ```
 * @module
 */
import { z } from 'zod'
import type { SchemaIssue } from '../../errors'
import { districtCode } from '../../schema/common'
import { schemaError } from './json-input'

/** How a service accepts requests (GeoReport v2 "type"). */
export const Open311ServiceType = { realtime: 'realtime', batch: 'batch', blackbox: 'blackbox' } as const
/** A GeoReport service type: `realtime`, `batch` or `blackbox`. */
export type Open311ServiceType = (typeof Open311ServiceType)[keyof typeof Open311ServiceType]

const serviceType = z.enum([Open311ServiceType.realtime, Open311ServiceType.batch, Open311ServiceType.blackbox])

/**
 * One service of a GeoReport v2 service list, as the spec writes it: `metadata` a boolean,
 * `keywords` one comma-separated string. Loose: servers may add fields.
 */
export const Open311Service = z.looseObject({
  service_code: z.string().min(1),
  service_name: z.string().min(1),
  description: z.string().optional(),
  metadata: z.boolean(),
  type: serviceType,
  keywords: z.string().optional(),
  group: z.string().optional(),
})
/** One service of a GeoReport v2 service list. */
export type Open311Service = z.infer<typeof Open311Service>

/** A keyword: non-empty, no comma (the spec's separator), no surrounding whitespace, so lists round-trip. */
const keyword = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^,\s](?:[^,]*[^,\s])?$/, 'a keyword has no comma and no surrounding whitespace')

/** One service a district offers, with typed fields: keywords as a list, defaults filled. */
export const CatalogService = z.object({
  /** GeoReport `service_code`: unique within the district. */
  service_code: z.string().min(1).max(100),
  /** GeoReport `service_name`. */
  service_name: z.string().min(1).max(200),
  /** GeoReport `description`. */
  description: z.string().max(4_000).optional(),
  /** GeoReport `metadata`: whether the service has a service definition with extra attributes. */
  metadata: z.boolean().default(false),
  /** GeoReport `type`. */
  type: serviceType.default(Open311ServiceType.realtime),
  /** GeoReport `keywords`, as a list. */
  keywords: z.array(keyword).default([]),
  /** GeoReport `group`: a category to list the service under. */
  group: z.string().max(200).optional(),
})
/** One service a district offers. */
export type CatalogService = z.infer<typeof CatalogService>

/** The services one district offers: the source of its `services.json`. */
export const ServiceCatalog = z.object({
  /** The district whose services these are. */
  district: districtCode,
  /** The services, in the order they are listed. Service codes are unique. */
  services: z.array(CatalogService),
})
/** The services one district offers. */
export type ServiceCatalog = z.infer<typeof ServiceCatalog>

/**
 * Validates a catalog (defaults filled) and checks that service codes are unique.
 * @throws CabildoError `E_SCHEMA` with issue paths such as `['services', 2, 'service_code']`.
 */
export function parseServiceCatalog(catalog: z.input<typeof ServiceCatalog>): ServiceCatalog {
  const parsed = ServiceCatalog.safeParse(catalog)
  const issues: SchemaIssue[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))
        return { path, code: issue.code, message: `${path.join('.')}: ${issue.message}` }
      })
  if (parsed.success) {
    const seen = new Set<string>()
    parsed.data.services.forEach((service, index) => {
      if (seen.has(service.service_code)) {
        issues.push({
          path: ['services', index, 'service_code'],
          code: 'duplicate',
          message: `services.${index}.service_code: "${service.service_code}" is listed twice`,
        })
      }
      seen.add(service.service_code)
    })
  }
  if (issues.length > 0 || !parsed.success) {
    throw schemaError(`Invalid service catalog: ${issues.map((issue) => issue.message).join('; ')}`, issues, 'service-catalog')
  }
  return parsed.data
}

/**
 * Builds a district's GeoReport v2 service list (the body of `GET services.json`).
 *
 * Guarantees: every entry is valid against {@link Open311Service}; keywords are joined with `", "`
 * and omitted when there are none; absent optional fields are omitted. {@link parseServiceList}
 * with the same district reads the output back to the same catalog, with no coercions.
 *
 * @throws CabildoError `E_SCHEMA` when the catalog is invalid or lists a service code twice.
 */
export function buildServiceList(catalog: z.input<typeof ServiceCatalog>): Open311Service[] {
  return parseServiceCatalog(catalog).services.map((service) => {
    // Spec order: service_code, service_name, description, metadata, type, keywords, group.
    const out: Record<string, unknown> = { service_code: service.service_code, service_name: service.service_name }
    if (service.description !== undefined) out.description = service.description
    out.metadata = service.metadata
    out.type = service.type
    if (service.keywords.length > 0) out.keywords = service.keywords.join(', ')
    if (service.group !== undefined) out.group = service.group
    return out as Open311Service
  })
}

