// Generates custom-elements.json, the machine-readable docs of every element (attributes,
// properties, methods, events, parts, slots, CSS properties) for editors and doc tools:
//   npx custom-elements-manifest analyze --config custom-elements-manifest.config.mjs
// It reads the JSDoc tags (@fires, @csspart, @cssprop, @slot) and Lit decorators in the source.
import {readFileSync} from 'node:fs'

/** attributes.appId -> 'app-id', read from the constants module the elements use. */
const attributeNames = Object.fromEntries(
  [
    ...readFileSync('src/elements/names.ts', 'utf8')
      .split('export const attributes')[1]
      .matchAll(/(\w+): '([a-z-]+)'/g),
  ].map(([, key, name]) => [key, name]),
)

/** Field name -> attribute name for each `@property({attribute: attributes.X, ...}) field` in a source file. */
const attributesOf = path =>
  Object.fromEntries(
    [...readFileSync(path, 'utf8').matchAll(/@property\(\{attribute: attributes\.(\w+)[^)]*\)\s+(\w+)/g)].map(
      ([, key, field]) => [field, attributeNames[key]],
    ),
  )

export default {
  globs: ['src/elements/p2p-*.ts'],
  outdir: '.',
  litelement: true,
  // Only the elements: the classes the tags are defined with come from define.ts.
  dependencies: false,
  plugins: [
    {
      // The tags are defined in define.ts through constants, which the analyzer cannot follow:
      // each element file is named as its tag, so take the tag from there.
      name: 'p2p-names',
      packageLinkPhase({customElementsManifest}) {
        for (const module of customElementsManifest.modules) {
          const tag = module.path.match(/(p2p-[a-z-]+)\.ts$/)?.[1]
          const attributes = attributesOf(module.path)
          for (const declaration of module.declarations ?? []) {
            if (!declaration.customElement || !tag) continue
            declaration.tagName = tag
            // Attribute names come from constants (attributes.appId), which the analyzer cannot follow.
            for (const attribute of declaration.attributes ?? [])
              if (attributes[attribute.fieldName]) attribute.name = attributes[attribute.fieldName]
            // Private state and helpers are not part of the API a user sees.
            declaration.members = (declaration.members ?? []).filter(
              m => m.privacy !== 'private' && !m.name.startsWith('#'),
            )
            for (const member of declaration.members)
              if (member.attribute && attributes[member.name]) member.attribute = attributes[member.name]
            module.exports = [
              ...(module.exports ?? []),
              {
                kind: 'custom-element-definition',
                name: tag,
                declaration: {name: declaration.name, module: module.path},
              },
            ]
          }
        }
      },
    },
  ],
}
