import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseServiceList } from '../../../src/civic/open311/parse-service-list'
import { Open311Service, ServiceCatalog, buildServiceList } from '../../../src/civic/open311/service-list'
import { expectCabildoError, fixtureText } from './helpers'

describe('buildServiceList', () => {
  it('writes each service with the spec fields in spec order, keywords comma-joined, defaults filled', () => {
    const list = buildServiceList({
      district: 'north',
      services: [
        { service_code: 'pothole', service_name: 'Pothole', description: 'A hole in the road.', keywords: ['street', 'road'], group: 'Streets' },
        { service_code: 'noise', service_name: 'Noise', metadata: true, type: 'blackbox' },
      ],
    })
    expect(list).toEqual([
      {
        service_code: 'pothole',
        service_name: 'Pothole',
        description: 'A hole in the road.',
        metadata: false,
        type: 'realtime',
        keywords: 'street, road',
        group: 'Streets',
      },
      { service_code: 'noise', service_name: 'Noise', metadata: true, type: 'blackbox' },
    ])
    expect(Object.keys(list[0] ?? {})).toEqual(['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'])
    for (const service of list) expect(Open311Service.safeParse(service).success).toBe(true)
  })

  it('rejects a repeated service code and a keyword holding a comma, with E_SCHEMA paths into the catalog', () => {
    const duplicate = expectCabildoError('E_SCHEMA', () =>
      buildServiceList({
        district: 'north',
        services: [
          { service_code: 'a', service_name: 'A' },
          { service_code: 'a', service_name: 'A again' },
        ],
      }),
    )
    expect(duplicate.details.issues.map((issue) => [issue.path, issue.code])).toEqual([[['services', 1, 'service_code'], 'duplicate']])
    const comma = expectCabildoError('E_SCHEMA', () =>
      buildServiceList({ district: 'north', services: [{ service_code: 'a', service_name: 'A', keywords: ['x, y'] }] }),
    )
    expect(comma.path).toEqual(['services', 0, 'keywords', 0])
  })

  it('rejects a catalog without a district', () => {
    expect(expectCabildoError('E_SCHEMA', () => buildServiceList({ district: '', services: [] })).path).toEqual(['district'])
  })
})

describe('parseServiceList on the constructed sample', () => {
  const read = parseServiceList(fixtureText('services.json'), { district: 'north' })

  it('reads five services into the catalog and reports the one with an unknown type', () => {
    expect(read.catalog.district).toBe('north')
    expect(read.catalog.services.map((s) => s.service_code)).toEqual(['pothole', 'streetlight', '4', 'bin-overflow', 'noise'])
    expect(read.errors.map((e) => e.error.details.issues.map((issue) => [issue.path, issue.code]))).toEqual([[[[5, 'type'], 'invalid_value']]])
  })

  it('repairs and reports metadata as a string, a capitalised or missing type, a numeric code and a keyword list', () => {
    expect(read.coercions.map((c) => [c.index, c.field])).toEqual([
      [1, 'metadata'],
      [1, 'type'],
      [2, 'service_code'],
      [2, 'keywords'],
      [3, 'type'],
      [4, 'metadata'],
    ])
    expect(read.catalog.services[1]).toMatchObject({ metadata: true, type: 'realtime', keywords: ['light', 'lamp', 'dark'] })
    expect(read.catalog.services[3]?.keywords).toEqual([])
  })

  it('keeps vendor fields of a service in its extras', () => {
    expect(read.entries.find((e) => e.index === 3)?.extras).toEqual({ display_order: 12 })
  })

  it('reports a service repeating an earlier code', () => {
    const twice = parseServiceList(
      [
        { service_code: 'a', service_name: 'A', metadata: false, type: 'realtime' },
        { service_code: 'a', service_name: 'B', metadata: false, type: 'realtime' },
      ],
      { district: 'north' },
    )
    expect(twice.catalog.services.map((s) => s.service_name)).toEqual(['A'])
    expect(twice.errors[0]?.error.details.issues[0]).toMatchObject({ path: [1, 'service_code'], code: 'duplicate' })
  })

  it('throws E_PARSE for a list that is not an array and E_ARGUMENT without a district', () => {
    expect(expectCabildoError('E_PARSE', () => parseServiceList({ services: [] }, { district: 'north' })).details.format).toBe('open311')
    expect(expectCabildoError('E_ARGUMENT', () => parseServiceList([], { district: '' })).details.argument).toBe('options.district')
  })
})

describe('property: any catalog round-trips through services.json', () => {
  const keyword = fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((word) => !word.includes(',') && word.trim() === word)
  const service = fc.record(
    {
      service_code: fc.string({ minLength: 1, maxLength: 100 }),
      service_name: fc.string({ minLength: 1, maxLength: 200 }),
      description: fc.string({ maxLength: 300 }),
      metadata: fc.boolean(),
      type: fc.constantFrom('realtime', 'batch', 'blackbox'),
      keywords: fc.array(keyword, { maxLength: 5 }),
      group: fc.string({ maxLength: 50 }),
    },
    { requiredKeys: ['service_code', 'service_name', 'metadata', 'type', 'keywords'] },
  )
  const catalog = fc.record({
    district: fc.string({ minLength: 1, maxLength: 100 }),
    services: fc.uniqueArray(service, { maxLength: 8, selector: (s) => s.service_code }),
  })

  it('buildServiceList → JSON text → parseServiceList gives back the catalog, with no coercion', () => {
    fc.assert(
      fc.property(catalog, (c) => {
        expect(ServiceCatalog.safeParse(c).success).toBe(true)
        const read = parseServiceList(JSON.stringify(buildServiceList(c)), { district: c.district })
        expect(read.errors).toEqual([])
        expect(read.coercions).toEqual([])
        expect(read.catalog).toEqual(c)
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})
