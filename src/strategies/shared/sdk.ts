/**
 * Optional SDKs (supabase-js, firebase, libp2p): a strategy loads its SDK with a dynamic
 * `import()` on its first connect, so an app that never uses the strategy need not install
 * the package, and one that forgot to is told which package to install, through the
 * room's onError, rather than failing when the module is imported.
 */
import {errorMessage, P2PError} from '../../core/errors.js'

/** Whether a failed `import()` means "the package is not installed" (Node, browsers, bundlers). */
export const isMissingModule = (error: unknown) =>
  (error as {code?: unknown})?.code === 'ERR_MODULE_NOT_FOUND' ||
  // Node, Chromium, Firefox, Safari, bundlers' "Could not resolve" / "Module not found"
  /cannot find|resolve|not found|dynamically imported|importing a module script/i.test(errorMessage(error))

/**
 * A loader for an optional SDK: runs `load` (a dynamic `import()`) once and caches it. A
 * package that is not installed rejects with a `missing-dependency` P2PError that names it.
 */
export const optionalSdk = <Sdk>(strategy: string, pkg: string, load: () => Promise<Sdk>) => {
  let loaded: Promise<Sdk> | undefined
  return (): Promise<Sdk> =>
    (loaded ??= load().catch(error => {
      throw isMissingModule(error)
        ? new P2PError('missing-dependency', `the ${strategy} strategy needs ${pkg}: npm install ${pkg}`)
        : new P2PError('strategy', `the ${strategy} strategy could not load ${pkg}: ${errorMessage(error)}`)
    }))
}
