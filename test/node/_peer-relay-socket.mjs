// PeerRelay.Socket in its own process, as dgram code would use it: bind, address, send with
// offset/length, a message event, close(cb) and close() without a callback. Prints one line
// per step for test/node/peer-relay-api.test.mjs.
import PeerRelay from '../../dist/lib/peer-relay/index.js'

const [bootstrap] = process.argv.slice(2)
const a = new PeerRelay.Socket({bootstrap: [bootstrap]})
const b = new PeerRelay.Socket({bootstrap: [bootstrap]})
b.bind(4242, () => console.log('bound'))
await new Promise(resolve => b.once('listening', resolve))
await Promise.all([a.peer.ready, b.peer.ready])
const address = b.address()
console.log(`address ${address.address === b.peer.id} ${address.port} ${address.family}`)
while (!a.peer.members().includes(b.peer.id)) await new Promise(resolve => setTimeout(resolve, 50))
const got = new Promise(resolve => b.on('message', (buffer, rinfo) => resolve([buffer.toString(), rinfo])))
a.send(Buffer.from('xxhello dgramxx'), 2, 11, 4242, b.peer.id, (error, bytes) => console.log(`sent ${error} ${bytes}`))
const [text, rinfo] = await got
console.log(`message ${text} from-a ${rinfo.address === a.peer.id} ${rinfo.family}`)
a.close(() => console.log('closed with callback'))
await new Promise(resolve => a.once('close', resolve))
b.on('close', () => console.log('closed without callback'))
b.close()
