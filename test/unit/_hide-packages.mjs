// Preloaded with `node --import` by strategies-builder.test.mjs: makes the packages named in
// HIDE_PACKAGES (comma-separated) unresolvable, as in an app that did not install them.
import {register} from 'node:module'

register(
  `data:text/javascript,${encodeURIComponent(`
    const hidden = new Set((process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean))
    export async function resolve(specifier, context, next) {
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
      if (hidden.has(name)) {
        const error = new Error(\`Cannot find package '\${name}' imported from \${context.parentURL}\`)
        error.code = 'ERR_MODULE_NOT_FOUND'
        throw error
      }
      return next(specifier, context)
    }
  `)}`,
)
