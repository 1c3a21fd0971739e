// Generates custom-elements.json, the machine-readable docs of every element (attributes,
// properties, methods, events, parts, slots, CSS properties) for editors and doc tools:
//   npx custom-elements-manifest analyze --config custom-elements-manifest.config.mjs
// It reads the JSDoc tags (@tag, @fires, @csspart, @cssprop, @slot, @deprecated) and the Lit
// decorators in the source as they are: attribute names are string literals there (checked
// against names.ts by the type of `property`), and each element says its tag with `@tag`.

export default {
  // The elements, and the base class their shared attributes and properties come from.
  globs: ['src/elements/p2p-*.ts', 'src/elements/room-member.ts'],
  outdir: '.',
  litelement: true,
  dependencies: false,
  plugins: [
    {
      name: 'p2p-elements',
      packageLinkPhase({customElementsManifest}) {
        for (const module of customElementsManifest.modules) {
          // The analyzer lists some local variables of a module (e.g. one inside a function): only exports are API.
          const exported = new Set((module.exports ?? []).map(e => e.declaration?.name))
          module.declarations = (module.declarations ?? []).filter(d => d.kind !== 'variable' || exported.has(d.name))
          for (const declaration of module.declarations ?? []) {
            if (declaration.kind !== 'class') continue
            // Private and protected state and helpers are not part of the API a user sees.
            declaration.members = (declaration.members ?? []).filter(
              member => member.privacy !== 'private' && member.privacy !== 'protected' && !member.name.startsWith('#'),
            )
            if (!declaration.customElement) continue
            // Each element file is named as its tag: a @tag that says otherwise is a mistake.
            const tag = module.path.match(/(p2p-[a-z-]+)\.ts$/)?.[1]
            if (declaration.tagName !== tag)
              throw new Error(`${module.path}: @tag ${declaration.tagName} does not match the file name (${tag})`)
            // define.ts registers the tags from a list, which the analyzer does not follow.
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
