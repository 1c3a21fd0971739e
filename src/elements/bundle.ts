/**
 * What `<script type="module" src="dist/p2p-elements.js">` runs: defines every element.
 * Strategies are separate chunks, loaded when a <p2p-room> first asks for one.
 */
export * from './define.js'
