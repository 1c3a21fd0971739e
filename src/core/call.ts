/**
 * Runs an app's callback. If it throws, the error is rethrown on its own task: the app
 * still sees it (console, window.onerror), but it never unwinds into the room's state.
 */
export const callSafely = (callback: () => void): void => {
  try {
    callback()
  } catch (error) {
    setTimeout(() => {
      throw error
    })
  }
}
