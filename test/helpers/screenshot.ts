import {executeServerCommand} from '@web/test-runner-commands'

/** Saves the whole test page as test-artifacts/NAME.png (kept by CI as an artifact). */
export const screenshot = (name: string) => executeServerCommand('screenshot', {name})
