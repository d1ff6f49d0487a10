/**
 * A simulated disk over cabildo's file store, for the simulator in Node: each incarnation of a
 * district opens a directory; a crash copies that directory, at that instant, to the next
 * incarnation's (what a killed process leaves on disk: every write it had made, fsynced or not,
 * and a torn tail where a write was in flight). Lock files stay behind: their process is dead.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createFileStorage } from '../../src/node/file-storage'
import type { SimulatedDiskFactory } from '../../src/testing/simulator/simulated-disk'

/** Disks under `root` (one folder per district, one per incarnation). */
export function fileDisks(root: string): SimulatedDiskFactory {
  return (district) => {
    let incarnation = 0
    const directory = (): string => join(root, district, String(incarnation))
    return {
      storage: () => createFileStorage({ directory: directory() }),
      crash() {
        const from = directory()
        incarnation++
        if (existsSync(from)) cpSync(from, directory(), { recursive: true, filter: (source) => !basename(source).includes('@lock') })
        else mkdirSync(directory(), { recursive: true })
      },
      dispose: async () => rmSync(join(root, district), { recursive: true, force: true }),
    }
  }
}
