/**
 * An {@link IdentityStore} in a file: the private JWK as JSON, readable by its owner only (mode
 * 0o600), replaced atomically so that a crash leaves either the old key or the new one, never a
 * torn file.
 *
 * ```ts
 * import { loadOrCreateIdentity } from 'cabildo'
 * import { fileIdentityStore } from 'cabildo/node'
 * const me = await loadOrCreateIdentity(fileIdentityStore('./data/identity.jwk.json'))
 * ```
 *
 * Writing: a temporary file in the same directory, `fsync`, then `rename` over the target (or
 * `link` for `saveIfAbsent`, which fails if the target exists), then `fsync` of the directory so
 * the new name itself survives a power loss.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CabildoError } from '../errors'
import type { IdentityStore, StoredKey } from '../identity/identity-store'

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

function storageError(operation: string, path: string, err: unknown): CabildoError<'E_STORAGE'> {
  const cause = err instanceof Error ? err.message : String(err)
  return new CabildoError('E_STORAGE', `Identity file ${operation} failed: ${cause}`, { operation, key: path, cause }, { cause: err })
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is durable without it.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes `text` to a fresh temporary file next to `path`, durably; returns its name. */
async function writeTemp(path: string, text: string): Promise<string> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  return temp
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch {
    // Already gone, or never created: nothing to clean.
  }
}

/**
 * A store that keeps the key as JSON in the file at `path` (its directory is created if needed).
 * @param path - the key file, e.g. `./data/identity.jwk.json`
 */
export function fileIdentityStore(path: string): IdentityStore {
  async function load(): Promise<StoredKey | undefined> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return undefined
      throw storageError('read', path, err)
    }
    try {
      return JSON.parse(text) as StoredKey
    } catch {
      throw new CabildoError('E_KEY', `The identity file ${path} is not JSON`, { reason: 'the identity file is not JSON' })
    }
  }

  return {
    load,
    async save(key) {
      let temp: string | undefined
      try {
        temp = await writeTemp(path, JSON.stringify(key))
        await rename(temp, path)
        temp = undefined
        await fsyncDirectory(dirname(path))
      } catch (err) {
        throw storageError('save', path, err)
      } finally {
        if (temp !== undefined) await removeQuietly(temp)
      }
    },
    async saveIfAbsent(key) {
      let temp: string | undefined
      try {
        temp = await writeTemp(path, JSON.stringify(key))
        // link() fails with EEXIST when the target exists: an atomic "create if absent" that
        // still never exposes a half-written file.
        await link(temp, path)
        await fsyncDirectory(dirname(path))
        return { ...key }
      } catch (err) {
        if (codeOf(err) !== 'EEXIST') throw storageError('saveIfAbsent', path, err)
      } finally {
        if (temp !== undefined) await removeQuietly(temp)
      }
      const existing = await load()
      if (existing === undefined) throw storageError('saveIfAbsent', path, 'the key file vanished while being read')
      return existing
    },
  }
}
