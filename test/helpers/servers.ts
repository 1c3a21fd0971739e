/** URLs of the local servers the test harness runs (see test/servers/README.md), by file name. */
export const servers = async (): Promise<Record<string, string>> => (await fetch('/__servers')).json()

/** A server instance one test owns: it may stop and restart it without disturbing other tests. */
export type PrivateServer = {
  url: string
  /** Stops it (the port stays reserved for `start`). */
  stop: () => Promise<void>
  /** Starts it again on the same port, so the same URL. */
  start: () => Promise<void>
  /** Stops it for good; call it when the test ends. */
  dispose: () => Promise<void>
}

/** Starts a new instance of the server `name` (a file in test/servers/) for the calling test alone. */
export const privateServer = async (name: string): Promise<PrivateServer> => {
  const {id, url} = await (await fetch(`/__servers/${name}/private`, {method: 'POST'})).json()
  const post = async (verb: string) =>
    void (await fetch(`/__servers/${encodeURIComponent(id)}/${verb}`, {method: 'POST'}))
  return {url, stop: () => post('stop'), start: () => post('start'), dispose: () => post('dispose')}
}
