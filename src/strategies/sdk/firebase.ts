/**
 * The parts of the firebase SDK the firebase strategy uses, loaded with `import()` on its
 * first connect so `firebase` is an optional peer dependency.
 */
export {deleteApp, initializeApp} from 'firebase/app'
export {getDatabase, onChildAdded, onDisconnect, onValue, push, ref, remove, set} from 'firebase/database'
