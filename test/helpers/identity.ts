import type {Room} from '../../src/core/index.js'
import type {TestPeer, TestRoomConfig} from './peers.js'

/** The core module as `page` imports it: its own realm, as a page reopened by a user has. */
export const coreOf = (page: TestPeer): Promise<any> =>
  new page.window.Function('return import("/src/core/index.ts")')()

/** A new identity made in `page`, exported as JSON: what an app stores to be the same peer after a reload. */
export const storedIdentity = async (page: TestPeer): Promise<unknown> => {
  const core = await coreOf(page)
  return core.exportIdentity(await core.createIdentity({extractable: true}))
}

/**
 * Joins `roomId` from `page` as the stored identity `json`: the same peer id in any page that
 * loads it (a reopened page, or the same page joining again).
 */
export const joinAs = async (page: TestPeer, json: unknown, config: TestRoomConfig, roomId: string): Promise<Room> =>
  page.lib.joinRoom({...config, identity: await (await coreOf(page)).importIdentity(json)}, roomId)
