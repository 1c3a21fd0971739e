/**
 * The elements' design tokens and shared rules, defined once. Each token is a CSS custom
 * property with its default, as every element uses it (`var(--p2p-gap, 0.5rem)`): set
 * `--p2p-gap` anywhere above an element (or on one of its parts) to change it.
 */
import {css} from 'lit'

export const tokens = {
  font: css`var(--p2p-font, inherit)`,
  text: css`var(--p2p-text, inherit)`,
  muted: css`var(--p2p-muted, #6b7280)`,
  accent: css`var(--p2p-accent, #2563eb)`,
  accentText: css`var(--p2p-accent-text, #fff)`,
  surface: css`var(--p2p-surface, transparent)`,
  border: css`var(--p2p-border, #d1d5db)`,
  radius: css`var(--p2p-radius, 8px)`,
  error: css`var(--p2p-error, #dc2626)`,
  gap: css`var(--p2p-gap, 0.5rem)`,
}

/** Rules every element with a shadow root starts from: its box, font, focus ring and problem messages. */
export const sharedStyles = css`
  :host {
    display: block;
    font: ${tokens.font};
  }
  button:focus-visible,
  select:focus-visible,
  a:focus-visible {
    outline: 2px solid ${tokens.accent};
    outline-offset: 2px;
  }
  [part~='message'] {
    color: ${tokens.error};
  }
`
