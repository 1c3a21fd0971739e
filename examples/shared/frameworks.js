// What the four framework examples share, so they are the same app in four frameworks and
// their tabs meet in one room: open the React example beside the Vue one and they chat.
import {identity, othersText} from './people.js'
import {roomSettings} from './room-settings.js'

const settings = roomSettings()

export const appId = 'p2p-elements-examples'
export const room = settings.room ?? 'frameworks'
/** Attributes for <p2p-room>: undefined leaves the library's default (no attribute set). */
export const strategy = settings.strategy
export const relayUrls = settings.relayUrls?.join(' ')
/**
 * The `config` property: an object, so it goes through a property, never an attribute.
 * Merged over the attributes by <p2p-room>. (A password written in public source keeps
 * no secret: it is here to show an object reaching the element. A real app asks its users
 * for one, or passes `rtcConfig`/`turnConfig` this way.)
 */
export const config = {password: 'framework-examples'}

/** This tab's name and colour, bound to <p2p-room name color>: the others see them (presence). */
export const {name, color} = identity()

/** Who else is here, in the same words as the plain pages: "1 other tab here." */
export {othersText}

/** A message's sender as the elements show it: the event's `from` label (name, "(you)", fingerprint). */
export const sender = detail => ({from: detail.from.text, color: detail.from.color})
