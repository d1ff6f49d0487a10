import { describe, expect, it } from 'vitest'
import { readVendorStatus, toGeoReportStatus } from '../../../src/civic/open311/lifecycle-mapping'

describe('toGeoReportStatus', () => {
  it('projects open, acknowledged and in_progress onto open, and closed onto closed', () => {
    expect(toGeoReportStatus('open')).toBe('open')
    expect(toGeoReportStatus('acknowledged')).toBe('open')
    expect(toGeoReportStatus('in_progress')).toBe('open')
    expect(toGeoReportStatus('closed')).toBe('closed')
  })
})

describe('readVendorStatus', () => {
  it.each([
    ['open', 'open'],
    ['OPEN', 'open'],
    ['Received', 'open'],
    ['New', 'open'],
    ['Submitted', 'open'],
    ['Re-opened', 'open'],
    ['acknowledged', 'acknowledged'],
    ['Acknowledged', 'acknowledged'],
    ['Assigned', 'acknowledged'],
    ['Open - Assigned', 'acknowledged'],
    ['In Progress', 'in_progress'],
    ['in_progress', 'in_progress'],
    ['Work In Progress', 'in_progress'],
    ['Open: In Progress', 'in_progress'],
    ['Scheduled', 'in_progress'],
    ['closed', 'closed'],
    ['Closed - Completed', 'closed'],
    ['Closed - Duplicate', 'closed'],
    ['Closed/Referred', 'closed'],
    ['Resolved', 'closed'],
    ['Completed', 'closed'],
    ['Cancelled', 'closed'],
    ['  closed  ', 'closed'],
  ])('reads %j as %s', (word, state) => {
    expect(readVendorStatus(word)).toBe(state)
  })

  it('lets a later part refine open but never turn closed into open', () => {
    expect(readVendorStatus('Closed - Reopened')).toBe('closed')
    expect(readVendorStatus('Acknowledged - Closed')).toBe('acknowledged')
  })

  it.each(['Referred to utility', 'on hold', '', '42', '-'])('returns undefined for the unrecognised word %j', (word) => {
    expect(readVendorStatus(word)).toBeUndefined()
  })
})
