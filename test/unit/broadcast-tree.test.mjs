// The viewer relay tree as a pure state machine: thousands of simulated viewers, no I/O.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {ROOT, createTree, depth, pathTo, step, subtree, viewers} from '../../dist/lib/core/broadcast/tree.js'

const run = (state, events) => {
  const out = []
  for (const event of events) {
    const result = step(state, event)
    state = result.state
    out.push(...result.out)
  }
  return {state, out}
}
const joins = ids => ids.map(id => ({type: 'join', id}))

/** Every node has at most `fanout` children, every viewer reaches the root, no cycles. */
const checkInvariants = state => {
  for (const [node, children] of state.children) {
    assert.ok(children.length <= state.fanout, `${node || 'root'} has ${children.length} children`)
    for (const child of children) assert.equal(state.parent.get(child), node)
  }
  for (const id of state.parent.keys()) assert.ok(pathTo(state, id), `${id} reaches the root`)
}

test('fanout 2 with 7 viewers: the root serves exactly 2, breadth first', () => {
  const {state, out} = run(createTree(2), joins(['a', 'b', 'c', 'd', 'e', 'f', 'g']))
  assert.deepEqual(state.children.get(ROOT), ['a', 'b'])
  assert.deepEqual(state.children.get('a'), ['c', 'd'])
  assert.deepEqual(state.children.get('b'), ['e', 'f'])
  assert.deepEqual(state.children.get('c'), ['g'])
  assert.equal(depth(state), 3)
  assert.deepEqual(
    out.map(o => [o.type, o.parent, o.child]),
    [
      ['adopt', ROOT, 'a'],
      ['adopt', ROOT, 'b'],
      ['adopt', 'a', 'c'],
      ['adopt', 'a', 'd'],
      ['adopt', 'b', 'e'],
      ['adopt', 'b', 'f'],
      ['adopt', 'c', 'g'],
    ],
  )
  checkInvariants(state)
})

test('an inner viewer leaves: its children re-attach with their subtrees, outside them', () => {
  let {state} = run(createTree(2), joins(['a', 'b', 'c', 'd', 'e', 'f', 'g']))
  const result = step(state, {type: 'leave', id: 'a'})
  state = result.state
  assert.deepEqual(
    result.out.map(o => [o.type, o.parent, o.child]),
    [
      ['adopt', ROOT, 'c'],
      ['adopt', 'c', 'd'],
    ],
  )
  assert.equal(state.parent.get('g'), 'c', 'c keeps its own child')
  assert.ok(!state.parent.has('a') && !state.children.has('a'))
  assert.equal(viewers(state).length, 6)
  checkInvariants(state)
})

test('a viewer that asks again is moved: its old parent drops it', () => {
  let {state} = run(createTree(2), joins(['a', 'b', 'c']))
  const result = step(state, {type: 'join', id: 'c'})
  assert.deepEqual(
    result.out.map(o => [o.type, o.parent, o.child]),
    [
      ['drop', 'a', 'c'],
      ['adopt', 'a', 'c'],
    ],
  )
  state = result.state
  checkInvariants(state)
})

test('a star without fanout: everyone under the root', () => {
  const {state} = run(createTree(), joins(Array.from({length: 50}, (_, i) => `v${i}`)))
  assert.equal(state.children.get(ROOT).length, 50)
  assert.equal(depth(state), 1)
})

test('3,000 random joins and leaves at random keep the tree whole, shallow and within fanout', () => {
  let seed = 42
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  let state = createTree(3)
  const present = []
  let next = 0
  for (let i = 0; i < 3_000; i++) {
    if (present.length && random() < 0.3) {
      const [id] = present.splice(Math.floor(random() * present.length), 1)
      state = step(state, {type: 'leave', id}).state
    } else {
      const id = `v${next++}`
      present.push(id)
      state = step(state, {type: 'join', id}).state
    }
  }
  checkInvariants(state)
  assert.equal(viewers(state).length, present.length)
  assert.equal(state.children.get(ROOT).length, 3)
  // Balanced enough: no deeper than twice the ideal log_3 depth.
  assert.ok(depth(state) <= 2 * Math.ceil(Math.log(present.length * 2 + 1) / Math.log(3)), `depth ${depth(state)}`)
})

test('leave of an unknown viewer, join of the root: nothing to do', () => {
  const state = createTree(2)
  assert.deepEqual(step(state, {type: 'leave', id: 'x'}).out, [])
  assert.deepEqual(step(state, {type: 'join', id: ROOT}).out, [])
  assert.deepEqual([...subtree(state, ROOT)], [ROOT])
  assert.throws(() => createTree(0), RangeError)
})
