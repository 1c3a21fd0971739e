// esbuild options for a minified browser ES module, shared by the build and by test servers
// that bundle a strategy the way users' bundlers see it.
import {inlineSdk} from './inline-sdk.mjs'

export const browserBundle = {
  plugins: [inlineSdk()],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  conditions: ['browser', 'production'],
  define: {'process.env.NODE_ENV': '"production"', global: 'globalThis'},
  legalComments: 'none',
  logLevel: 'warning',
}
