/**
 * The design tokens of the elements and of the example pages, defined once. Each token is a
 * CSS custom property with its default, as every element uses it (`var(--p2p-gap, 0.5rem)`):
 * set `--p2p-gap` anywhere above an element (or on one of its parts) to change it.
 *
 * Colours come in pairs through `light-dark()`: the elements follow the page's `color-scheme`,
 * so a page with `color-scheme: light dark` (every example has it) follows the system's
 * `prefers-color-scheme`; a page that declares none stays light. Every text/background pair
 * here passes WCAG AA (4.5:1) in both schemes; the browser tests check it with axe-core.
 *
 * examples/shared/style.css declares the same properties with the same values on `:root`
 * (test/unit/design-tokens.test.mjs keeps the two in step), so pages and elements share one look.
 */
import {css, unsafeCSS} from 'lit'

/** Every token's default value, by custom-property name. */
export const tokenDefaults = {
  '--p2p-font': 'inherit',
  '--p2p-text': 'light-dark(#111827, #e5e7eb)',
  '--p2p-muted': 'light-dark(#4b5563, #9ca3af)',
  '--p2p-background': 'light-dark(#ffffff, #0f141c)',
  '--p2p-surface': 'light-dark(#f6f7f9, #18202b)',
  '--p2p-border': 'light-dark(#d1d5db, #3b4656)',
  '--p2p-accent': 'light-dark(#2454d6, #7aa7ff)',
  '--p2p-accent-text': 'light-dark(#ffffff, #0b1220)',
  '--p2p-error': 'light-dark(#b91c1c, #fca5a5)',
  '--p2p-success': 'light-dark(#15803d, #86efac)',
  '--p2p-good': '#16a34a',
  '--p2p-fair': '#d97706',
  '--p2p-poor': '#dc2626',
  '--p2p-focus': 'light-dark(#2454d6, #7aa7ff)',
  '--p2p-radius': '8px',
  '--p2p-gap': '0.5rem',
} as const

export type TokenName = keyof typeof tokenDefaults

/** `var(--p2p-NAME, default)` for one token. */
const token = (name: TokenName) => unsafeCSS(`var(${name}, ${tokenDefaults[name]})`)

export const tokens = {
  font: token('--p2p-font'),
  text: token('--p2p-text'),
  muted: token('--p2p-muted'),
  background: token('--p2p-background'),
  surface: token('--p2p-surface'),
  border: token('--p2p-border'),
  accent: token('--p2p-accent'),
  accentText: token('--p2p-accent-text'),
  error: token('--p2p-error'),
  success: token('--p2p-success'),
  good: token('--p2p-good'),
  fair: token('--p2p-fair'),
  poor: token('--p2p-poor'),
  focus: token('--p2p-focus'),
  radius: token('--p2p-radius'),
  gap: token('--p2p-gap'),
}

/** Rules every element with a shadow root starts from: its box, font, focus ring, buttons and problem messages. */
export const sharedStyles = css`
  :host {
    display: block;
    font: ${tokens.font};
    color: ${tokens.text};
  }
  :host([hidden]) {
    display: none;
  }
  button:focus-visible,
  select:focus-visible,
  a:focus-visible,
  [tabindex]:focus-visible {
    outline: 2px solid ${tokens.focus};
    outline-offset: 2px;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  .button {
    padding: 0.4em 0.9em;
    border: 0;
    border-radius: ${tokens.radius};
    background: ${tokens.accent};
    color: ${tokens.accentText};
  }
  .button.quiet {
    background: transparent;
    color: ${tokens.text};
    box-shadow: inset 0 0 0 1px ${tokens.border};
  }
  [part~='message'] {
    color: ${tokens.error};
  }
`
