import {expect} from '@open-wc/testing'
import mqtt from 'mqtt'
import {openPeers, testConfig, uniqueRoom, until} from './helpers/peers.js'
import {servers} from './helpers/servers.js'
import {decrypt, deriveKey, encrypt, topicOf} from '../src/core/crypto.js'
import {createIdentity, sign, toBase64Url} from '../src/core/identity.js'
import {parseEnvelope, signedText} from '../src/core/signaling.js'

const entry = '/src/strategies/mqtt.ts'
let relayUrl: string
before(async () => {
  relayUrl = (await servers()).mqtt!
})
const config = (extra: Record<string, unknown> = {}) => ({
  ...testConfig,
  relayUrls: [relayUrl],
  relayRedundancy: 1,
  ...extra,
})

type Side = {room: any; joins: string[]; errors: any[]}
const join = (page: any, roomId: string, extra: Record<string, unknown> = {}, callbacks: any = {}): Side => {
  const side: Side = {room: undefined, joins: [], errors: []}
  side.room = page.lib.joinRoom(config(extra), roomId, {...callbacks, onJoinError: (e: any) => side.errors.push(e)})
  side.room.onPeerJoin((id: string) => side.joins.push(id))
  return side
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** A challenge/response handshake, as in Trystero's README. */
const challenge =
  (secret: string) =>
  async (_: string, send: (d: unknown) => Promise<void>, receive: () => Promise<{data: any}>, isInitiator: boolean) => {
    if (isInitiator) {
      await send({challenge: 'prove-it'})
      const {data} = await receive()
      if (data?.response !== secret) throw new Error('wrong response')
    } else {
      const {data} = await receive()
      if (data?.challenge !== 'prove-it') throw new Error('no challenge')
      await send({response: secret})
    }
  }

describe('onPeerHandshake', () => {
  it('a peer joins only once both handshakes resolve; nothing reaches it before', async () => {
    const [a, b] = await openPeers(2, entry)
    const roomId = uniqueRoom('hs')
    let release!: () => void
    const gate = new Promise<void>(resolve => (release = resolve))
    const A = join(a, roomId, {}, {onPeerHandshake: challenge('s3cret')})
    const B = join(b, roomId)
    const got: unknown[] = []
    A.room.makeAction('x')[1]((d: unknown) => got.push(d))
    B.room.onPeerHandshake(async (...args: any[]) => {
      await (challenge('s3cret') as any)(...args)
      await gate
    })
    // B's handshake has passed A's check but not resolved: neither side lists the other yet.
    await sleep(1500)
    expect(A.joins).to.deep.equal([])
    expect(B.joins).to.deep.equal([])
    expect(Object.keys(A.room.getPeers())).to.deep.equal([])
    release()
    await until(() => A.joins.length && B.joins.length, 'both sides to join after the handshake')
    expect(A.joins).to.deep.equal([B.room.selfId])
    await B.room.makeAction('x')[0]('after')
    await until(() => got.length, 'a message after the join')
    expect(got).to.deep.equal(['after'])
    await A.room.leave()
    await B.room.leave()
    a!.close()
    b!.close()
  })

  it('a rejected handshake closes the peer with a "handshake" join error and no join', async () => {
    const [a, b] = await openPeers(2, entry)
    const roomId = uniqueRoom('hs-reject')
    const A = join(a, roomId, {}, {onPeerHandshake: challenge('right')})
    const B = join(b, roomId, {}, {onPeerHandshake: challenge('wrong')})
    await until(() => A.errors.length || B.errors.length, 'a handshake join error')
    await sleep(500)
    const errors = [...A.errors, ...B.errors]
    expect(errors.every(e => e.code === 'handshake')).to.equal(true)
    expect(errors[0].error).to.match(/handshake/)
    expect(A.joins).to.deep.equal([])
    expect(B.joins).to.deep.equal([])
    expect(Object.keys(A.room.getPeers())).to.deep.equal([])
    await A.room.leave()
    await B.room.leave()
    a!.close()
    b!.close()
  })

  it('a handshake that never resolves times out after handshakeTimeoutMs with a "handshake" join error', async () => {
    const [a, b] = await openPeers(2, entry)
    const roomId = uniqueRoom('hs-timeout')
    const A = join(a, roomId, {}, {handshakeTimeoutMs: 800})
    A.room.onPeerHandshake(() => new Promise(() => {}))
    const B = join(b, roomId, {handshakeTimeoutMs: 800})
    await until(() => A.errors.length, "a's handshake to time out")
    expect(A.errors[0].code).to.equal('handshake')
    expect(A.errors[0].error).to.match(/timed out after 800 ms/)
    expect(A.errors[0].peerId).to.equal(B.room.selfId)
    expect(A.joins).to.deep.equal([])
    expect(B.joins).to.deep.equal([])
    await A.room.leave()
    await B.room.leave()
    a!.close()
    b!.close()
  })
})

describe('verify gate', () => {
  it('verify admits peers with good credentials and refuses the others, who get a "rejected" join error', async () => {
    const [a, good, bad] = await openPeers(3, entry)
    const roomId = uniqueRoom('verify')
    const seen: unknown[] = []
    const A = join(a, roomId, {
      verify: async (_: string, credentials: any) => (seen.push(credentials), credentials?.token === 'let-me-in'),
    })
    const G = join(good, roomId, {credentials: {token: 'let-me-in'}})
    const B = join(bad, roomId, {credentials: {token: 'guess'}})
    await until(() => A.joins.includes(G.room.selfId) && B.errors.length, 'good to join and bad to be refused')
    await sleep(500)
    expect(B.errors[0].code).to.equal('rejected')
    expect(B.errors[0].peerId).to.equal(A.room.selfId)
    expect(A.joins).not.to.include(B.room.selfId)
    expect(Object.keys(A.room.getPeers())).to.deep.equal([G.room.selfId])
    expect(seen).to.deep.include({token: 'guess'})
    for (const side of [A, G, B]) await side.room.leave()
    for (const page of [a, good, bad]) page!.close()
  })
})

describe('identity theft', () => {
  it("a password holder cannot claim a connected peer's id or replace its connection", async () => {
    const [a, v] = await openPeers(2, entry)
    const roomId = uniqueRoom('theft')
    const password = 'shared-by-everyone'
    const fast = {password, announceIntervalMs: 500, announceMaxIntervalMs: 1000}
    const A = join(a, roomId, fast)
    const V = join(v, roomId, fast)
    await until(() => A.room.getPeers()[V.room.selfId] && V.room.getPeers()[A.room.selfId], 'a and v to connect')
    const victim = V.room.selfId
    const connection = A.room.getPeers()[victim]
    const victimKey = A.room.getPeerKey(victim)

    // The attacker knows the password, reads the relay, and has an identity of its own.
    const appId = testConfig.appId
    const key = await deriveKey(appId, roomId, password)
    const roomTopic = await topicOf(appId, roomId)
    const aTopic = await topicOf(appId, roomId, A.room.selfId)
    const attacker = await createIdentity()
    const client = mqtt.connect(relayUrl)
    const heard: string[] = []
    client.on('message', (_topic: string, payload: Uint8Array) => heard.push(new TextDecoder().decode(payload)))
    await new Promise<void>(resolve => client.on('connect', () => client.subscribe(roomTopic, () => resolve())))
    const announced = (id: string) => heard.some(text => parseEnvelope(text).value?.from === id)
    await until(() => announced(victim) && announced(A.room.selfId), 'the next announces of v and a')
    const announce = parseEnvelope(heard.find(text => parseEnvelope(text).value?.from === victim))!.value!
    const aAnnounce = heard.map(text => parseEnvelope(text).value).find(e => e?.from === A.room.selfId)
    const aSession = aAnnounce ? JSON.parse(await decrypt(key, aAnnounce.sealed)).session : 'x'.repeat(16)

    // A newer session "of v": an offer with an SDP ending at the attacker.
    const pc = new RTCPeerConnection({iceServers: []})
    pc.createDataChannel('p2p-elements', {negotiated: true, id: 0})
    await pc.setLocalDescription(await pc.createOffer())
    const forge = async (keyText: string, signer = attacker) => {
      const ts = Date.now()
      const inner = {
        t: 'offer',
        from: victim,
        to: A.room.selfId,
        ts,
        session: 'Z'.repeat(16),
        since: ts,
        peerSession: aSession,
        sdp: {type: 'offer', sdp: pc.localDescription!.sdp},
      }
      const head = {
        v: 2,
        t: 'offer',
        from: victim,
        to: A.room.selfId,
        ts,
        key: keyText,
        sealed: await encrypt(key, JSON.stringify(inner)),
      }
      const sig = toBase64Url(await sign(signer, new TextEncoder().encode(signedText(roomTopic, head as any))))
      client.publish(aTopic, JSON.stringify({...head, sig}))
    }
    await forge(announce.key) // v's public key, the attacker's signature: the signature fails
    await forge(attacker.publicKeyText) // the attacker's key: the id is not that key's
    // ...and v's own old announce again, replayed.
    client.publish(roomTopic, heard.find(text => parseEnvelope(text).value?.from === victim)!)
    await sleep(2000)
    expect(A.room.getPeers()[victim]).to.equal(connection)
    expect(connection.connectionState).to.equal('connected')
    expect(A.room.getPeerKey(victim)).to.equal(victimKey)
    expect(A.joins).to.deep.equal([victim])
    expect(A.errors).to.deep.equal([])
    expect(pc.remoteDescription).to.equal(null)
    pc.close()
    client.end(true)
    await A.room.leave()
    await V.room.leave()
    a!.close()
    v!.close()
  })
})
