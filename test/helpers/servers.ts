/** URLs of the local servers the test harness runs (see test/servers/README.md), by file name. */
export const servers = async (): Promise<Record<string, string>> => (await fetch('/__servers')).json()

export const stopServer = async (name: string): Promise<void> => {
  await fetch(`/__servers/${name}/stop`, {method: 'POST'})
}

/** Starts a stopped server again on the port it had, and returns its URL. */
export const startServer = async (name: string): Promise<string> =>
  (await (await fetch(`/__servers/${name}/start`, {method: 'POST'})).json()).url
