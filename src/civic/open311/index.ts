/**
 * Open311 GeoReport v2 interop for service tickets (https://wiki.open311.org/GeoReport_v2):
 * tickets to and from service requests, losslessly through documented `x_cabildo_*` extension
 * fields; tolerant reading of what real servers publish; a district's service list.
 *
 * ```ts
 * import { fromOpen311, toOpen311, buildServiceList } from 'cabildo'
 * const json = JSON.stringify(toOpen311(tickets))            // spec-valid, plus x_cabildo_* fields
 * const read = fromOpen311(json, { district: 'north' })      // { tickets, errors, coercions, results }
 * read.tickets[0]?.value.status                              // 'in_progress' survives the trip
 * const services = buildServiceList({ district: 'north', services: [{ service_code: 'pothole', service_name: 'Pothole' }] })
 * ```
 * @module
 */
export {
  GEOREPORT_REQUEST_FIELDS,
  GeoReportStatus,
  Open311Extension,
  Open311ServiceRequest,
  isReservedRequestField,
  type GeoReportRequestField,
} from './georeport-request'
export { readVendorStatus, toGeoReportStatus } from './lifecycle-mapping'
export type { Open311Coercion } from './field-readers'
export {
  fromOpen311,
  fromOpen311Request,
  type FromOpen311Options,
  type Open311Read,
  type Open311RequestResult,
  type Open311TicketRead,
  type Open311TicketValue,
} from './from-open311'
export { toOpen311, type ToOpen311Options } from './to-open311'
export { CatalogService, Open311Service, Open311ServiceType, ServiceCatalog, buildServiceList, parseServiceCatalog } from './service-list'
export {
  parseServiceList,
  type ParseServiceListOptions,
  type ServiceListEntry,
  type ServiceListRead,
  type ServiceListResult,
} from './parse-service-list'
