/** What a broadcast test page imports: the broadcast module and, on demand, a strategy. */
export * from '../../src/core/broadcast/index.js'

export const loadStrategy = async (name: string) => {
  const modules: Record<string, () => Promise<{strategy: unknown}>> = {
    mqtt: () => import('../../src/strategies/mqtt.js'),
    nostr: () => import('../../src/strategies/nostr.js'),
    local: () => import('../../src/strategies/local.js'),
    driver: () => import('../../src/strategies/driver.js'),
  }
  return (await modules[name]!()).strategy
}
