import { describe, expect, it } from 'vitest'
import { fromOpen311, fromOpen311Request } from '../../../src/civic/open311/from-open311'
import { expectCabildoError, fixtureText } from './helpers'

const options = { district: 'north' }
const base = { service_request_id: 'r-1', status: 'open', service_code: 'pothole', requested_datetime: '2026-11-01T08:00:00Z' }

describe('fromOpen311 on the constructed sample of public-endpoint requests', () => {
  const read = fromOpen311(fixtureText('requests.json'), options)

  // [index, service_request_id, lifecycle state, district, fields reported as coerced]
  const expected: [number, string, string, string, string[]][] = [
    [0, 'VLN-2026-000101', 'open', 'north', []],
    [1, '20031847', 'open', 'north', ['service_request_id', 'status', 'lat', 'long']],
    [2, 'VLN-2026-000103', 'in_progress', 'north', ['status', 'requested_datetime', 'media_url']],
    [3, 'VLN-2026-000104', 'closed', 'north', ['status', 'updated_datetime']],
    [4, 'VLN-2026-000105', 'acknowledged', 'north', ['status']],
    [5, 'VLN-2026-000106', 'closed', 'north', ['address_id', 'zipcode']],
    [6, 'VLN-2026-000107', 'acknowledged', 'north', ['status']],
    [7, 'VLN-2026-000108', 'open', 'north', []],
    [8, 'VLN-2026-000109', 'open', 'north', ['media_url']],
    [9, 'VLN-2026-000110', 'acknowledged', 'north', ['status']],
    [10, 'VLN-2026-000111', 'closed', 'north', ['status']],
    [11, 'VLN-2026-000112', 'closed', 'north', ['status']],
    [12, 'VLN-2026-000113', 'open', 'north', ['status', 'requested_datetime']],
    [13, '20031861', 'open', 'north', ['service_code', 'lat', 'long']],
    [14, 'tickets.2026-11/k3v9q2', 'in_progress', 'south', []],
    [15, 'tickets.2026-11/m8d1r7', 'closed', 'south', ['x_cabildo_status']],
    [16, 'VLN-2026-000117', 'open', 'north', ['status']],
    [17, 'VLN-2026-000118', 'in_progress', 'north', ['status']],
  ]

  it('reads the 18 valid requests and reports the 2 invalid ones, in input order', () => {
    expect(read.results.map((result) => result.ok)).toEqual([...Array<boolean>(18).fill(true), false, false])
    expect(read.tickets.map((ticket) => ticket.index)).toEqual(expected.map(([index]) => index))
    expect(read.errors.map((error) => error.index)).toEqual([18, 19])
  })

  it.each(expected)('request %i: id %s, state %s, district %s, coerced fields %j', (index, id, state, district, fields) => {
    const ticket = read.tickets.find((t) => t.index === index)
    expect(ticket?.serviceRequestId).toBe(id)
    expect(ticket?.value.status).toBe(state)
    expect(ticket?.value.district).toBe(district)
    expect(ticket?.coercions.map((c) => c.field)).toEqual(fields)
    expect(read.coercions.filter((c) => c.index === index)).toEqual(ticket?.coercions)
  })

  it('names the field at fault in each error, with a path starting at the request index', () => {
    const [missingCode, badDate] = read.errors
    expect(missingCode?.error.code).toBe('E_SCHEMA')
    expect(missingCode?.error.details.issues.map((issue) => issue.path)).toEqual([[18, 'service_code']])
    expect(badDate?.error.details.issues.map((issue) => [issue.path, issue.code])).toEqual([[[19, 'requested_datetime'], 'invalid_format']])
    expect(badDate?.error.path).toEqual([19, 'requested_datetime'])
  })

  it('repairs the known deviations into spec values', () => {
    const at = (index: number) => read.tickets.find((t) => t.index === index)?.value
    expect(at(1)).toMatchObject({ lat: 40.41621, long: -3.70102 })
    expect(at(2)).toMatchObject({
      requested_datetime: '2026-11-02T14:03:11Z',
      media_url: 'https://media.villanueva.example/requests/103/1.jpg',
    })
    expect(at(3)?.updated_datetime).toBe('2026-11-04T07:15:00+01:00')
    expect(at(5)).toMatchObject({ address_id: '30772', zipcode: '28014' })
    expect(at(12)?.requested_datetime).toBe('2026-11-05T09:30:00Z')
    expect(at(13)).toMatchObject({ service_code: '4', lat: 40.41099, long: -3.69333 })
  })

  it('reports each repair with the value before and after', () => {
    expect(read.coercions).toContainEqual({
      index: 2,
      field: 'media_url',
      from: ['https://media.villanueva.example/requests/103/1.jpg', 'https://media.villanueva.example/requests/103/2.jpg'],
      to: 'https://media.villanueva.example/requests/103/1.jpg',
      reason: 'first of 2 media URLs kept',
    })
    expect(read.coercions).toContainEqual(expect.objectContaining({ index: 3, field: 'status', from: 'Closed - Completed', to: 'closed' }))
    expect(read.coercions).toContainEqual(expect.objectContaining({ index: 1, field: 'service_request_id', from: 20031847, to: '20031847' }))
    expect(read.coercions).toContainEqual(expect.objectContaining({ index: 15, field: 'x_cabildo_status', from: 'in_progress', to: 'closed' }))
  })

  it('reads null as an absent field, without a coercion', () => {
    const ticket = read.tickets.find((t) => t.index === 7)
    expect(ticket?.value).not.toHaveProperty('description')
    expect(ticket?.value).not.toHaveProperty('expected_datetime')
    expect(ticket?.value).not.toHaveProperty('media_url')
  })

  it('keeps vendor fields verbatim in extras and never puts spec or extension fields there', () => {
    expect(read.tickets.find((t) => t.index === 3)?.extras).toEqual({
      token: 'b1f0c9e2-7a7e-4c59-9a11-3f2e4d8a9c10',
      comment_count: 3,
      interface_used: 'iOS',
    })
    expect(read.tickets.find((t) => t.index === 6)?.extras).toEqual({ extended_attributes: { x: 441203.18, y: 4473220.51, photos: 1 } })
    expect(read.tickets.find((t) => t.index === 14)?.extras).toEqual({})
  })
})

describe('fromOpen311 tolerant reading', () => {
  it('assumes the given offset for date-times published without one', () => {
    const read = fromOpen311([{ ...base, requested_datetime: '2026-11-02 14:03:11' }], { district: 'north', defaultOffset: '+01:00' })
    expect(read.tickets[0]?.value.requested_datetime).toBe('2026-11-02T14:03:11+01:00')
    expect(read.coercions[0]?.reason).toContain('assumed +01:00')
  })

  it('fills district from the option when the request has no x_cabildo_district, and prefers the request\'s own', () => {
    const read = fromOpen311([base, { ...base, x_cabildo_district: 'south' }], { district: 'east' })
    expect(read.tickets.map((t) => t.value.district)).toEqual(['east', 'south'])
  })

  it('lets the spec status win over a contradicting x_cabildo_status, and lets a consistent one refine it', () => {
    const read = fromOpen311(
      [
        { ...base, status: 'open', x_cabildo_status: 'closed' },
        { ...base, status: 'open', x_cabildo_status: 'acknowledged' },
        { ...base, status: 'closed', x_cabildo_status: 'closed' },
        { ...base, status: 'open', x_cabildo_status: 'paused' },
      ],
      options,
    )
    expect(read.tickets.map((t) => t.value.status)).toEqual(['open', 'acknowledged', 'closed', 'open'])
    expect(read.coercions.map((c) => [c.index, c.field])).toEqual([
      [0, 'x_cabildo_status'],
      [3, 'x_cabildo_status'],
    ])
  })

  it('reads a missing status as open, or as the x_cabildo_status when there is one, and reports it', () => {
    const { status: _status, ...noStatus } = base
    const read = fromOpen311([noStatus, { ...noStatus, x_cabildo_status: 'in_progress' }], options)
    expect(read.tickets.map((t) => t.value.status)).toEqual(['open', 'in_progress'])
    expect(read.coercions.map((c) => [c.field, c.to])).toEqual([
      ['status', 'open'],
      ['status', 'in_progress'],
    ])
  })

  it('keeps a field named __proto__ as an own extra field without touching prototypes', () => {
    const read = fromOpen311(`[${JSON.stringify(base).slice(0, -1)},"__proto__":{"polluted":true}}]`, options)
    const extras = read.tickets[0]?.extras ?? {}
    expect(Object.getOwnPropertyNames(extras)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(extras)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('reads x_cabildo_archived, also from the strings "true"/"false"', () => {
    const read = fromOpen311([{ ...base, x_cabildo_archived: true }, { ...base, x_cabildo_archived: 'false' }, base], options)
    expect(read.tickets.map((t) => t.archived)).toEqual([true, false, undefined])
    expect(read.coercions.map((c) => [c.index, c.field])).toEqual([[1, 'x_cabildo_archived']])
  })
})

describe('fromOpen311 typed errors', () => {
  it.each([
    ['a missing service_code', { ...base, service_code: undefined }, 'service_code', 'invalid_type'],
    ['an empty service_code', { ...base, service_code: '' }, 'service_code', 'too_small'],
    ['a non-numeric lat', { ...base, lat: 'north-ish' }, 'lat', 'invalid_type'],
    ['a lat beyond 90', { ...base, lat: 120.4 }, 'lat', 'too_big'],
    ['a long given as an object', { ...base, long: { value: 3 } }, 'long', 'invalid_type'],
    ['a date-time that is not one', { ...base, requested_datetime: '03/11/2026 08:00' }, 'requested_datetime', 'invalid_format'],
    ['an impossible date', { ...base, updated_datetime: '2026-02-31T08:00:00Z' }, 'updated_datetime', 'invalid_format'],
    ['a missing requested_datetime', { ...base, requested_datetime: undefined }, 'requested_datetime', 'invalid_type'],
    ['a media_url that is not a URL', { ...base, media_url: '/media/1.jpg' }, 'media_url', 'invalid_format'],
    ['a description given as a list', { ...base, description: ['a'] }, 'description', 'invalid_type'],
  ])('reports %s as E_SCHEMA at [index, field] and keeps the valid requests', (_name, bad, field, code) => {
    const read = fromOpen311([base, bad, base], options)
    expect(read.tickets.map((t) => t.index)).toEqual([0, 2])
    const [failure] = read.errors
    expect(failure?.index).toBe(1)
    expect(failure?.error.code).toBe('E_SCHEMA')
    expect(failure?.error.details.issues.map((issue) => [issue.path, issue.code])).toEqual([[[1, field], code]])
  })

  it('reports every faulty field of one request, not only the first', () => {
    const read = fromOpen311([{ ...base, lat: 'x', long: 200, requested_datetime: 'soon' }], options)
    expect(read.errors[0]?.error.details.issues.map((issue) => issue.path)).toEqual([
      [0, 'requested_datetime'],
      [0, 'lat'],
      [0, 'long'],
    ])
  })

  it.each([42, null, 'text', [base]])('reports a request that is not an object (%j) at its index', (bad) => {
    const read = fromOpen311([base, bad], options)
    expect(read.tickets).toHaveLength(1)
    expect(read.errors[0]?.error.details.issues).toEqual([expect.objectContaining({ path: [1], code: 'invalid_type' })])
  })

  it.each([{}, { service_requests: [] }, 42, null, '"a string"'])('throws E_PARSE (format open311) for a list that is not an array: %j', (input) => {
    const error = expectCabildoError('E_PARSE', () => fromOpen311(input, options))
    expect(error.details.format).toBe('open311')
    expect(error.details.reason).toMatch(/expected a JSON array/)
  })

  it('throws E_PARSE for text that is not JSON', () => {
    const error = expectCabildoError('E_PARSE', () => fromOpen311('[{"service_code": ', options))
    expect(error.details.format).toBe('open311')
  })

  it('throws E_ARGUMENT when the district option is missing or invalid, or the default offset is malformed', () => {
    expect(expectCabildoError('E_ARGUMENT', () => fromOpen311([], {} as never)).details.argument).toBe('options.district')
    expect(expectCabildoError('E_ARGUMENT', () => fromOpen311([], { district: '' })).details.argument).toBe('options.district')
    expect(expectCabildoError('E_ARGUMENT', () => fromOpen311([], { district: 'n', defaultOffset: '+1' })).details.argument).toBe(
      'options.defaultOffset',
    )
  })
})

describe('fromOpen311Request (strict single request)', () => {
  it('reads a bare request object or the spec\'s one-element list', () => {
    expect(fromOpen311Request(base, options).serviceRequestId).toBe('r-1')
    expect(fromOpen311Request(JSON.stringify([base]), options).value.service_code).toBe('pothole')
  })

  it('throws E_SCHEMA with the field at fault, its path starting at the given index', () => {
    const error = expectCabildoError('E_SCHEMA', () => fromOpen311Request({ ...base, lat: 'x' }, { ...options, index: 7 }))
    expect(error.path).toEqual([7, 'lat'])
    expect(error.details.issues.map((issue) => issue.path)).toEqual([[7, 'lat']])
  })

  it('throws E_SCHEMA for input that is not an object', () => {
    expect(expectCabildoError('E_SCHEMA', () => fromOpen311Request(42, options)).path).toEqual([0])
  })

  it('throws E_PARSE for a list that does not hold exactly one request', () => {
    expect(expectCabildoError('E_PARSE', () => fromOpen311Request([base, base], options)).details.reason).toContain('got a list of 2')
  })
})
