/**
 * Lit's `@property`, with the attribute name checked against names.ts: the elements write
 * attribute names as string literals (which the custom-elements manifest analyzer reads as
 * they are), and a name that is not in `attributes` is a type error.
 */
import type {PropertyDeclaration} from 'lit'
import {property as litProperty} from 'lit/decorators.js'
import type {AttributeName} from './names.js'

export const property = (options: PropertyDeclaration & {attribute: AttributeName | false}) => litProperty(options)
